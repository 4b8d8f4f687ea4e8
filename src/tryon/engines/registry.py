"""Engines by name, created once per process (models load once, not per job)."""

from __future__ import annotations

import threading
from collections.abc import Callable

from tryon.engines.base import Engine

_lock = threading.Lock()
_instances: dict[str, Engine] = {}


def _local() -> Engine:
    from tryon.engines.local.engine import LocalEngine

    return LocalEngine()


def _placeholder() -> Engine:
    from tryon.engines.placeholder import PlaceholderEngine

    return PlaceholderEngine()


FACTORIES: dict[str, Callable[[], Engine]] = {"local": _local, "placeholder": _placeholder}


def engine_names() -> list[str]:
    """The names ``get_engine`` knows (the ``engine`` setting accepts only these)."""
    return sorted(FACTORIES)


def get_engine(name: str) -> Engine:
    """The process-wide engine called ``name``; ValueError for an unknown name."""
    if name not in FACTORIES:
        raise ValueError(f"unknown engine {name!r}; choose one of {engine_names()}")
    with _lock:
        if name not in _instances:
            _instances[name] = FACTORIES[name]()
        return _instances[name]
