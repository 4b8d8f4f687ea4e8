"""Signed URLs for stored objects, never outliving the object's retention."""

from __future__ import annotations

from datetime import datetime

from tryon.context import AppContext


def signed_url(
    context: AppContext, base_url: str, key: str, retention_ends_at: datetime | None
) -> str:
    now = context.clock.now().timestamp()
    expires = int(now) + context.settings.signed_url_ttl_seconds
    if retention_ends_at is not None:
        expires = min(expires, int(retention_ends_at.timestamp()))
    return context.signer.sign(base_url, key, expires)
