"""Products: upsert, list with a cursor, get, delete, and their lifetimes between uses."""

from __future__ import annotations

import base64
import json
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from tryon.accounts.service import Caller
from tryon.context import AppContext
from tryon.errors import ApiError, validation_error
from tryon.image_sources import ImageSource
from tryon.images.intake import process_product_image
from tryon.images.service import intake_limits
from tryon.products.models import Product, ProductImage
from tryon.products.schemas import ANON_PREFIX, UNSET, ProductInput
from tryon.storage import deletions, keys

INLINE_LIFETIME_DAYS = 15
ONE_SHOT_LIFETIME_DAYS = 7


@dataclass
class StoredUpload:
    """Uploaded product-image bytes, already processed and stored, waiting for a row."""

    source_url: str
    storage_key: str


def live_filter(caller: Caller, now: datetime):  # type: ignore[no-untyped-def]
    return and_(
        Product.account_id == caller.account_id,
        Product.live == caller.live,
        or_(Product.expires_at.is_(None), Product.expires_at > now),
    )


def find_product(session: Session, caller: Caller, external_id: str, now: datetime) -> Product:
    product = session.scalar(
        select(Product).where(live_filter(caller, now), Product.external_id == external_id)
    )
    if product is None:
        raise ApiError(
            "PRODUCT_NOT_FOUND", "No product with this externalId (it may have expired)."
        )
    return product


def store_uploaded_images(
    context: AppContext, caller: Caller, sources: list[ImageSource], files: dict[str, bytes]
) -> dict[str, StoredUpload]:
    """Process and store every ``fileKey`` image; returns them by file key.

    Raises MULTIPART_FILE_NOT_FOUND for a key with no part, INVALID_IMAGE for bad bytes.
    Objects stored before a failure are deleted again.
    """
    stored: dict[str, StoredUpload] = {}
    try:
        for source in sources:
            if source.file_key is None or source.file_key in stored:
                continue
            data = files.get(source.file_key)
            if data is None:
                raise ApiError(
                    "MULTIPART_FILE_NOT_FOUND",
                    f"No multipart part named {source.file_key!r}.",
                )
            processed = process_product_image(data, limits=intake_limits(context))
            key = keys.product_image_key(caller.account_id, caller.live)
            context.blobs.put(key, processed.jpeg)
            stored[source.file_key] = StoredUpload(f"upload://{secrets.token_hex(12)}", key)
    except BaseException:
        discard_uploads(context, stored)
        raise
    return stored


def discard_uploads(context: AppContext, stored: dict[str, StoredUpload]) -> None:
    """Delete uploaded images no row took; never raises (the sweeper finishes a refused one)."""
    deletions.discard(context, [upload.storage_key for upload in stored.values()])


def upsert_product(
    session: Session,
    caller: Caller,
    now: datetime,
    product_input: ProductInput,
    uploads: dict[str, StoredUpload],
    *,
    default_lifetime_days: int | None = None,
    touch: bool = False,
) -> tuple[Product, list[str]]:
    """Create or update a product keyed on ``externalId``.

    Returns the product and the storage keys of images it no longer uses (to delete once the
    transaction committed). ``touch`` marks a use (a generation), restarting its lifetime.
    """
    external_id = product_input.external_id
    if external_id is None:
        raise ApiError("EXTERNAL_ID_REQUIRED", "externalId is required.")
    if external_id.startswith(ANON_PREFIX):
        raise validation_error("externalId", f"the prefix {ANON_PREFIX!r} is reserved")
    product = session.scalar(
        select(Product).where(
            Product.account_id == caller.account_id,
            Product.live == caller.live,
            Product.external_id == external_id,
        )
    )
    replaced: list[str] = []
    if product is not None and product.expires_at is not None and product.expires_at <= now:
        # An expired product answers like a deleted one: an upsert starts it afresh.
        replaced += [i.storage_key for i in product.images if i.storage_key]
        session.delete(product)
        session.flush()
        product = None
    if product is None:
        if not product_input.images:
            raise ApiError("PRODUCT_IMAGES_REQUIRED", "A new product needs at least one image.")
        product = Product(
            account_id=caller.account_id,
            live=caller.live,
            external_id=external_id,
            anonymous=False,
            valid_for_days=default_lifetime_days,
            created_at=now,
            updated_at=now,
            last_used_at=now,
        )
        session.add(product)
    _apply_fields(product, product_input, uploads, replaced)
    product.updated_at = now
    if touch:
        product.last_used_at = now
    _refresh_expiry(product)
    session.flush()
    return product, replaced


def create_one_shot_product(
    session: Session,
    caller: Caller,
    now: datetime,
    product_input: ProductInput,
    uploads: dict[str, StoredUpload],
) -> Product:
    """A product without ``externalId``: gets an ``_anon_`` id and lives 7 days from last use."""
    if not product_input.images:
        raise ApiError("PRODUCT_IMAGES_REQUIRED", "The product needs at least one image.")
    product = Product(
        account_id=caller.account_id,
        live=caller.live,
        external_id=ANON_PREFIX + secrets.token_hex(12),
        anonymous=True,
        valid_for_days=ONE_SHOT_LIFETIME_DAYS,
        created_at=now,
        updated_at=now,
        last_used_at=now,
    )
    session.add(product)
    _apply_fields(product, product_input, uploads, [])
    _refresh_expiry(product)
    session.flush()
    return product


def touch_product(product: Product, now: datetime) -> None:
    product.last_used_at = now
    _refresh_expiry(product)


def _apply_fields(
    product: Product,
    product_input: ProductInput,
    uploads: dict[str, StoredUpload],
    replaced: list[str],
) -> None:
    if product_input.title is not UNSET:
        product.title = product_input.title
    if product_input.description is not UNSET:
        product.description = product_input.description
    if product_input.valid_for_days is not UNSET:
        product.valid_for_days = product_input.valid_for_days
    if product_input.metadata is not UNSET:
        product.extra = product_input.metadata
    if product_input.images is not None:
        if not product_input.images:
            raise ApiError("PRODUCT_IMAGES_REQUIRED", "A product needs at least one image.")
        replaced += [i.storage_key for i in product.images if i.storage_key]
        product.images.clear()
        for position, source in enumerate(product_input.images):
            if source.file_key is not None:
                upload = uploads[source.file_key]
                image = ProductImage(
                    position=position,
                    source_url=upload.source_url,
                    storage_key=upload.storage_key,
                )
            else:
                image = ProductImage(position=position, source_url=source.url, storage_key=None)
            product.images.append(image)


def _refresh_expiry(product: Product) -> None:
    if product.valid_for_days is None or product.last_used_at is None:
        product.expires_at = None
    else:
        product.expires_at = product.last_used_at + timedelta(days=product.valid_for_days)


def list_products(
    session: Session, caller: Caller, now: datetime, limit: int, cursor: str | None
) -> tuple[list[Product], str | None]:
    """Newest first, one-shot products left out; returns the page and the next cursor."""
    query = select(Product).where(live_filter(caller, now), Product.anonymous.is_(False))
    if cursor:
        created_at, product_id = _decode_cursor(cursor)
        query = query.where(
            or_(
                Product.created_at < created_at,
                and_(Product.created_at == created_at, Product.id < product_id),
            )
        )
    rows = list(
        session.scalars(
            query.order_by(Product.created_at.desc(), Product.id.desc()).limit(limit + 1)
        )
    )
    page = rows[:limit]
    next_cursor = _encode_cursor(page[-1]) if len(rows) > limit else None
    return page, next_cursor


def _encode_cursor(product: Product) -> str:
    raw = json.dumps([product.created_at.isoformat(), product.id]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_cursor(cursor: str) -> tuple[datetime, int]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        created_at, product_id = json.loads(base64.urlsafe_b64decode(padded))
        return datetime.fromisoformat(created_at), int(product_id)
    except Exception as exc:
        raise validation_error("cursor", "is not a cursor this server issued") from exc


def delete_product(session: Session, caller: Caller, external_id: str) -> list[str]:
    """Delete a product (any state); returns the storage keys of its images to delete."""
    product = session.scalar(
        select(Product).where(
            Product.account_id == caller.account_id,
            Product.live == caller.live,
            Product.external_id == external_id,
        )
    )
    if product is None:
        return []
    stored = [i.storage_key for i in product.images if i.storage_key]
    session.delete(product)
    return stored
