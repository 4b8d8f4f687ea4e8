"""The error catalog: the only place where error codes meet HTTP statuses.

Every error the API returns is raised as ``ApiError(code, message)`` and rendered by the
handlers in ``tryon.app`` as ``{"code", "message", "status"[, "details"]}``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# code -> HTTP status, exactly as written in the wire contract (section 2).
CATALOG: dict[str, int] = {
    "MISSING_API_KEY": 401,
    "INVALID_API_KEY": 401,
    "FORBIDDEN": 403,
    "VALIDATION_FAILED": 400,
    "EXTERNAL_ID_REQUIRED": 400,
    "PRODUCT_IMAGES_REQUIRED": 400,
    "CUSTOMER_IMAGE_REQUIRED": 400,
    "FILE_REQUIRED": 400,
    "MULTIPART_FILE_NOT_FOUND": 400,
    "INVALID_IMAGE_INPUT": 400,
    "INVALID_IMAGE": 400,
    "CUSTOMER_IMAGE_FETCH_FAILED": 400,
    "PRODUCT_NOT_FOUND": 404,
    "GENERATION_NOT_FOUND": 404,
    "IMAGE_NOT_FOUND": 404,
    # Beyond the contract: GET /customers/{customerId} (right of access) when nothing is held.
    "CUSTOMER_NOT_FOUND": 404,
    # Beyond the contract: an unknown path or method (the contract names no code for these).
    "NOT_FOUND": 404,
    "METHOD_NOT_ALLOWED": 405,
    "INSUFFICIENT_CREDITS": 402,
    "IDEMPOTENCY_KEY_REUSED": 409,
    "FILE_TOO_LARGE": 413,
    "PAYLOAD_TOO_LARGE": 413,
    "UNSUPPORTED_IMAGE_TYPE": 415,
    "RATE_LIMITED": 429,
    "INTERNAL_ERROR": 500,
    "SERVICE_UNAVAILABLE": 503,
}

# Codes a generation can end with (``errorCode`` of a FAILED generation); never HTTP errors.
GENERATION_ERROR_CODES = frozenset(
    {
        "PRODUCT_IMAGE_FETCH_FAILED",
        "CUSTOMER_IMAGE_UNUSABLE",
        "PRODUCT_IMAGE_UNUSABLE",
        "ENGINE_ERROR",
        "ENGINE_TIMEOUT",
        "CUSTOMER_DATA_ERASED",
    }
)


@dataclass
class ErrorDetail:
    path: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"path": self.path, "message": self.message}


@dataclass
class ApiError(Exception):
    """An error with a catalog code; the HTTP status comes from the catalog."""

    code: str
    message: str
    details: list[ErrorDetail] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.code not in CATALOG:
            raise ValueError(f"unknown error code {self.code!r}")
        super().__init__(self.message)

    @property
    def status(self) -> int:
        return CATALOG[self.code]

    def body(self) -> dict[str, Any]:
        payload: dict[str, Any] = {
            "code": self.code,
            "message": self.message,
            "status": self.status,
        }
        if self.details or self.code == "VALIDATION_FAILED":
            payload["details"] = [d.as_dict() for d in self.details]
        return payload


def validation_error(path: str, message: str) -> ApiError:
    """A 400 VALIDATION_FAILED naming one field."""
    return ApiError("VALIDATION_FAILED", f"{path}: {message}", [ErrorDetail(path, message)])
