"""``DELETE /customers/{customerId}``: the right to erasure."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request, Response

from tryon.accounts.service import Caller
from tryon.customers import service as customers_service
from tryon.deps import get_caller, get_context
from tryon.errors import validation_error

router = APIRouter()


@router.delete("/customers/{customer_id}", status_code=204, summary="Erase a customer's data")
def erase_customer(
    customer_id: str, request: Request, caller: Caller = Depends(get_caller)
) -> Response:
    if not 1 <= len(customer_id) <= 200 or not customer_id.isprintable():
        raise validation_error("customerId", "must be 1-200 printable characters")
    customers_service.erase_customer(get_context(request), caller, customer_id)
    return Response(status_code=204)
