"""``POST /try-on``, ``POST /try-on/sync`` and ``GET /generations/{id}``."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from fastapi import APIRouter, Depends, Header, Query, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from tryon.accounts.service import Caller
from tryon.context import AppContext
from tryon.deps import get_caller, get_context, public_base_url
from tryon.generations import service as generations_service
from tryon.generations.schemas import generation_object, parse_try_on
from tryon.openapi_bodies import TRY_ON_SCHEMA, json_or_multipart
from tryon.storage.urls import signed_url
from tryon.wire import checked_identifier, read_body

router = APIRouter()
SYNC_POLL_SECONDS = 0.25
MAX_SYNC_TIMEOUT = 300.0


async def _accept(request: Request, caller: Caller, idempotency_key: str | None) -> dict[str, Any]:
    context = get_context(request)
    body = await read_body(request, context.settings.max_upload_bytes)
    try_on = parse_try_on(body.document)
    idempotency = None
    if idempotency_key is not None:
        checked_identifier(idempotency_key, "Idempotency-Key")
        fingerprint = generations_service.body_fingerprint(body.document, body.files)
        idempotency = (idempotency_key, fingerprint)
    return await run_in_threadpool(
        generations_service.create_generation_idempotent,
        context,
        caller,
        try_on,
        body.files,
        idempotency,
    )


@router.post(
    "/try-on",
    summary="Create a try-on generation (asynchronous)",
    openapi_extra=json_or_multipart(TRY_ON_SCHEMA),
)
async def try_on(
    request: Request,
    caller: Caller = Depends(get_caller),
    idempotency_key: str | None = Header(None, alias="Idempotency-Key"),
) -> dict[str, Any]:
    return await _accept(request, caller, idempotency_key)


@router.post(
    "/try-on/sync",
    summary="Create a try-on generation and wait for it",
    openapi_extra=json_or_multipart(TRY_ON_SCHEMA),
)
async def try_on_sync(
    request: Request,
    timeout: float | None = Query(None, ge=0, le=MAX_SYNC_TIMEOUT),
    caller: Caller = Depends(get_caller),
    idempotency_key: str | None = Header(None, alias="Idempotency-Key"),
) -> Any:
    context = get_context(request)
    accepted = await _accept(request, caller, idempotency_key)
    wait = context.settings.sync_timeout_seconds if timeout is None else timeout
    deadline = time.monotonic() + wait
    while True:
        generation = await run_in_threadpool(
            _generation_body, context, caller, accepted["generationId"], public_base_url(request)
        )
        if generation["status"] in generations_service.FINAL_STATUSES:
            return generation
        if time.monotonic() >= deadline:
            return JSONResponse(accepted | {"status": generation["status"]}, status_code=202)
        await asyncio.sleep(SYNC_POLL_SECONDS)


@router.get("/generations/{generation_id}", summary="Status of a generation")
def get_generation(
    generation_id: str, request: Request, caller: Caller = Depends(get_caller)
) -> dict[str, Any]:
    return _generation_body(get_context(request), caller, generation_id, public_base_url(request))


def _generation_body(
    context: AppContext, caller: Caller, generation_id: str, base_url: str
) -> dict[str, Any]:
    with context.sessions() as session:
        generation = generations_service.find_generation(
            session, caller, generation_id, context.clock.now()
        )
        url = None
        if generation.status == "COMPLETED" and generation.result_key:
            url = signed_url(context, base_url, generation.result_key, generation.expires_at)
        return generation_object(generation, url)
