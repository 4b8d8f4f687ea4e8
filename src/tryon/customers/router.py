"""``/customers/{customerId}``: erasure, its receipts, and the right of access."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request, Response

from tryon.accounts.service import Caller
from tryon.customers import service as customers_service
from tryon.deps import get_context, get_full_caller, public_base_url
from tryon.wire import checked_identifier

router = APIRouter()
# Ids are the merchant's (``gid://shop/Customer/42`` has slashes): ``:path`` takes them whole.
# The receipts route goes first, so the access route does not swallow ``.../erasures``.


@router.delete("/customers/{customer_id:path}", status_code=204, summary="Erase a customer's data")
def erase_customer(
    customer_id: str, request: Request, caller: Caller = Depends(get_full_caller)
) -> Response:
    checked_identifier(customer_id, "customerId")
    customers_service.erase_customer(get_context(request), caller, customer_id)
    return Response(status_code=204)


@router.get("/customers/{customer_id:path}/erasures", summary="Receipts of a customer's erasures")
def get_erasures(
    customer_id: str, request: Request, caller: Caller = Depends(get_full_caller)
) -> dict[str, Any]:
    checked_identifier(customer_id, "customerId")
    items = customers_service.erasure_receipts(get_context(request), caller, customer_id)
    return {"items": items, "count": len(items)}


@router.get(
    "/customers/{customer_id:path}", summary="What is held for a customer (right of access)"
)
def get_customer(
    customer_id: str, request: Request, caller: Caller = Depends(get_full_caller)
) -> dict[str, Any]:
    checked_identifier(customer_id, "customerId")
    return customers_service.customer_data(
        get_context(request), caller, customer_id, public_base_url(request)
    )
