"""Fixtures for the engine tests."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def engine():  # type: ignore[no-untyped-def]
    """One local engine for the session: its MediaPipe graph is loaded once."""
    from tryon.engines.local.engine import LocalEngine

    return LocalEngine()
