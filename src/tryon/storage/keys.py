"""Object key layout. One function per kind of object, so the layout is stated once."""

from __future__ import annotations

import secrets


def customer_image_key(account_id: str, live: bool) -> str:
    return f"{_root(account_id, live)}/customer-images/{secrets.token_hex(16)}.jpeg"


def product_image_key(account_id: str, live: bool) -> str:
    return f"{_root(account_id, live)}/product-images/{secrets.token_hex(16)}.jpeg"


def generation_key(account_id: str, live: bool, generation_id: str, name: str) -> str:
    """Snapshot and result objects of one generation (``person``, ``product-0``, ``result``)."""
    return f"{_root(account_id, live)}/generations/{generation_id}/{name}.jpeg"


def result_key(account_id: str, live: bool, generation_id: str, attempt: int) -> str:
    """The result of one attempt of a generation: a worker re-running it after a crash writes
    its own object, so a late or dead earlier attempt can never overwrite or delete it."""
    return generation_key(account_id, live, generation_id, f"result-{attempt}")


def logo_key(account_id: str) -> str:
    return f"accounts/{account_id}/logo-{secrets.token_hex(8)}.png"


def _root(account_id: str, live: bool) -> str:
    return f"accounts/{account_id}/{'live' if live else 'test'}"
