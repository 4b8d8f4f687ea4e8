"""Helpers for reading wire payloads (JSON or multipart ``data`` + file parts) with typed errors.

Services never see wire shapes: routers use these helpers to turn a body into internal requests,
raising ``VALIDATION_FAILED`` with a ``details[]`` path for every bad field.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from fastapi import Request
from starlette.datastructures import UploadFile

from tryon.errors import ApiError, ErrorDetail, validation_error

MAX_ID_LENGTH = 200
# JSON bodies nest at most this deep (the contract's own shapes need 5; product metadata gets the
# rest). Deeper ones are 400 VALIDATION_FAILED before anything walks them.
MAX_JSON_DEPTH = 32


@dataclass
class Body:
    """A request body: the JSON document plus uploaded file parts by field name."""

    document: dict[str, Any]
    files: dict[str, bytes] = field(default_factory=dict)


async def read_body(request: Request, max_file_bytes: int) -> Body:
    """Read a JSON body, or a multipart form whose JSON is in the ``data`` field."""
    content_type = request.headers.get("content-type", "")
    if content_type.startswith("multipart/form-data"):
        form = await _read_form(request)
        files: dict[str, bytes] = {}
        raw_data: str | None = None
        for name, value in form.multi_items():
            if isinstance(value, UploadFile):
                files[name] = await read_upload(value, max_file_bytes)
            elif name == "data":
                raw_data = value
        if raw_data is None:
            raise validation_error("data", "multipart requests carry the JSON in a 'data' field")
        return Body(_parse_json(raw_data.encode()), files)
    raw = await request.body()
    if not raw:
        raise validation_error("body", "a JSON body is required")
    return Body(_parse_json(raw))


async def _read_form(request: Request) -> Any:
    try:
        return await request.form(max_files=50, max_fields=100)
    except ApiError:
        raise
    except Exception as exc:  # malformed multipart: boundary missing, truncated parts, ...
        raise validation_error("body", "the multipart body could not be parsed") from exc


async def read_upload(upload: UploadFile, max_bytes: int) -> bytes:
    """Read a file part, refusing with FILE_TOO_LARGE as soon as it passes ``max_bytes``."""
    chunks: list[bytes] = []
    total = 0
    while chunk := await upload.read(1024 * 1024):
        total += len(chunk)
        if total > max_bytes:
            raise ApiError(
                "FILE_TOO_LARGE", f"File is larger than {max_bytes // (1024 * 1024)} MB."
            )
        chunks.append(chunk)
    return b"".join(chunks)


def _parse_json(raw: bytes) -> dict[str, Any]:
    try:
        document = json.loads(raw)
    except RecursionError as exc:
        raise validation_error("body", f"nested deeper than {MAX_JSON_DEPTH} levels") from exc
    except (ValueError, UnicodeDecodeError) as exc:
        raise validation_error("body", "the body is not valid JSON") from exc
    if not isinstance(document, dict):
        raise validation_error("body", "the body must be a JSON object")
    too_deep = _path_deeper_than(document, MAX_JSON_DEPTH)
    if too_deep is not None:
        raise validation_error(too_deep, f"nested deeper than {MAX_JSON_DEPTH} levels")
    return document


def _path_deeper_than(document: Any, limit: int) -> str | None:
    """The path of the first value nested more than ``limit`` levels deep, else None.

    Iterative: a document deep enough to matter would overflow a recursive walk, and every
    later step (validation, storage, the JSON encoder of answers) walks it recursively.
    """
    stack: list[tuple[Any, int, str]] = [(document, 1, "")]
    while stack:
        value, depth, path = stack.pop()
        children = value.items() if isinstance(value, dict) else enumerate(value)
        for key, child in children:
            if isinstance(child, dict | list):
                child_path = f"{path}.{key}" if path else str(key)
                if depth + 1 > limit:
                    return child_path
                stack.append((child, depth + 1, child_path))
    return None


def optional_str(
    document: dict[str, Any], key: str, path: str, max_length: int = 10_000
) -> str | None:
    value = document.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise validation_error(path, "must be a string")
    if len(value) > max_length:
        raise validation_error(path, f"must be at most {max_length} characters")
    return value


def checked_identifier(value: str, path: str) -> str:
    """An id chosen by the client (externalId, customerId, Idempotency-Key), wherever it comes
    from (JSON, form field, path, header): 1-200 printable characters."""
    if not value or len(value) > MAX_ID_LENGTH or not value.isprintable():
        raise validation_error(path, f"must be 1-{MAX_ID_LENGTH} printable characters")
    return value


def optional_identifier(document: dict[str, Any], key: str, path: str) -> str | None:
    """``checked_identifier`` of a JSON field, None when it is absent."""
    value = optional_str(document, key, path, MAX_ID_LENGTH)
    return None if value is None else checked_identifier(value, path)


def optional_bool(document: dict[str, Any], key: str, path: str) -> bool | None:
    value = document.get(key)
    if value is None:
        return None
    if not isinstance(value, bool):
        raise validation_error(path, "must be true or false")
    return value


def optional_retention(value: Any, path: str) -> int | None:
    """A retention preset: 1, 3 or 7 days (numbers or numeric strings, as forms send them)."""
    if value is None or value == "":
        return None
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value)
    if isinstance(value, bool) or value not in (1, 3, 7):
        raise validation_error(path, "must be 1, 3 or 7")
    return int(value)


def form_bool(value: str | None, path: str, default: bool) -> bool:
    if value is None or value == "":
        return default
    lowered = value.strip().lower()
    if lowered in ("true", "1", "yes"):
        return True
    if lowered in ("false", "0", "no"):
        return False
    raise validation_error(path, "must be 'true' or 'false'")


def merge_details(errors: list[ApiError]) -> ApiError:
    details: list[ErrorDetail] = []
    for error in errors:
        details.extend(error.details)
    return ApiError("VALIDATION_FAILED", "; ".join(e.message for e in errors), details)
