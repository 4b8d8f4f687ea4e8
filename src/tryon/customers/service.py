"""Right to erasure: every byte of one customer of one account, gone, with a receipt."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from tryon.accounts.service import Caller
from tryon.clock import iso
from tryon.context import AppContext
from tryon.customers.identity import customer_hash, lock_customers
from tryon.customers.models import ErasureReceipt, PendingDeletion
from tryon.db import checkpoint_wal, transaction
from tryon.errors import ApiError
from tryon.generations import service as generations_service
from tryon.generations.models import Generation
from tryon.ids import new_id
from tryon.images.models import CustomerImage
from tryon.storage import deletions
from tryon.storage.blobs import StorageUnavailable
from tryon.storage.urls import signed_url

__all__ = [
    "ErasureOutcome",
    "customer_data",
    "customer_hash",
    "erase_customer",
    "erasure_receipts",
]


@dataclass(frozen=True)
class ErasureOutcome:
    receipt_id: str
    images_deleted: int
    results_deleted: int
    generations_touched: int
    objects_deleted: int


def _customer_rows(
    session: Session, caller: Caller, hashed: str, *, lock: bool = False
) -> tuple[list[CustomerImage], list[Generation]]:
    """The customer's stored photos, and every generation of the customer or made from a photo
    of theirs.

    A generation made from the customer's photo under another customerId holds a copy of that
    photo, possibly longer than the photo itself: it belongs to this customer too. Every lookup
    goes through an index on (account, mode, keyed hash).
    """
    images = list(
        session.scalars(
            select(CustomerImage).where(
                CustomerImage.account_id == caller.account_id,
                CustomerImage.live == caller.live,
                CustomerImage.customer_id == hashed,
            )
        )
    )
    generations: dict[str, Generation] = {}
    for column in (Generation.customer_id, Generation.photo_customer_id):
        query = select(Generation).where(
            Generation.account_id == caller.account_id,
            Generation.live == caller.live,
            column == hashed,
        )
        # On PostgreSQL, lock the rows so a worker finishing meanwhile waits for us.
        for generation in session.scalars(query.with_for_update() if lock else query):
            generations.setdefault(generation.id, generation)
    return images, list(generations.values())


def erase_customer(context: AppContext, caller: Caller, customer_id: str) -> ErasureOutcome:
    """Erase a customer of the caller's account; raises SERVICE_UNAVAILABLE if storage fails.

    In one transaction the data stops being reachable (rows unlinked, images rows removed,
    in-flight generations failed with CUSTOMER_DATA_ERASED and refunded) and every object to
    delete is recorded durably; then the objects are deleted. If the store fails, the records
    stay and a retry or the sweeper completes the deletion.
    """
    now = context.clock.now()
    receipt_id = new_id("era_")
    hashed = customer_hash(context.secret, caller.account_id, customer_id)
    with transaction(context.sessions) as session:
        lock_customers(session, caller.account_id, [hashed])
        images, generations = _customer_rows(session, caller, hashed, lock=True)
        object_keys = [image.storage_key for image in images]
        results = sum(1 for g in generations if g.result_key)
        for generation in generations:
            generations_service.fail_in_flight(
                session, generation, "CUSTOMER_DATA_ERASED", "The customer's data was erased.", now
            )
            object_keys += generations_service.forget_personal_data(generation, now)
        if images:
            session.execute(
                delete(CustomerImage).where(CustomerImage.id.in_([i.id for i in images]))
            )
        scheduled = deletions.schedule(session, object_keys, now, receipt_id)
        # A previous erasure of this customer that storage did not let finish: its objects are
        # no longer linked to any row, only to its receipt, so they are completed from there.
        unfinished = list(
            session.scalars(
                select(ErasureReceipt.id).where(
                    ErasureReceipt.account_id == caller.account_id,
                    ErasureReceipt.live == caller.live,
                    ErasureReceipt.customer_hash == hashed,
                    ErasureReceipt.completed_at.is_(None),
                )
            )
        )
        leftover = (
            list(
                session.scalars(
                    select(PendingDeletion.storage_key).where(
                        PendingDeletion.receipt_id.in_(unfinished)
                    )
                )
            )
            if unfinished
            else []
        )
        session.add(
            ErasureReceipt(
                id=receipt_id,
                account_id=caller.account_id,
                live=caller.live,
                customer_hash=hashed,
                images_deleted=len(images),
                results_deleted=results,
                generations_touched=len(generations),
                objects_deleted=len(scheduled),
                created_at=now,
                completed_at=None if scheduled else now,
            )
        )
    try:
        deletions.execute(context, scheduled + leftover)
    except StorageUnavailable as exc:
        checkpoint_wal(context.engine)
        raise ApiError(
            "SERVICE_UNAVAILABLE",
            "Storage is unavailable; the erasure is recorded and will complete. Retry later.",
        ) from exc
    with transaction(context.sessions) as session:
        session.execute(
            update(ErasureReceipt)
            .where(
                ErasureReceipt.id.in_([receipt_id, *unfinished]),
                ErasureReceipt.completed_at.is_(None),
            )
            .values(completed_at=context.clock.now())
        )
    # Old versions of the rows just changed sit in the write-ahead log until a checkpoint.
    checkpoint_wal(context.engine)
    return ErasureOutcome(receipt_id, len(images), results, len(generations), len(scheduled))


def erasure_receipts(context: AppContext, caller: Caller, customer_id: str) -> list[dict[str, Any]]:
    """The caller's erasure receipts for this customer (matched by keyed hash), newest first."""
    hashed = customer_hash(context.secret, caller.account_id, customer_id)
    with context.sessions() as session:
        receipts = session.scalars(
            select(ErasureReceipt)
            .where(
                ErasureReceipt.account_id == caller.account_id,
                ErasureReceipt.live == caller.live,
                ErasureReceipt.customer_hash == hashed,
            )
            .order_by(ErasureReceipt.created_at.desc(), ErasureReceipt.id)
        )
        return [
            {
                "erasureId": r.id,
                "customerHash": r.customer_hash,
                "status": "COMPLETED" if r.completed_at is not None else "PENDING",
                "requestedAt": iso(r.created_at),
                "completedAt": iso(r.completed_at),
                "imagesDeleted": r.images_deleted,
                "resultsDeleted": r.results_deleted,
                "generationsTouched": r.generations_touched,
                "objectsDeleted": r.objects_deleted,
            }
            for r in receipts
        ]


def customer_data(
    context: AppContext, caller: Caller, customer_id: str, base_url: str
) -> dict[str, Any]:
    """Right of access: what is held for this customer in the caller's account and mode.

    Expired data is left out (it answers like deleted data); 404 CUSTOMER_NOT_FOUND when nothing
    is held. Signed URLs never outlive the data's retention.
    """
    hashed = customer_hash(context.secret, caller.account_id, customer_id)
    now = context.clock.now()
    with context.sessions() as session:
        images, generations = _customer_rows(session, caller, hashed)
    uploads = [
        {
            "imageId": image.id,
            "imageUrl": signed_url(context, base_url, image.storage_key, image.expires_at),
            "createdAt": iso(image.created_at),
            "retentionDays": image.retention_days,
            "expiresAt": iso(image.expires_at),
        }
        for image in sorted(images, key=lambda i: (i.created_at, i.id), reverse=True)
        if image.expires_at > now
    ]
    held = []
    for generation in sorted(generations, key=lambda g: (g.created_at, g.id), reverse=True):
        if generation.expires_at <= now:
            continue
        entry: dict[str, Any] = {
            "generationId": generation.id,
            "status": generation.status,
            "productExternalId": generation.product_external_id,
            "createdAt": iso(generation.created_at),
            "updatedAt": iso(generation.updated_at),
            "retentionDays": generation.retention_days,
            "expiresAt": iso(generation.expires_at),
        }
        if generation.person_key:
            entry["personImageUrl"] = signed_url(
                context, base_url, generation.person_key, generation.expires_at
            )
        if generation.status == "COMPLETED" and generation.result_key:
            entry["resultImageUrl"] = signed_url(
                context, base_url, generation.result_key, generation.expires_at
            )
        held.append(entry)
    if not uploads and not held:
        raise ApiError("CUSTOMER_NOT_FOUND", "Nothing is held for this customer.")
    return {"uploads": uploads, "generations": held}
