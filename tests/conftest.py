"""Shared fixtures: a real server on loopback with its own data folder and a movable clock."""

from __future__ import annotations

import io
import logging
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import structlog

os.environ.setdefault("GLOG_minloglevel", "2")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from tryon.accounts import service as accounts_service
from tryon.clock import ManualClock
from tryon.config import Settings
from tryon.context import AppContext, build_context
from tryon.db import transaction
from tryon.logs import configure_logging
from tryon.server import RunningServer, start_server

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
SAMPLES = REPO / "src" / "tryon" / "demo_samples"


def shared_dir(name: str) -> Path:
    """A folder of ../shared, or skip the test when ../shared is not there."""
    path = SHARED / name
    if not path.is_dir():
        pytest.skip(f"../shared/{name} is not available")
    return path


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    # Live keys use the placeholder engine here: API tests test the API, not the model.
    # URL fetching may reach 127.0.0.1 here, where tests serve images; the SSRF tests build
    # their own policy without it.
    return Settings(
        data_dir=tmp_path / "data",
        engine="placeholder",
        sync_timeout_seconds=20,
        fetch_allow="127.0.0.1/32",
    )


@pytest.fixture
def context(settings: Settings, clock: ManualClock) -> Iterator[AppContext]:
    ctx = build_context(settings, clock)
    yield ctx
    ctx.close()


@pytest.fixture
def server(context: AppContext) -> Iterator[RunningServer]:
    running = start_server(context)
    yield running
    running.stop()


@dataclass
class Shop:
    """An account with a live and a test key, and HTTP clients for each."""

    account_id: str
    live_key: str
    test_key: str
    live: httpx.Client
    test: httpx.Client


@pytest.fixture
def make_shop(server: RunningServer) -> Iterator:  # type: ignore[type-arg]
    clients: list[httpx.Client] = []

    def make(credits: int = 10, rate_limit: int = 1000, retention_days: int = 7) -> Shop:
        ctx = server.context
        with transaction(ctx.sessions) as session:
            now = ctx.clock.now()
            account = accounts_service.create_account(
                session,
                now,
                "Shop",
                credits=credits,
                rate_limit=rate_limit,
                retention_days=retention_days,
            )
            live_key = accounts_service.create_key(session, now, account.id, live=True)
            test_key = accounts_service.create_key(session, now, account.id, live=False)
        base = server.base_url + "/tryon/v1"
        live = httpx.Client(base_url=base, headers={"x-api-key": live_key}, timeout=60)
        test = httpx.Client(base_url=base, headers={"x-api-key": test_key}, timeout=60)
        clients.extend([live, test])
        return Shop(account.id, live_key, test_key, live, test)

    yield make
    for client in clients:
        client.close()


@pytest.fixture
def shop(make_shop) -> Shop:  # type: ignore[no-untyped-def]
    return make_shop()


def sample_bytes(kind: str, name: str) -> bytes:
    """A shipped sample photo (people/1_posture.jpg, garments/shirts-3-front.jpg, ...)."""
    return (SAMPLES / kind / name).read_bytes()


@pytest.fixture
def capture_logs() -> Iterator[Callable[..., io.StringIO]]:
    """``capture_logs(json_lines, level)``: logs configured as ``tryon serve`` does, written
    into the returned string; the logging set-up is restored after the test."""
    root = logging.getLogger()
    saved_handlers, saved_level = root.handlers[:], root.level

    def start(json_lines: bool, level: str = "DEBUG") -> io.StringIO:
        configure_logging(level, json_lines=json_lines)
        stream = io.StringIO()
        root.handlers[0].setStream(stream)  # type: ignore[attr-defined]
        return stream

    yield start
    root.handlers = saved_handlers
    root.setLevel(saved_level)
    structlog.reset_defaults()
