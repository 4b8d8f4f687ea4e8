"""Image references as clients send them: ``{url}``, ``{fileKey}``, ``{id}``, ``{source}``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tryon.errors import ApiError, ErrorDetail, validation_error

MAX_URL_LENGTH = 2048
MAX_PRODUCT_IMAGES = 10


@dataclass(frozen=True)
class ImageSource:
    """Exactly one of the three is set."""

    url: str | None = None
    file_key: str | None = None
    image_id: str | None = None


def _invalid(path: str, message: str) -> ApiError:
    return ApiError("INVALID_IMAGE_INPUT", f"{path}: {message}", [ErrorDetail(path, message)])


def parse_image_entry(entry: Any, path: str, *, allow_id: bool = False) -> ImageSource:
    """One image entry; neither or several sources -> INVALID_IMAGE_INPUT."""
    names = ("url", "fileKey", "id") if allow_id else ("url", "fileKey")
    wanted = " or ".join(names)
    if not isinstance(entry, dict):
        raise _invalid(path, f"must be an object with {wanted}")
    if "source" in entry:
        if set(entry) - {"source"}:
            raise _invalid(path, f"give either source or {'/'.join(names)}, not both")
        path, entry = f"{path}.source", entry["source"]
        if not isinstance(entry, dict):
            raise _invalid(path, f"must be an object with {wanted}")
    present = [name for name in names if entry.get(name) is not None]
    if len(present) != 1:
        raise _invalid(path, f"needs exactly one of {wanted}")
    name = present[0]
    value = entry[name]
    if not isinstance(value, str) or not value:
        raise validation_error(f"{path}.{name}", "must be a non-empty string")
    if name == "url":
        return ImageSource(url=_checked_url(value, f"{path}.url"))
    if name == "fileKey":
        return ImageSource(file_key=value)
    return ImageSource(image_id=value)


def _checked_url(value: str, path: str) -> str:
    if len(value) > MAX_URL_LENGTH:
        raise validation_error(path, f"must be at most {MAX_URL_LENGTH} characters")
    if not value.lower().startswith(("http://", "https://")):
        raise validation_error(path, "must be an http or https URL")
    return value


def parse_product_images(product: dict[str, Any], path: str) -> list[ImageSource] | None:
    """``images`` and its alias ``imageUrls``; None when neither field is present.

    ``path`` is where the product sits in the body ("" when the body is the product).
    """
    path = f"{path}." if path else ""
    sources: list[ImageSource] = []
    present = False
    images = product.get("images")
    if images is not None:
        present = True
        if not isinstance(images, list):
            raise validation_error(f"{path}images", "must be a list")
        sources += [parse_image_entry(e, f"{path}images.{i}") for i, e in enumerate(images)]
    urls = product.get("imageUrls")
    if urls is not None:
        present = True
        if not isinstance(urls, list):
            raise validation_error(f"{path}imageUrls", "must be a list of URLs")
        for i, url in enumerate(urls):
            if not isinstance(url, str):
                raise validation_error(f"{path}imageUrls.{i}", "must be a URL string")
            sources.append(ImageSource(url=_checked_url(url, f"{path}imageUrls.{i}")))
    if len(sources) > MAX_PRODUCT_IMAGES:
        raise validation_error(f"{path}images", f"at most {MAX_PRODUCT_IMAGES} images")
    return sources if present else None
