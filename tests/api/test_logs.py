"""Structured logs: one access line per request with its fields, and nothing secret in any line."""

from __future__ import annotations

import io
import json
import logging
from pathlib import Path

import pytest
import structlog

from tryon.accounts import service as accounts_service
from tryon.server import RunningServer

SAMPLES = Path(__file__).resolve().parents[2] / "src" / "tryon" / "demo_samples"


@pytest.fixture
def log_lines(capture_logs) -> io.StringIO:  # type: ignore[no-untyped-def]
    return capture_logs(json_lines=True)


@pytest.fixture(params=[False, True], ids=["console", "json"])
def any_log_lines(request: pytest.FixtureRequest, capture_logs) -> io.StringIO:  # type: ignore[no-untyped-def]
    """Logs as ``tryon serve`` writes them by default (console) and with ``--log-json``."""
    return capture_logs(json_lines=request.param)


def test_access_lines_carry_request_fields_and_no_secrets(
    server: RunningServer, make_shop, log_lines: io.StringIO
) -> None:  # type: ignore[no-untyped-def]
    shop = make_shop()
    customer_id = "shopper-7f3a9c-logcheck"
    upload = shop.live.post(
        "/images/upload",
        files={
            "file": ("me.jpg", (SAMPLES / "people" / "1_posture.jpg").read_bytes(), "image/jpeg")
        },
        data={"customerId": customer_id, "crop": "false"},
    )
    assert upload.status_code == 200
    signed_url = upload.json()["imageUrl"]
    assert shop.live.delete(f"/customers/{customer_id}").status_code == 204
    assert shop.live.get("/generations/gen_missing").status_code == 404

    text = log_lines.getvalue()
    for secret in (customer_id, shop.live_key, shop.test_key, signed_url.split("?")[1]):
        assert secret not in text
    access = [json.loads(line) for line in text.splitlines() if '"event": "request"' in line]
    routes = {(entry["method"], entry["route"], entry["status"]) for entry in access}
    assert ("DELETE", "/customers/{customer_id}", 204) in routes
    assert ("GET", "/generations/{generation_id}", 404) in routes
    for entry in access:
        assert entry["request_id"] and entry["duration_ms"] >= 0
        assert entry["account_id"] == shop.account_id
    assert upload.headers["X-Request-Id"] in {entry["request_id"] for entry in access}


def test_an_unexpected_error_logs_where_it_happened_and_nothing_it_held(
    server: RunningServer, make_shop, any_log_lines: io.StringIO, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    """A crash's log lines carry the exception type and code locations only: not its message,
    not a traceback, not the frames' local variables (the console renderer prints those)."""
    shop = make_shop()
    server_secret = server.context.secret
    customer_id = "shopper-crash-4711"

    def explode(*args: object, **kwargs: object) -> int:
        held = (server_secret, shop.live_key, customer_id)  # locals a traceback would show
        raise RuntimeError(f"boom while holding {held}")

    monkeypatch.setattr(accounts_service, "credit_balance", explode)
    response = shop.live.get("/account/credits")
    assert response.status_code == 500 and response.json()["code"] == "INTERNAL_ERROR"
    # The same keep-alive connection still answers: nothing escaped to the server.
    monkeypatch.undo()
    assert shop.live.get("/account/credits").status_code == 200

    text = any_log_lines.getvalue()
    secret_forms = (repr(server_secret)[2:30], server_secret.hex(), shop.live_key, customer_id)
    for secret in secret_forms:
        assert secret not in text
    assert "Traceback" not in text and "boom while holding" not in text
    assert "unhandled error" in text and "RuntimeError" in text
    assert "test_logs.py" in text  # where: the failing frame is named
    assert "status=500" in text or '"status": 500' in text  # the access line is still written


def test_exceptions_logged_by_libraries_lose_their_message_and_traceback(
    any_log_lines: io.StringIO,
) -> None:
    """Uvicorn, Huey and others log exceptions through the standard library: same rule."""
    try:
        api_key = "gk_live_librarylogcheck"
        raise ValueError(f"bad key {api_key}")
    except ValueError:
        logging.getLogger("uvicorn.error").exception("Exception in ASGI application")
        structlog.get_logger("tryon.test").warning("ours, with exc_info", exc_info=True)
    text = any_log_lines.getvalue()
    assert "Exception in ASGI application" in text and "ours, with exc_info" in text
    assert "gk_live_librarylogcheck" not in text and "Traceback" not in text
    assert text.count("ValueError") == 2
