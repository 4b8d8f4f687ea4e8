"""Try-on generations: accept (validate, snapshot, reserve a credit, enqueue), read status."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from tryon.accounts import service as accounts_service
from tryon.accounts.service import Caller
from tryon.context import AppContext
from tryon.customers.identity import ErasureGuard, start_guard, stored_customer_id
from tryon.db import transaction
from tryon.errors import ApiError
from tryon.fetch.client import FetchError
from tryon.generations.models import Generation, IdempotencyRecord
from tryon.generations.schemas import TryOnRequest, accepted_response
from tryon.ids import new_id
from tryon.image_sources import ImageSource
from tryon.images import service as images_service
from tryon.images.intake import process_customer_image
from tryon.products import service as products_service
from tryon.products.models import Product
from tryon.storage import deletions, keys

IDEMPOTENCY_WINDOW = timedelta(hours=24)
FINAL_STATUSES = ("COMPLETED", "FAILED")
ERASED_MESSAGE = "The customer's data was erased."


@dataclass
class _Staged:
    """Objects written for a request before its transaction; deleted again if it fails."""

    keys: list[str] = field(default_factory=list)
    uploads: dict[str, products_service.StoredUpload] = field(default_factory=dict)
    # Set when the customer was erased while the request was processed: nothing was linked.
    erased: bool = False


def body_fingerprint(document: dict[str, Any], files: dict[str, bytes]) -> str:
    digest = hashlib.sha256(repr(sorted(_flatten(document))).encode())
    for name in sorted(files):
        digest.update(name.encode() + b"\0" + hashlib.sha256(files[name]).digest())
    return digest.hexdigest()


def _flatten(value: Any, prefix: str = "") -> list[tuple[str, str]]:
    if isinstance(value, dict):
        return [pair for k, v in value.items() for pair in _flatten(v, f"{prefix}.{k}")]
    if isinstance(value, list):
        return [pair for i, v in enumerate(value) for pair in _flatten(v, f"{prefix}.{i}")]
    return [(prefix, repr(value))]


def replay_idempotent(
    context: AppContext, caller: Caller, idempotency_key: str, fingerprint: str
) -> dict[str, Any] | None:
    """The first response for this key and body, None if new, 409 if the body differs."""
    with context.sessions() as session:
        record = session.get(IdempotencyRecord, (caller.account_id, caller.live, idempotency_key))
        if record is None or record.created_at <= context.clock.now() - IDEMPOTENCY_WINDOW:
            return None
        if record.body_hash != fingerprint:
            raise ApiError(
                "IDEMPOTENCY_KEY_REUSED", "This Idempotency-Key was used with another body."
            )
        return dict(record.response)


def create_generation(
    context: AppContext,
    caller: Caller,
    request: TryOnRequest,
    files: dict[str, bytes],
    *,
    idempotency: tuple[str, str] | None = None,
) -> dict[str, Any]:
    """Accept a try-on: store its snapshot, reserve a credit, record it PENDING and enqueue it.

    Returns the accepted response. Nothing is left behind when any step fails.
    """
    if caller.live:
        with context.sessions() as session:
            if accounts_service.credit_balance(session, caller.account_id) < 1:
                raise ApiError("INSUFFICIENT_CREDITS", "Not enough credits for this call.")
    _check_file_keys(request, files)
    generation_id = new_id("gen_")
    staged = _Staged()
    # Taken before any work: an erasure of this customer from now on wins over this try-on.
    guard = start_guard(context, caller, [stored_customer_id(context, caller, request.customer_id)])
    try:
        with context.sessions() as session:
            person_jpeg, source_image = _customer_image(context, session, caller, request, files)
            if source_image is not None:
                guard = guard.including(session, source_image.customer_id)
        person_key = keys.generation_key(caller.account_id, caller.live, generation_id, "person")
        staged.keys.append(person_key)
        context.blobs.put(person_key, person_jpeg)
        staged.uploads = products_service.store_uploaded_images(
            context, caller, request.product.images or [], files
        )
        response = _record(
            context,
            caller,
            request,
            generation_id,
            person_key,
            source_image,
            staged,
            idempotency,
            guard,
        )
    except BaseException:
        deletions.discard(context, staged.keys)
        products_service.discard_uploads(context, staged.uploads)
        raise
    if staged.erased:
        # Accepted, then erased at once: none of the copies stays, nothing runs.
        deletions.discard(context, staged.keys)
        return response
    context.enqueue_generation(generation_id)
    return response


def _check_file_keys(request: TryOnRequest, files: dict[str, bytes]) -> None:
    wanted = [request.customer_image.file_key] + [s.file_key for s in request.product.images or []]
    for file_key in wanted:
        if file_key is not None and file_key not in files:
            raise ApiError("MULTIPART_FILE_NOT_FOUND", f"No multipart part named {file_key!r}.")


def _customer_image(
    context: AppContext,
    session: Session,
    caller: Caller,
    request: TryOnRequest,
    files: dict[str, bytes],
) -> tuple[bytes, Any]:
    """The person photo's stored JPEG bytes, and the CustomerImage it came from (if any)."""
    source: ImageSource = request.customer_image
    if source.image_id is not None:
        image = images_service.find_customer_image(
            session, caller, source.image_id, context.clock.now()
        )
        data = context.blobs.get(image.storage_key)
        if data is None:
            raise ApiError("IMAGE_NOT_FOUND", "No image with this id (it may have expired).")
        return data, image
    if source.url is not None:
        try:
            raw = context.fetch(source.url)
        except FetchError as exc:
            raise ApiError(
                "CUSTOMER_IMAGE_FETCH_FAILED", f"customer.url could not be downloaded: {exc}"
            ) from exc
    else:
        assert source.file_key is not None
        raw = files[source.file_key]
    # Kept in its own framing: the result must match the photo the shopper sent.
    processed = process_customer_image(
        raw, crop=False, limits=images_service.intake_limits(context)
    )
    return processed.jpeg, None


def _record(
    context: AppContext,
    caller: Caller,
    request: TryOnRequest,
    generation_id: str,
    person_key: str,
    source_image: Any,
    staged: _Staged,
    idempotency: tuple[str, str] | None,
    guard: ErasureGuard,
) -> dict[str, Any]:
    try:
        with transaction(context.sessions) as session:
            now = context.clock.now()
            product = _resolve_product(session, caller, now, request, staged)
            snapshot = _product_snapshot(context, caller, generation_id, product, staged)
            staged.erased = guard.erased_since(session)
            days = (
                request.retention_days
                or (source_image.retention_days if source_image is not None else None)
                or caller.retention_days
            )
            expires_at = now + timedelta(days=days)
            if source_image is not None:
                # Contract 3 and 4: a stored photo keeps its own retention, and everything
                # derived from it (the copy of the photo, the result) goes when it goes, also
                # when the call asks for longer; a shorter retentionDays still shortens it.
                expires_at = min(expires_at, source_image.expires_at)
            # A generation made from a customer's stored photo belongs to that customer even
            # when the call does not repeat the customerId: erasing them must reach its copy.
            customer_id = stored_customer_id(context, caller, request.customer_id) or (
                source_image.customer_id if source_image is not None else None
            )
            generation = Generation(
                id=generation_id,
                account_id=caller.account_id,
                live=caller.live,
                customer_id=customer_id,
                product_external_id=product.external_id,
                status="PENDING",
                person_key=person_key,
                source_image_id=source_image.id if source_image is not None else None,
                photo_customer_id=source_image.customer_id if source_image is not None else None,
                product_snapshot=snapshot,
                use_watermark=request.use_watermark,
                credits_reserved=1 if caller.live else 0,
                attempts=0,
                retention_days=days,
                expires_at=expires_at,
                created_at=now,
                updated_at=now,
            )
            if staged.erased:
                # The customer was erased while this request was processed: the erasure wins.
                # The generation is recorded as accepted and ended by the erasure, like one in
                # flight (FAILED, CUSTOMER_DATA_ERASED, nothing charged), and links nothing.
                fail_in_flight(
                    session, generation, "CUSTOMER_DATA_ERASED", ERASED_MESSAGE, now, refund=False
                )
                forget_personal_data(generation, now)
                generation.credits_reserved = 0
            session.add(generation)
            session.flush()
            if caller.live and not staged.erased:
                accounts_service.reserve_credit(session, now, caller.account_id, generation_id)
            # The contract's answer to an accepted try-on, also when it already ended.
            response = {**accepted_response(generation), "status": "PENDING"}
            if idempotency is not None:
                # A record older than the window is no longer a replay; the sweeper may not
                # have removed it yet, so it is replaced here (else the insert would conflict).
                session.execute(
                    delete(IdempotencyRecord).where(
                        IdempotencyRecord.account_id == caller.account_id,
                        IdempotencyRecord.live == caller.live,
                        IdempotencyRecord.key == idempotency[0],
                        IdempotencyRecord.created_at <= now - IDEMPOTENCY_WINDOW,
                    )
                )
                session.add(
                    IdempotencyRecord(
                        account_id=caller.account_id,
                        live=caller.live,
                        key=idempotency[0],
                        body_hash=idempotency[1],
                        response=response,
                        created_at=now,
                    )
                )
    except IntegrityError:
        # A concurrent request with the same Idempotency-Key won the race: answer like it.
        if idempotency is not None:
            replay = replay_idempotent(context, caller, *idempotency)
            if replay is not None:
                raise _Replay(replay) from None
        raise
    return response


class _Replay(Exception):
    def __init__(self, response: dict[str, Any]) -> None:
        super().__init__("idempotent replay")
        self.response = response


def create_generation_idempotent(
    context: AppContext,
    caller: Caller,
    request: TryOnRequest,
    files: dict[str, bytes],
    idempotency: tuple[str, str] | None,
) -> dict[str, Any]:
    if idempotency is not None:
        replay = replay_idempotent(context, caller, *idempotency)
        if replay is not None:
            return replay
    try:
        return create_generation(context, caller, request, files, idempotency=idempotency)
    except _Replay as replay:
        return replay.response


def _resolve_product(
    session: Session, caller: Caller, now: datetime, request: TryOnRequest, staged: _Staged
) -> Product:
    product_input = request.product
    if product_input.is_reference:
        assert product_input.external_id is not None
        product = products_service.find_product(session, caller, product_input.external_id, now)
        products_service.touch_product(product, now)
        return product
    if product_input.external_id is None:
        return products_service.create_one_shot_product(
            session, caller, now, product_input, staged.uploads
        )
    product, replaced = products_service.upsert_product(
        session,
        caller,
        now,
        product_input,
        staged.uploads,
        default_lifetime_days=products_service.INLINE_LIFETIME_DAYS,
        touch=True,
    )
    deletions.schedule(session, replaced, now)
    return product


def _product_snapshot(
    context: AppContext, caller: Caller, generation_id: str, product: Product, staged: _Staged
) -> dict[str, Any]:
    """Copy what the generation needs of the product, so later product changes do not matter."""
    images: list[dict[str, Any]] = []
    for index, image in enumerate(product.images):
        if image.storage_key is None:
            images.append({"url": image.source_url})
            continue
        data = context.blobs.get(image.storage_key)
        if data is None:
            continue
        name = f"product-{index}"
        key = keys.generation_key(caller.account_id, caller.live, generation_id, name)
        context.blobs.put(key, data)
        staged.keys.append(key)
        images.append({"key": key})
    if not images:
        raise ApiError("PRODUCT_NOT_FOUND", "The product has no usable image.")
    return {"title": product.title, "description": product.description, "images": images}


def find_generation(
    session: Session, caller: Caller, generation_id: str, now: datetime
) -> Generation:
    generation = session.scalar(
        select(Generation).where(
            Generation.id == generation_id,
            Generation.account_id == caller.account_id,
            Generation.live == caller.live,
            Generation.expires_at > now,
        )
    )
    if generation is None:
        raise ApiError("GENERATION_NOT_FOUND", "No generation with this id (it may have expired).")
    return generation


def snapshot_keys(generation: Generation) -> list[str]:
    """Every stored object a generation links: person and product snapshots, result."""
    found = [generation.person_key, generation.result_key]
    for image in (generation.product_snapshot or {}).get("images", []):
        found.append(image.get("key"))
    return [k for k in found if k]


def attempt_result_keys(generation: Generation) -> list[str]:
    """Where each attempt so far may have written a result, linked or not (a worker killed
    between writing its result and recording it leaves one behind)."""
    return [
        keys.result_key(generation.account_id, generation.live, generation.id, attempt)
        for attempt in range(1, (generation.attempts or 0) + 1)
    ]


def refund_reserved_credit(session: Session, generation_id: str, now: datetime) -> bool:
    """Give back the generation's reserved credit, exactly once; True if a refund was made."""
    generation = session.get(Generation, generation_id)
    if generation is None:
        return False
    # The conditional UPDATE makes a second refund of the same generation a no-op.
    cleared = session.execute(
        update(Generation)
        .where(Generation.id == generation_id, Generation.credits_reserved > 0)
        .values(credits_reserved=0)
    )
    if not cleared.rowcount:
        return False
    accounts_service.refund_credit(session, now, generation.account_id, generation_id)
    return True


def fail_in_flight(
    session: Session,
    generation: Generation,
    code: str,
    message: str,
    now: datetime,
    *,
    refund: bool = True,
) -> None:
    """End a PENDING/PROCESSING generation as FAILED inside the caller's transaction, refunded."""
    if generation.status not in ("PENDING", "PROCESSING"):
        return
    generation.status = "FAILED"
    generation.error_code = code
    generation.error_message = message
    generation.finished_at = now
    generation.updated_at = now
    if refund:
        session.flush()
        refund_reserved_credit(session, generation.id, now)


def forget_personal_data(generation: Generation, now: datetime) -> list[str]:
    """Unlink the customer and every stored object of a generation; returns the keys to delete.

    The row itself stays, anonymous, so that aggregate counts survive. The keys include where
    every attempt may have written a result, so a result no row links is not left behind.
    """
    object_keys = list(dict.fromkeys(snapshot_keys(generation) + attempt_result_keys(generation)))
    snapshot = generation.product_snapshot or {}
    generation.customer_id = None
    generation.person_key = None
    generation.result_key = None
    generation.source_image_id = None
    generation.photo_customer_id = None
    generation.product_snapshot = {
        **snapshot,
        "images": [i for i in snapshot.get("images", []) if "url" in i],
    }
    generation.updated_at = now
    return object_keys
