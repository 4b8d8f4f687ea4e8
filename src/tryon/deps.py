"""FastAPI dependencies shared by every router: the context, the caller, the base URL."""

from __future__ import annotations

from fastapi import Depends, Request

from tryon.accounts import service as accounts_service
from tryon.accounts.service import Caller
from tryon.context import AppContext
from tryon.errors import ApiError


def get_context(request: Request) -> AppContext:
    context: AppContext = request.app.state.context
    return context


def get_caller(request: Request) -> Caller:
    """Authenticate the ``x-api-key`` and count the request against the account's rate limit.

    Failed authentications are counted per client address: past the limit, that address gets
    429 for the rest of the minute, which makes guessing keys slow.
    """
    context = get_context(request)
    now = context.clock.now().timestamp()
    client = request.client.host if request.client else "unknown"
    limit = context.settings.failed_auth_limit_per_minute
    blocked = context.auth_failures.hit(client, limit, now, count_it=False)
    if not blocked.allowed:
        raise ApiError(
            "RATE_LIMITED",
            "Too many failed authentications from this address; retry later.",
            headers={"Retry-After": str(blocked.reset_seconds)},
        )
    try:
        with context.sessions() as session:
            caller = accounts_service.authenticate(session, request.headers.get("x-api-key"))
    except ApiError:
        context.auth_failures.hit(client, limit, now)
        raise
    decision = context.rate_limiter.hit(caller.account_id, caller.rate_limit_per_minute, now)
    # The middleware in tryon.app copies these onto every response, errors included.
    request.state.rate_limit_headers = decision.headers()
    request.state.account_id = caller.account_id
    if not decision.allowed:
        raise ApiError(
            "RATE_LIMITED",
            f"Too many requests: the limit is {decision.limit} per minute.",
            headers=decision.headers(),
        )
    return caller


def get_full_caller(caller: Caller = Depends(get_caller)) -> Caller:
    """``get_caller`` for the endpoints a ``try-on`` key may not call: 403 FORBIDDEN."""
    if caller.scope != "full":
        raise ApiError(
            "FORBIDDEN",
            "This key may only upload photos, start try-ons and read their generations.",
        )
    return caller


def public_base_url(request: Request) -> str:
    configured = get_context(request).settings.public_base_url
    return configured.rstrip("/") if configured else str(request.base_url).rstrip("/")
