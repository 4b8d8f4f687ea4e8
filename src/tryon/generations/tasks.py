"""The background work of a generation: run the engine, store the result, settle the credit."""

from __future__ import annotations

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
from tryon.logs import exception_fields, get_logger
from tryon.storage import deletions, keys

log = get_logger("tryon.worker")


class _Failure(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def run_generation(context: AppContext, generation_id: str) -> str:
    """Run one generation to COMPLETED or FAILED; safe to call twice (only one run claims it)."""
    attempt = claim_generation(context, generation_id)
    if attempt is None:
        return "skipped"
    return finish_generation(context, generation_id, attempt)


def finish_generation(context: AppContext, generation_id: str, attempt: int) -> str:
    """Run a claimed attempt: engine, result, settlement. An attempt whose generation was
    settled meanwhile (erased, expired, or given up as lost) links nothing and keeps nothing."""
    with context.sessions() as session:
        generation = session.get(Generation, generation_id)
        assert generation is not None
        if generation.status != "PROCESSING" or generation.attempts != attempt:
            # Settled since the claim (erased, expired, given up): its inputs may be gone.
            return "discarded"
        logo_key = None
        if generation.use_watermark:
            logo_key = session.scalar(
                select(Account.logo_key).where(Account.id == generation.account_id)
            )
    try:
        result = _generate(context, generation, logo_key)
    except _Failure as failure:
        fail_generation(context, generation_id, failure.code, failure.message, attempt)
        return failure.code
    except Exception as exc:
        log.error("engine crashed", generation_id=generation_id, **exception_fields(exc))
        fail_generation(context, generation_id, "ENGINE_ERROR", "The try-on model failed.", attempt)
        return "ENGINE_ERROR"
    return _complete(context, generation, attempt, result)


def claim_generation(context: AppContext, generation_id: str) -> int | None:
    """Move a PENDING generation to PROCESSING; returns the attempt number, None if not PENDING."""
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
            .returning(Generation.attempts)
        ).first()
        return None if claimed is None else int(claimed[0])


def _ours(generation_id: str, attempt: int):  # type: ignore[no-untyped-def]
    """The condition that the generation is still PROCESSING by this attempt."""
    return (
        (Generation.id == generation_id)
        & (Generation.status == "PROCESSING")
        & (Generation.attempts == attempt)
    )


def _generate(context: AppContext, generation: Generation, logo_key: str | None) -> bytes:
    person_bytes = context.blobs.get(generation.person_key) if generation.person_key else None
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


def _complete(context: AppContext, generation: Generation, attempt: int, result_jpeg: bytes) -> str:
    with context.sessions() as session:
        if session.scalar(select(Generation.id).where(_ours(generation.id, attempt))) is None:
            # Settled meanwhile (erased, expired, given up): write nothing at all.
            return "discarded"
    key = keys.result_key(generation.account_id, generation.live, generation.id, attempt)
    context.blobs.put(key, result_jpeg)
    now = context.clock.now()
    with transaction(context.sessions) as session:
        done = session.execute(
            update(Generation)
            .where(_ours(generation.id, attempt))
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


def fail_generation(
    context: AppContext, generation_id: str, code: str, message: str, attempt: int | None = None
) -> bool:
    """Mark a PENDING/PROCESSING generation FAILED and refund its credit (exactly once).

    With ``attempt``, only while that attempt still holds it (a late attempt that was given up
    as lost must not fail the attempt that replaced it).
    """
    now = context.clock.now()
    in_flight = Generation.status.in_(("PENDING", "PROCESSING"))
    condition = in_flight if attempt is None else _ours(generation_id, attempt)
    with transaction(context.sessions) as session:
        failed = session.execute(
            update(Generation)
            .where(Generation.id == generation_id, condition)
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
            select(
                Generation.id,
                Generation.account_id,
                Generation.live,
                Generation.status,
                Generation.attempts,
            ).where(
                ((Generation.status == "PROCESSING") & (Generation.started_at < stale_processing))
                | ((Generation.status == "PENDING") & (Generation.updated_at < stale_pending))
            )
        ).all()
    for generation_id, account_id, live, status, attempts in stuck:
        # The lost attempt may have written its result before dying: it is deleted in the
        # same transaction that takes the generation from it, so it can no longer link it.
        leftover = (
            [keys.result_key(account_id, live, generation_id, attempts)]
            if status == "PROCESSING"
            else []
        )
        if attempts >= settings.max_job_attempts:
            if _give_up(context, generation_id, status, attempts, leftover):
                failed += 1
            continue
        with transaction(context.sessions) as session:
            moved = session.execute(
                update(Generation)
                .where(
                    Generation.id == generation_id,
                    Generation.status == status,
                    Generation.attempts == attempts,
                )
                .values(status="PENDING", updated_at=now)
            )
            scheduled = deletions.schedule(session, leftover, now) if moved.rowcount else []
        deletions.execute_quietly(context, scheduled)
        if moved.rowcount:
            context.enqueue_generation(generation_id)
            requeued += 1
    return {"requeued": requeued, "failed": failed}


def _give_up(
    context: AppContext, generation_id: str, status: str, attempts: int, leftover: list[str]
) -> bool:
    """Fail a generation that used all its attempts (ENGINE_TIMEOUT, refunded)."""
    now = context.clock.now()
    with transaction(context.sessions) as session:
        failed = session.execute(
            update(Generation)
            .where(
                Generation.id == generation_id,
                Generation.status == status,
                Generation.attempts == attempts,
            )
            .values(
                status="FAILED",
                error_code="ENGINE_TIMEOUT",
                error_message="The generation did not finish in time.",
                updated_at=now,
                finished_at=now,
            )
        )
        if not failed.rowcount:
            return False
        generations_service.refund_reserved_credit(session, generation_id, now)
        scheduled = deletions.schedule(session, leftover, now)
    deletions.execute_quietly(context, scheduled)
    return True
