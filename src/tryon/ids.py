"""Opaque random identifiers."""

from __future__ import annotations

import secrets


def new_id(prefix: str, nbytes: int = 12) -> str:
    """``prefix`` + URL-safe random token (96 bits by default): unguessable, no existence oracle."""
    return prefix + secrets.token_hex(nbytes)
