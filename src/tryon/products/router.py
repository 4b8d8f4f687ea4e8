"""Products: ``POST /products``, ``GET /products``, ``GET|DELETE /products/{externalId}``."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query, Request, Response
from starlette.concurrency import run_in_threadpool

from tryon.accounts.service import Caller
from tryon.context import AppContext
from tryon.db import transaction
from tryon.deps import get_context, get_full_caller
from tryon.errors import ApiError
from tryon.openapi_bodies import PRODUCT_SCHEMA, json_or_multipart
from tryon.products import service as products_service
from tryon.products.schemas import ProductInput, parse_product, product_object
from tryon.storage import deletions
from tryon.wire import read_body

router = APIRouter()


@router.post(
    "/products",
    summary="Create or update a product",
    openapi_extra=json_or_multipart(PRODUCT_SCHEMA),
)
async def upsert_product(
    request: Request, caller: Caller = Depends(get_full_caller)
) -> dict[str, Any]:
    context = get_context(request)
    body = await read_body(request, context.settings.max_upload_bytes)
    product_input = parse_product(body.document, "", allow_catalog_fields=True)
    if product_input.external_id is None:
        raise ApiError("EXTERNAL_ID_REQUIRED", "externalId is required.")
    return await run_in_threadpool(_upsert, context, caller, product_input, body.files)


def _upsert(
    context: AppContext, caller: Caller, product_input: ProductInput, files: dict[str, bytes]
) -> dict[str, Any]:
    uploads = products_service.store_uploaded_images(
        context, caller, product_input.images or [], files
    )
    try:
        with transaction(context.sessions) as session:
            now = context.clock.now()
            product, replaced = products_service.upsert_product(
                session, caller, now, product_input, uploads
            )
            to_delete = deletions.schedule(session, replaced, now)
            result = product_object(product)
    except BaseException:
        products_service.discard_uploads(context, uploads)
        raise
    deletions.execute_quietly(context, to_delete)
    return result


@router.get("/products", summary="List products, newest first")
def list_products(
    request: Request,
    limit: int = Query(50, ge=1, le=200),
    cursor: str | None = Query(None, max_length=500),
    caller: Caller = Depends(get_full_caller),
) -> dict[str, Any]:
    context = get_context(request)
    with context.sessions() as session:
        page, next_cursor = products_service.list_products(
            session, caller, context.clock.now(), limit, cursor
        )
        items = [product_object(p) for p in page]
    return {
        "items": items,
        "nextCursor": next_cursor,
        "hasMore": next_cursor is not None,
        "count": len(items),
    }


# externalIds are the shop's own (``gid://shopify/Product/1`` has slashes): ``:path`` takes them
# whole, percent-encoded or not.
@router.get("/products/{external_id:path}", summary="Get a product")
def get_product(
    external_id: str, request: Request, caller: Caller = Depends(get_full_caller)
) -> dict[str, Any]:
    context = get_context(request)
    with context.sessions() as session:
        product = products_service.find_product(session, caller, external_id, context.clock.now())
        return product_object(product)


@router.delete("/products/{external_id:path}", status_code=204, summary="Delete a product")
def delete_product(
    external_id: str, request: Request, caller: Caller = Depends(get_full_caller)
) -> Response:
    context = get_context(request)
    with transaction(context.sessions) as session:
        stored = products_service.delete_product(session, caller, external_id)
        to_delete = deletions.schedule(session, stored, context.clock.now())
    deletions.execute_quietly(context, to_delete)
    return Response(status_code=204)
