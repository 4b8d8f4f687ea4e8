"""``GET /account/credits``."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request

from tryon.accounts import service as accounts_service
from tryon.accounts.service import Caller
from tryon.deps import get_context, get_full_caller

router = APIRouter()


@router.get("/account/credits", summary="Credit balance of the calling account")
def get_credits(request: Request, caller: Caller = Depends(get_full_caller)) -> dict[str, int]:
    with get_context(request).sessions() as session:
        return {"creditBalance": accounts_service.credit_balance(session, caller.account_id)}
