"""Structured logs: one access line per request with its fields, and nothing secret in any line."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
import structlog

from tryon.logs import configure_logging
from tryon.server import RunningServer

SAMPLES = Path(__file__).resolve().parents[2] / "src" / "tryon" / "demo_samples"


@pytest.fixture
def log_lines() -> Iterator[io.StringIO]:
    root = logging.getLogger()
    saved_handlers, saved_level = root.handlers[:], root.level
    configure_logging("DEBUG", json_lines=True)
    stream = io.StringIO()
    root.handlers[0].setStream(stream)  # type: ignore[attr-defined]
    yield stream
    root.handlers = saved_handlers
    root.setLevel(saved_level)
    structlog.reset_defaults()


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
