"""The sweeper: expired customer images, generations' stored objects, expired products, pending
deletions, generations a crashed worker left behind, and objects no row references."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import and_, delete, exists, select, update

from tryon.context import AppContext
from tryon.customers.models import ErasureReceipt, PendingDeletion
from tryon.db import checkpoint_wal, transaction
from tryon.generations import service as generations_service
from tryon.generations import tasks as generations_tasks
from tryon.generations.models import Generation, IdempotencyRecord
from tryon.images.models import CustomerImage
from tryon.products.models import Product
from tryon.storage import deletions
from tryon.storage.audit import find_orphans
from tryon.storage.blobs import StorageUnavailable

BATCH = 500


def sweep(context: AppContext) -> dict[str, int]:
    """Run every retention rule once; returns counts of what was done."""
    counts = {
        "customer_images": _expired_customer_images(context),
        "generations": _expired_generations(context),
        "products": _expired_products(context),
        "idempotency_records": _old_idempotency_records(context),
    }
    counts["deletions_completed"] = deletions.retry_pending(context)
    counts["receipts_completed"] = _complete_receipts(context)
    recovered = generations_tasks.recover_lost_generations(context)
    counts["generations_requeued"] = recovered["requeued"]
    counts["generations_timed_out"] = recovered["failed"]
    counts["orphans_deleted"] = _orphaned_objects(context)
    if counts["customer_images"] or counts["generations"]:
        # Old versions of the rows just anonymised sit in the write-ahead log until then.
        checkpoint_wal(context.engine)
    return counts


def _expired_customer_images(context: AppContext) -> int:
    now = context.clock.now()
    with transaction(context.sessions) as session:
        images = list(
            session.scalars(
                select(CustomerImage).where(CustomerImage.expires_at <= now).limit(BATCH)
            )
        )
        keys = deletions.schedule(session, [i.storage_key for i in images], now)
        if images:
            session.execute(
                delete(CustomerImage).where(CustomerImage.id.in_([i.id for i in images]))
            )
    deletions.execute_quietly(context, keys)
    return len(images)


def _expired_generations(context: AppContext) -> int:
    """Expired generations lose their images and customer link; the anonymous row stays."""
    now = context.clock.now()
    with transaction(context.sessions) as session:
        generations = list(
            session.scalars(
                select(Generation)
                .where(
                    Generation.expires_at <= now,
                    (Generation.person_key.is_not(None))
                    | (Generation.result_key.is_not(None))
                    | (Generation.customer_id.is_not(None))
                    | (Generation.photo_customer_id.is_not(None)),
                )
                .limit(BATCH)
            )
        )
        keys: list[str] = []
        for generation in generations:
            generations_service.fail_in_flight(
                session, generation, "ENGINE_TIMEOUT", "The generation expired unfinished.", now
            )
            keys += generations_service.forget_personal_data(generation, now)
        scheduled = deletions.schedule(session, keys, now)
    deletions.execute_quietly(context, scheduled)
    return len(generations)


def _expired_products(context: AppContext) -> int:
    now = context.clock.now()
    with transaction(context.sessions) as session:
        products = list(
            session.scalars(
                select(Product)
                .where(Product.expires_at.is_not(None), Product.expires_at <= now)
                .limit(BATCH)
            )
        )
        keys = [image.storage_key for p in products for image in p.images if image.storage_key]
        scheduled = deletions.schedule(session, keys, now)
        for product in products:
            session.delete(product)
    deletions.execute_quietly(context, scheduled)
    return len(products)


def _orphaned_objects(context: AppContext) -> int:
    """Delete objects no row references once they are older than ``orphan_grace_seconds``.

    They are left by a process killed between storing bytes and recording them (an upload, a
    try-on's snapshot, a product image); the grace keeps writes in progress safe.
    """
    grace = timedelta(seconds=context.settings.orphan_grace_seconds)
    try:
        orphans, _ = find_orphans(context, grace)
    except StorageUnavailable:
        return 0
    if not orphans:
        return 0
    with transaction(context.sessions) as session:
        scheduled = deletions.schedule(session, [key for key, _ in orphans], context.clock.now())
    deletions.execute_quietly(context, scheduled)
    return len(scheduled)


def _old_idempotency_records(context: AppContext) -> int:
    cutoff = context.clock.now() - generations_service.IDEMPOTENCY_WINDOW
    with transaction(context.sessions) as session:
        result = session.execute(
            delete(IdempotencyRecord).where(IdempotencyRecord.created_at <= cutoff)
        )
        return int(result.rowcount or 0)


def _complete_receipts(context: AppContext) -> int:
    """Erasures whose every object is now deleted get their completion time."""
    with transaction(context.sessions) as session:
        pending = exists().where(PendingDeletion.receipt_id == ErasureReceipt.id)
        result = session.execute(
            update(ErasureReceipt)
            .where(and_(ErasureReceipt.completed_at.is_(None), ~pending))
            .values(completed_at=context.clock.now())
        )
        return int(result.rowcount or 0)
