"""Fixtures of the privacy suite: a server without worker or periodic sweeper (tests run the
generation task and the sweeper themselves), a blocking engine, and the audit after each test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from privacy_helpers import BlockingEngine, assert_consistent

from tryon.context import AppContext
from tryon.engines import registry
from tryon.server import RunningServer, start_server


@pytest.fixture
def server(context: AppContext) -> Iterator[RunningServer]:
    """Overrides tests/conftest.py: nothing consumes the queue, no sweeper runs by itself."""
    running = start_server(context, worker=False)
    yield running
    running.stop()


@pytest.fixture
def blocking_engine(monkeypatch: pytest.MonkeyPatch, context: AppContext) -> BlockingEngine:
    """Live keys use an engine that waits in ``generate`` until the test releases it."""
    engine = BlockingEngine()
    monkeypatch.setitem(registry.FACTORIES, "blocking", lambda: engine)
    monkeypatch.setitem(registry._instances, "blocking", engine)
    monkeypatch.setattr(context.settings, "engine", "blocking")
    yield engine
    engine.release.set()


@pytest.fixture(autouse=True)
def storage_invariant(request: pytest.FixtureRequest) -> Iterator[None]:
    """After every scenario: no orphaned object, no row pointing at a missing one.

    Taken before the test's own fixtures, so it is checked after their teardown (fault wrappers
    undone, threads released) and before the context closes.
    """
    context = request.getfixturevalue("context") if "context" in request.fixturenames else None
    yield
    if context is not None:
        assert_consistent(context)
