"""OpenAPI descriptions of the request bodies that routers parse by hand.

The try-on, product and upload bodies are read by ``tryon.wire`` (two wire shapes, JSON or
multipart) rather than by Pydantic models, so their schemas are written out here for the served
OpenAPI document (client generators, Schemathesis).
"""

from __future__ import annotations

from typing import Any

_IMAGE_SOURCE = {
    "type": "object",
    "properties": {
        "url": {"type": "string", "format": "uri", "maxLength": 2048},
        "fileKey": {"type": "string", "maxLength": 200},
    },
}
_IMAGE_ENTRY = {
    "type": "object",
    "properties": {**_IMAGE_SOURCE["properties"], "source": _IMAGE_SOURCE},
}
_PERSON_SOURCE = {
    "type": "object",
    "properties": {**_IMAGE_SOURCE["properties"], "id": {"type": "string", "maxLength": 200}},
}
_PRODUCT = {
    "type": "object",
    "properties": {
        "externalId": {"type": "string", "minLength": 1, "maxLength": 200},
        "title": {"type": "string", "maxLength": 500},
        "description": {"type": "string", "maxLength": 10000},
        "images": {"type": "array", "items": _IMAGE_ENTRY, "maxItems": 10},
        "imageUrls": {"type": "array", "items": {"type": "string", "format": "uri"}},
    },
}
RETENTION = {"type": "integer", "enum": [1, 3, 7]}

TRY_ON_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "1.0-1.2 shape (product, customer) or 1.3/1.4 shape (products, person).",
    "properties": {
        "product": _PRODUCT,
        "products": {"type": "array", "items": _PRODUCT, "minItems": 1, "maxItems": 1},
        "customer": {
            "type": "object",
            "properties": {**_PERSON_SOURCE["properties"], "source": _PERSON_SOURCE},
        },
        "person": {
            "type": "object",
            "properties": {"image": {"type": "object", "properties": {"source": _PERSON_SOURCE}}},
        },
        "customerId": {"type": "string", "minLength": 1, "maxLength": 200},
        "externalUserId": {"type": "string", "minLength": 1, "maxLength": 200},
        "retentionDays": RETENTION,
        "useWatermark": {"type": "boolean"},
        "output": {
            "type": "object",
            "properties": {"watermark": {"type": "boolean"}, "keepForDays": RETENTION},
        },
    },
}

PRODUCT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["externalId"],
    "properties": {
        **_PRODUCT["properties"],
        "validForDays": {"type": ["integer", "null"], "minimum": 1, "maximum": 365},
        "metadata": {},
    },
}

_MULTIPART_DATA = {
    "type": "object",
    "properties": {"data": {"type": "string", "description": "the JSON body"}},
    "additionalProperties": {"type": "string", "format": "binary"},
}


def json_or_multipart(schema: dict[str, Any]) -> dict[str, Any]:
    return {
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {"schema": schema},
                "multipart/form-data": {"schema": _MULTIPART_DATA},
            },
        }
    }


UPLOAD_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {
                        "file": {"type": "string", "format": "binary"},
                        "crop": {"type": "string", "enum": ["true", "false"]},
                        "customerId": {"type": "string", "maxLength": 200},
                        "externalUserId": {"type": "string", "maxLength": 200},
                        "retentionDays": {"type": "string", "enum": ["1", "3", "7"]},
                        "keepForDays": {"type": "string", "enum": ["1", "3", "7"]},
                    },
                }
            }
        },
    }
}
