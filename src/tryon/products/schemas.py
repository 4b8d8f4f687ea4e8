"""Product requests as the services see them, and the product object on the wire."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from tryon.clock import iso
from tryon.errors import validation_error
from tryon.image_sources import ImageSource, parse_product_images
from tryon.products.models import Product
from tryon.wire import optional_identifier, optional_str

ANON_PREFIX = "_anon_"
# Echoed on every read and list page (200 products a page): kept small.
MAX_METADATA_BYTES = 16 * 1024
UNSET: Any = object()


@dataclass
class ProductInput:
    """A product as given in a request; fields left out are ``UNSET`` (partial updates)."""

    external_id: str | None
    title: Any = UNSET
    description: Any = UNSET
    images: list[ImageSource] | None = None
    valid_for_days: Any = UNSET
    metadata: Any = UNSET

    @property
    def is_reference(self) -> bool:
        """Only an ``externalId``: use the stored product as it is."""
        return (
            self.external_id is not None
            and self.title is UNSET
            and self.description is UNSET
            and self.images is None
        )


def parse_product(document: Any, path: str, *, allow_catalog_fields: bool) -> ProductInput:
    """Parse a product; ``path`` is where it sits in the body ("" when the body is the product).

    ``allow_catalog_fields``: ``POST /products`` (validForDays, metadata; every externalId is
    written, so the one-shot prefix is refused). In a try-on, an ``_anon_`` id may only
    reference an existing one-shot product.
    """
    if not isinstance(document, dict):
        raise validation_error(path or "body", "must be an object")
    prefix = f"{path}." if path else ""
    external_id = optional_identifier(document, "externalId", f"{prefix}externalId")
    product = ProductInput(external_id=external_id)
    if "title" in document:
        product.title = optional_str(document, "title", f"{prefix}title", 500)
    if "description" in document:
        product.description = optional_str(document, "description", f"{prefix}description")
    product.images = parse_product_images(document, path)
    if allow_catalog_fields:
        if "validForDays" in document:
            value = document["validForDays"]
            if value is not None and (
                isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 365
            ):
                raise validation_error(f"{prefix}validForDays", "must be null or 1-365")
            product.valid_for_days = value
        if "metadata" in document:
            metadata = document["metadata"]
            if len(json.dumps(metadata, ensure_ascii=False).encode()) > MAX_METADATA_BYTES:
                raise validation_error(
                    f"{prefix}metadata", f"must be at most {MAX_METADATA_BYTES // 1024} KiB as JSON"
                )
            product.metadata = metadata
    if (
        external_id is not None
        and external_id.startswith(ANON_PREFIX)
        and (allow_catalog_fields or not product.is_reference)
    ):
        raise validation_error(f"{prefix}externalId", f"the prefix {ANON_PREFIX!r} is reserved")
    return product


def product_object(product: Product) -> dict[str, Any]:
    return {
        "externalId": product.external_id,
        "title": product.title,
        "description": product.description,
        "images": [{"sourceUrl": i.source_url, "order": i.position} for i in product.images],
        "metadata": product.extra,
        "validForDays": product.valid_for_days,
        "lastUsedAt": iso(product.last_used_at),
        "expiresAt": iso(product.expires_at),
        "createdAt": iso(product.created_at),
        "updatedAt": iso(product.updated_at),
    }
