"""Customer photos: store a processed upload, find it again, delete it."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from tryon.accounts.service import Caller
from tryon.context import AppContext
from tryon.customers.identity import ErasureGuard, start_guard, stored_customer_id
from tryon.db import transaction
from tryon.errors import ApiError
from tryon.images.intake import IntakeLimits, ProcessedImage, process_customer_image
from tryon.images.models import CustomerImage
from tryon.storage import deletions, keys


def intake_limits(context: AppContext) -> IntakeLimits:
    return IntakeLimits(max_bytes=context.settings.max_upload_bytes)


def new_image_id(retention_days: int) -> str:
    return (
        f"retention-{retention_days}d/{secrets.token_hex(8)}/customer/{secrets.token_hex(12)}.jpeg"
    )


def upload_customer_image(
    context: AppContext,
    caller: Caller,
    data: bytes,
    *,
    crop: bool,
    customer_id: str | None,
    retention_days: int | None,
) -> CustomerImage:
    """Validate and normalise a customer photo, store it, and record it with its retention."""
    hashed = stored_customer_id(context, caller, customer_id)
    # Taken before any work: an erasure of this customer from now on wins over this upload.
    guard = start_guard(context, caller, [hashed])
    processed = process_customer_image(data, crop=crop, limits=intake_limits(context))
    return store_customer_image(
        context,
        caller,
        processed,
        customer_id=customer_id,
        retention_days=retention_days,
        guard=guard,
    )


def store_customer_image(
    context: AppContext,
    caller: Caller,
    processed: ProcessedImage,
    *,
    customer_id: str | None,
    retention_days: int | None,
    guard: ErasureGuard | None = None,
) -> CustomerImage:
    """Store the photo and its row. If the customer was erased since ``guard`` was taken, the
    row is not written and the bytes are deleted: the upload answers as if it had completed just
    before the erasure (its imageId and URL then answer 404, like erased data)."""
    hashed = stored_customer_id(context, caller, customer_id)
    if guard is None:
        guard = start_guard(context, caller, [hashed])
    days = retention_days or caller.retention_days
    now = context.clock.now()
    key = keys.customer_image_key(caller.account_id, caller.live)
    image = CustomerImage(
        id=new_image_id(days),
        account_id=caller.account_id,
        live=caller.live,
        customer_id=hashed,
        storage_key=key,
        width=processed.width,
        height=processed.height,
        retention_days=days,
        created_at=now,
        expires_at=now + timedelta(days=days),
    )
    # Bytes first, row second: a row never points at a missing object; if the row cannot be
    # written, the object is removed again.
    context.blobs.put(key, processed.jpeg)
    try:
        with transaction(context.sessions) as session:
            erased = guard.erased_since(session)
            if not erased:
                session.add(image)
    except BaseException:
        deletions.discard(context, [key])
        raise
    if erased:
        deletions.discard(context, [key])
    return image


def find_customer_image(
    session: Session, caller: Caller, image_id: str, now: datetime
) -> CustomerImage:
    """A live (not expired) image of this caller, else 404 IMAGE_NOT_FOUND."""
    image = session.scalar(
        select(CustomerImage).where(
            CustomerImage.id == image_id,
            CustomerImage.account_id == caller.account_id,
            CustomerImage.live == caller.live,
            CustomerImage.expires_at > now,
        )
    )
    if image is None:
        raise ApiError("IMAGE_NOT_FOUND", "No image with this id (it may have expired).")
    return image
