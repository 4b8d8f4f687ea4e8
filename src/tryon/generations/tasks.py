"""The background work of a generation: run the engine, store the result, settle the credit."""

from __future__ import annotations

import logging
from datetime import timedelta

from PIL import Image
from sqlalchemy import select, update

from tryon.accounts.models import Account
from tryon.context import AppContext
from tryon.db import transaction
from tryon.engines.base import EngineError, TryOnInput
from tryon.engines.registry import get_engine
from tryon.errors import ApiError
from tryon.fetch.client import FetchError
from tryon.generations import service as generations_service
from tryon.generations.models import Generation
from tryon.generations.watermark import apply_watermark
from tryon.images.intake import decode_image, encode_jpeg
from tryon.images.service import intake_limits
from tryon.storage import deletions, keys

log = logging.getLogger("tryon.worker")


class _Failure(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def run_generation(context: AppContext, generation_id: str) -> str:
    """Run one generation to COMPLETED or FAILED; safe to call twice (only one run claims it)."""
    if not _claim(context, generation_id):
        return "skipped"
    with context.sessions() as session:
        generation = session.get(Generation, generation_id)
        assert generation is not None
        logo_key = None
        if generation.use_watermark:
            logo_key = session.scalar(
                select(Account.logo_key).where(Account.id == generation.account_id)
            )
    try:
        result = _generate(context, generation, logo_key)
    except _Failure as failure:
        fail_generation(context, generation_id, failure.code, failure.message)
        return failure.code
    except Exception:
        log.exception("generation %s crashed in the engine", generation_id)
        fail_generation(context, generation_id, "ENGINE_ERROR", "The try-on model failed.")
        return "ENGINE_ERROR"
    return _complete(context, generation, result)


def _claim(context: AppContext, generation_id: str) -> bool:
    now = context.clock.now()
    with transaction(context.sessions) as session:
        claimed = session.execute(
            update(Generation)
            .where(Generation.id == generation_id, Generation.status == "PENDING")
            .values(
                status="PROCESSING",
                attempts=Generation.attempts + 1,
                started_at=now,
                updated_at=now,
            )
        )
        return bool(claimed.rowcount)


def _generate(context: AppContext, generation: Generation, logo_key: str | None) -> bytes:
    person_bytes = context.blobs.get(generation.person_key or "")
    if person_bytes is None:
        raise _Failure("CUSTOMER_DATA_ERASED", "The customer image is no longer stored.")
    limits = intake_limits(context)
    person = decode_image(person_bytes, limits)
    snapshot = generation.product_snapshot or {}
    product_images = [_product_image(context, entry) for entry in snapshot.get("images", [])]
    engine_name = context.settings.engine if generation.live else "placeholder"
    try:
        result = get_engine(engine_name).generate(
            TryOnInput(
                person_image=person,
                product_images=product_images,
                product_title=snapshot.get("title"),
                product_description=snapshot.get("description"),
            )
        )
    except EngineError as exc:
        raise _Failure(exc.code, exc.message) from exc
    if result.size != person.size:
        result = result.resize(person.size)
    if logo_key:
        logo = context.blobs.get(logo_key)
        if logo is not None:
            result = apply_watermark(result, logo)
    return encode_jpeg(result.convert("RGB"))


def _product_image(context: AppContext, entry: dict[str, str]) -> Image.Image:
    limits = intake_limits(context)
    if "key" in entry:
        data = context.blobs.get(entry["key"])
        if data is None:
            raise _Failure("PRODUCT_IMAGE_FETCH_FAILED", "A product image is no longer stored.")
    else:
        try:
            data = context.fetch(entry["url"])
        except FetchError as exc:
            raise _Failure(
                "PRODUCT_IMAGE_FETCH_FAILED", f"A product image could not be downloaded: {exc}"
            ) from exc
    try:
        return decode_image(data, limits)
    except ApiError as exc:
        raise _Failure(
            "PRODUCT_IMAGE_UNUSABLE", f"A product image is not usable: {exc.message}"
        ) from exc


def _complete(context: AppContext, generation: Generation, result_jpeg: bytes) -> str:
    key = keys.generation_key(generation.account_id, generation.live, generation.id, "result")
    context.blobs.put(key, result_jpeg)
    now = context.clock.now()
    with transaction(context.sessions) as session:
        done = session.execute(
            update(Generation)
            .where(Generation.id == generation.id, Generation.status == "PROCESSING")
            .values(
                status="COMPLETED",
                result_key=key,
                updated_at=now,
                finished_at=now,
                credits_reserved=0,
            )
        )
        completed = bool(done.rowcount)
        if not completed:
            # The generation was settled meanwhile (erased, or failed as lost): the result must
            # not be linked, so it is deleted rather than left behind.
            deletions.schedule(session, [key], now)
    if not completed:
        deletions.execute_quietly(context, [key])
        return "discarded"
    return "COMPLETED"


def fail_generation(context: AppContext, generation_id: str, code: str, message: str) -> bool:
    """Mark a PENDING/PROCESSING generation FAILED and refund its credit (exactly once)."""
    now = context.clock.now()
    with transaction(context.sessions) as session:
        failed = session.execute(
            update(Generation)
            .where(Generation.id == generation_id, Generation.status.in_(("PENDING", "PROCESSING")))
            .values(
                status="FAILED",
                error_code=code,
                error_message=message,
                updated_at=now,
                finished_at=now,
            )
        )
        if not failed.rowcount:
            return False
        generations_service.refund_reserved_credit(session, generation_id, now)
    return True


def recover_lost_generations(context: AppContext) -> dict[str, int]:
    """Re-run or fail generations that a crashed worker or a lost queue message left behind."""
    settings = context.settings
    now = context.clock.now()
    requeued = failed = 0
    stale_processing = now - timedelta(seconds=settings.job_stale_seconds)
    stale_pending = now - timedelta(seconds=settings.pending_requeue_seconds)
    with context.sessions() as session:
        stuck = session.execute(
            select(Generation.id, Generation.status, Generation.attempts).where(
                ((Generation.status == "PROCESSING") & (Generation.started_at < stale_processing))
                | ((Generation.status == "PENDING") & (Generation.updated_at < stale_pending))
            )
        ).all()
    for generation_id, status, attempts in stuck:
        if attempts >= settings.max_job_attempts:
            if fail_generation(
                context, generation_id, "ENGINE_TIMEOUT", "The generation did not finish in time."
            ):
                failed += 1
            continue
        with transaction(context.sessions) as session:
            moved = session.execute(
                update(Generation)
                .where(Generation.id == generation_id, Generation.status == status)
                .values(status="PENDING", updated_at=now)
            )
        if moved.rowcount:
            context.enqueue_generation(generation_id)
            requeued += 1
    return {"requeued": requeued, "failed": failed}
