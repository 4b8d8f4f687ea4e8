"""``create_app``: routers, error handlers and middleware. No import-time state."""

from __future__ import annotations

import re
import secrets
import time
from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from sqlalchemy.exc import OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tryon import __version__
from tryon.accounts.router import router as accounts_router
from tryon.context import AppContext
from tryon.customers.router import router as customers_router
from tryon.errors import ApiError, ErrorDetail
from tryon.generations.router import router as generations_router
from tryon.images.router import router as images_router
from tryon.logs import exception_fields, get_logger
from tryon.products.router import router as products_router
from tryon.storage.blobs import StorageUnavailable
from tryon.storage.router import router as files_router

API_PREFIX = "/tryon/v1"
log = get_logger("tryon.api")
access_log = get_logger("tryon.access")


def create_app(context: AppContext) -> FastAPI:
    app = FastAPI(
        title="Tryon",
        version=__version__,
        description="Self-hosted virtual try-on API (Try-On API v1 wire contract).",
    )
    app.state.context = context
    for router in (
        images_router,
        generations_router,
        products_router,
        accounts_router,
        customers_router,
        files_router,
    ):
        app.include_router(router, prefix=API_PREFIX)

    @app.get("/healthz", include_in_schema=False)
    def health() -> dict[str, str]:
        return {"status": "ok"}

    _install_error_handlers(app)
    # Added before the access middleware so that it sits inside it: refusals of oversized
    # bodies get their access line and X-Request-Id like any other answer.
    app.add_middleware(BodySizeLimit, max_bytes=context.settings.max_request_bytes)  # type: ignore[arg-type]

    @app.middleware("http")
    async def headers_and_access_log(request: Request, call_next: Any) -> Any:
        started = time.perf_counter()
        request_id = secrets.token_hex(8)
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(request_id=request_id)
        try:
            response = await call_next(request)
        except Exception as exc:
            # Answered here rather than by an ``Exception`` handler: Starlette re-raises after
            # such a handler, and the server would then log the traceback, locals included.
            response = escaped_error_response(request, exc)
        for name, value in getattr(request.state, "rate_limit_headers", {}).items():
            response.headers.setdefault(name, value)
        response.headers["X-Request-Id"] = request_id
        # Log the route template, never the raw path or query: paths carry customer ids and
        # signed URLs carry signatures, neither of which may reach the logs.
        route = route_template(request)
        access_log.info(
            "request",
            method=request.method,
            route=route,
            status=response.status_code,
            duration_ms=round((time.perf_counter() - started) * 1000, 1),
            account_id=getattr(request.state, "account_id", None),
        )
        return response

    return app


def route_template(request: Request) -> str:
    """The matched route as written, without converters (``/customers/{customer_id}``)."""
    path = getattr(request.scope.get("route"), "path", None)
    return re.sub(r":\w+\}", "}", path) if path else "<unmatched>"


def error_response(error: ApiError) -> JSONResponse:
    return JSONResponse(error.body(), status_code=error.status, headers=error.headers or None)


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def api_error(request: Request, exc: ApiError) -> JSONResponse:
        return error_response(exc)

    @app.exception_handler(RequestValidationError)
    async def validation_failed(request: Request, exc: RequestValidationError) -> JSONResponse:
        details = [
            ErrorDetail(
                ".".join(
                    str(p)
                    for p in err.get("loc", ())
                    if p not in ("body", "query", "path", "header")
                )
                or "request",
                str(err.get("msg", "invalid")),
            )
            for err in exc.errors()
        ]
        message = "; ".join(f"{d.path}: {d.message}" for d in details)
        return error_response(ApiError("VALIDATION_FAILED", message, details))

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        if exc.status_code == 405:
            error = ApiError("METHOD_NOT_ALLOWED", "This method is not allowed on this path.")
        elif exc.status_code == 413:
            error = ApiError("PAYLOAD_TOO_LARGE", "The request body is too large.")
        elif exc.status_code == 404:
            error = ApiError("NOT_FOUND", "No such endpoint.")
        elif exc.status_code < 500:
            error = ApiError("VALIDATION_FAILED", str(exc.detail))
        else:
            error = ApiError("INTERNAL_ERROR", "Something went wrong on our side.")
        return error_response(error)

    @app.exception_handler(StorageUnavailable)
    async def storage_down(request: Request, exc: StorageUnavailable) -> JSONResponse:
        log.error("storage unavailable", error=str(exc))
        return error_response(ApiError("SERVICE_UNAVAILABLE", "Storage is unavailable; retry."))

    @app.exception_handler(OperationalError)
    async def database_down(request: Request, exc: OperationalError) -> JSONResponse:
        log.error("database unavailable", error=type(exc).__name__)
        return error_response(
            ApiError("SERVICE_UNAVAILABLE", "The database is unavailable; retry.")
        )


def escaped_error_response(request: Request, exc: Exception) -> Response:
    """The answer to an exception that reached the access middleware. An ApiError or a client
    that went away can arrive wrapped in an ExceptionGroup (Starlette's task groups): those are
    answered for what they are, not as a crash."""
    known = _first_of(exc, (ApiError, ClientDisconnect))
    if isinstance(known, ApiError):
        return error_response(known)
    if isinstance(known, ClientDisconnect):
        # Nobody reads this answer; 499 (nginx's "client closed request") marks the access line.
        return Response(status_code=499)
    return internal_error_response(request, exc)


def _first_of(exc: BaseException, kinds: tuple[type[BaseException], ...]) -> BaseException | None:
    if isinstance(exc, kinds):
        return exc
    if isinstance(exc, BaseExceptionGroup):
        for inner in exc.exceptions:
            found = _first_of(inner, kinds)
            if found is not None:
                return found
    return None


def internal_error_response(request: Request, exc: Exception) -> JSONResponse:
    """500 ``INTERNAL_ERROR`` for an unexpected exception; the log gets its type and code
    locations only (messages and locals can hold keys, customer ids and request bodies)."""
    route = route_template(request)
    log.error("unhandled error", method=request.method, route=route, **exception_fields(exc))
    return error_response(ApiError("INTERNAL_ERROR", "Something went wrong on our side."))


class BodySizeLimit:
    """Refuse request bodies over ``max_bytes`` with 413 PAYLOAD_TOO_LARGE, counted as streamed."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers", [])).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await self._refuse(scope, receive, send)
            return
        received = 0
        started = exceeded = replaced = False

        async def limited_receive() -> Message:
            nonlocal received, exceeded
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    exceeded = True
                    raise self._error()
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started, replaced
            if exceeded and not started:
                # Once the body went over the limit, the answer is 413 whatever the app made of
                # the error: the "http" middleware hands it on wrapped in an ExceptionGroup, and
                # the multipart parser reports any read error as an unparsable body.
                started = replaced = True
                await self._refuse(scope, receive, send)
                return
            if replaced:
                return
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except Exception:
            # Raised (possibly wrapped) from limited_receive with no answer sent yet.
            if not exceeded or started:
                raise
            await self._refuse(scope, receive, send)

    def _error(self) -> ApiError:
        return ApiError("PAYLOAD_TOO_LARGE", f"The request body is over {self.max_bytes} bytes.")

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        await error_response(self._error())(scope, receive, send)
