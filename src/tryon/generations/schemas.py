"""The try-on request: both wire shapes (1.0-1.2 and 1.3/1.4) parsed into one internal model."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tryon.clock import iso
from tryon.errors import ApiError, validation_error
from tryon.generations.models import Generation
from tryon.image_sources import ImageSource, parse_image_entry
from tryon.products.schemas import ProductInput, parse_product
from tryon.wire import optional_bool, optional_identifier, optional_retention

NEW_SHAPE_FIELDS = ("products", "person", "externalUserId", "output")
OLD_SHAPE_FIELDS = ("product", "customerId", "retentionDays", "useWatermark")


@dataclass(frozen=True)
class TryOnRequest:
    """One try-on call, whatever shape it came in."""

    product: ProductInput
    customer_image: ImageSource
    customer_id: str | None
    retention_days: int | None
    use_watermark: bool


def parse_try_on(document: dict[str, Any]) -> TryOnRequest:
    """Translate either wire shape; raises the contract's codes for each kind of mistake."""
    product_doc, product_path = _product_document(document)
    if "person" in document and "customer" in document:
        raise validation_error("person", "give either customer or person, not both")
    if "person" in document:
        customer_doc, customer_path = _person_source(document["person"])
    elif "customer" in document:
        customer_doc, customer_path = document["customer"], "customer"
    else:
        raise ApiError("CUSTOMER_IMAGE_REQUIRED", "The customer (person) image is required.")
    if customer_doc is None:
        raise ApiError("CUSTOMER_IMAGE_REQUIRED", "The customer (person) image is required.")
    customer_image = parse_image_entry(customer_doc, customer_path, allow_id=True)
    product = parse_product(product_doc, product_path, allow_catalog_fields=False)

    customer_id = optional_identifier(document, "customerId", "customerId")
    user_id = optional_identifier(document, "externalUserId", "externalUserId")
    customer_id = _agreeing(customer_id, user_id, "externalUserId", "customerId")

    retention_days = optional_retention(document.get("retentionDays"), "retentionDays")
    use_watermark = optional_bool(document, "useWatermark", "useWatermark")
    output = document.get("output")
    if output is not None:
        if not isinstance(output, dict):
            raise validation_error("output", "must be an object")
        keep = optional_retention(output.get("keepForDays"), "output.keepForDays")
        retention_days = _agreeing(retention_days, keep, "output.keepForDays", "retentionDays")
        watermark = optional_bool(output, "watermark", "output.watermark")
        use_watermark = _agreeing(use_watermark, watermark, "output.watermark", "useWatermark")
    return TryOnRequest(
        product=product,
        customer_image=customer_image,
        customer_id=customer_id,
        retention_days=retention_days,
        use_watermark=True if use_watermark is None else use_watermark,
    )


def _agreeing(value: Any, alias_value: Any, alias_path: str, name: str) -> Any:
    """A field given under both of its names (1.0-1.2 and 1.3/1.4) must say the same."""
    if value is not None and alias_value is not None and value != alias_value:
        raise validation_error(alias_path, f"differs from {name}")
    return alias_value if value is None else value


def _product_document(document: dict[str, Any]) -> tuple[Any, str]:
    if "product" in document and "products" in document:
        raise validation_error("products", "give either product or products, not both")
    if "products" in document:
        products = document["products"]
        if not isinstance(products, list) or len(products) != 1:
            raise validation_error("products", "must hold exactly one product")
        return products[0], "products.0"
    if "product" not in document or document["product"] is None:
        raise validation_error("product", "is required")
    return document["product"], "product"


def _person_source(person: Any) -> tuple[Any, str]:
    if not isinstance(person, dict):
        raise validation_error("person", "must be an object with image.source")
    image = person.get("image")
    if image is None:
        return None, "person.image"
    if not isinstance(image, dict):
        raise validation_error("person.image", "must be an object with source")
    return image, "person.image"


def accepted_response(generation: Generation) -> dict[str, Any]:
    return {
        "generationId": generation.id,
        "status": generation.status,
        "productExternalId": generation.product_external_id,
    }


def generation_object(generation: Generation, result_url: str | None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "generationId": generation.id,
        "status": generation.status,
        "productExternalId": generation.product_external_id,
        "createdAt": iso(generation.created_at),
        "updatedAt": iso(generation.updated_at),
    }
    if generation.status == "COMPLETED" and result_url:
        body["resultImageUrl"] = result_url
    if generation.status == "FAILED":
        body["errorCode"] = generation.error_code
        body["errorMessage"] = generation.error_message
    return body
