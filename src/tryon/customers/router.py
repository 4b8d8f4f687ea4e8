"""``/customers/{customerId}``: erasure, its receipts, and the right of access."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request, Response

from tryon.accounts.service import Caller
from tryon.customers import service as customers_service
from tryon.deps import get_context, get_full_caller, public_base_url
from tryon.errors import validation_error

router = APIRouter()
# Ids are the merchant's (``gid://shop/Customer/42`` has slashes): ``:path`` takes them whole.
# The receipts route goes first, so the access route does not swallow ``.../erasures``.


def _check(customer_id: str) -> None:
    if not 1 <= len(customer_id) <= 200 or not customer_id.isprintable():
        raise validation_error("customerId", "must be 1-200 printable characters")


@router.delete("/customers/{customer_id:path}", status_code=204, summary="Erase a customer's data")
def erase_customer(
    customer_id: str, request: Request, caller: Caller = Depends(get_full_caller)
) -> Response:
    _check(customer_id)
    customers_service.erase_customer(get_context(request), caller, customer_id)
    return Response(status_code=204)


@router.get("/customers/{customer_id:path}/erasures", summary="Receipts of a customer's erasures")
def get_erasures(
    customer_id: str, request: Request, caller: Caller = Depends(get_full_caller)
) -> dict[str, Any]:
    _check(customer_id)
    items = customers_service.erasure_receipts(get_context(request), caller, customer_id)
    return {"items": items, "count": len(items)}


@router.get(
    "/customers/{customer_id:path}", summary="What is held for a customer (right of access)"
)
def get_customer(
    customer_id: str, request: Request, caller: Caller = Depends(get_full_caller)
) -> dict[str, Any]:
    _check(customer_id)
    return customers_service.customer_data(
        get_context(request), caller, customer_id, public_base_url(request)
    )
