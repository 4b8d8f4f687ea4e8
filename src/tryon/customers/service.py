"""Right to erasure: every byte of one customer of one account, gone, with a receipt."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

from sqlalchemy import delete, select, update

from tryon.accounts.service import Caller
from tryon.context import AppContext
from tryon.customers.models import ErasureReceipt, PendingDeletion
from tryon.db import transaction
from tryon.errors import ApiError
from tryon.generations import service as generations_service
from tryon.generations.models import Generation
from tryon.ids import new_id
from tryon.images.models import CustomerImage
from tryon.storage import deletions
from tryon.storage.blobs import StorageUnavailable


@dataclass(frozen=True)
class ErasureOutcome:
    receipt_id: str
    images_deleted: int
    results_deleted: int
    generations_touched: int
    objects_deleted: int


def customer_hash(secret: bytes, account_id: str, customer_id: str) -> str:
    """Keyed hash of a customer id: lets a receipt be matched to a request without the raw id."""
    message = f"{account_id}\n{customer_id}".encode()
    return hmac.new(secret, message, hashlib.sha256).hexdigest()


def erase_customer(context: AppContext, caller: Caller, customer_id: str) -> ErasureOutcome:
    """Erase a customer of the caller's account; raises SERVICE_UNAVAILABLE if storage fails.

    In one transaction the data stops being reachable (rows unlinked, images rows removed,
    in-flight generations failed with CUSTOMER_DATA_ERASED and refunded) and every object to
    delete is recorded durably; then the objects are deleted. If the store fails, the records
    stay and a retry or the sweeper completes the deletion.
    """
    now = context.clock.now()
    receipt_id = new_id("era_")
    with transaction(context.sessions) as session:
        images = list(
            session.scalars(
                select(CustomerImage).where(
                    CustomerImage.account_id == caller.account_id,
                    CustomerImage.live == caller.live,
                    CustomerImage.customer_id == customer_id,
                )
            )
        )
        generations = list(
            session.scalars(
                select(Generation)
                .where(
                    Generation.account_id == caller.account_id,
                    Generation.live == caller.live,
                    Generation.customer_id == customer_id,
                )
                # On PostgreSQL, lock the rows so a worker finishing meanwhile waits for us.
                .with_for_update()
            )
        )
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
        hashed = customer_hash(context.secret, caller.account_id, customer_id)
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
    return ErasureOutcome(receipt_id, len(images), results, len(generations), len(scheduled))
