"""Signed URLs and the rate limiter, as units."""

from __future__ import annotations

import os
import stat
from pathlib import Path
from urllib.parse import parse_qs, urlparse

from tryon.accounts.ratelimit import RateLimiter
from tryon.storage.signing import UrlSigner, load_or_create_secret


def test_secret_is_created_once_private_and_reused(tmp_path: Path) -> None:
    first = load_or_create_secret(tmp_path)
    second = load_or_create_secret(tmp_path)
    assert first == second and len(first) == 32
    mode = stat.S_IMODE(os.stat(tmp_path / "secret.key").st_mode)
    assert mode == 0o600


def _parts(url: str) -> tuple[str, int, str]:
    parsed = urlparse(url)
    query = parse_qs(parsed.query)
    key = parsed.path.split("/tryon/v1/files/", 1)[1]
    return key, int(query["expires"][0]), query["signature"][0]


def test_signed_url_is_bound_to_key_and_expiry() -> None:
    signer = UrlSigner(b"k" * 32)
    key, expires, signature = _parts(signer.sign("http://h", "accounts/a/x.jpeg", 2000))
    assert signer.verify(key, expires, signature, now=1000)
    assert not signer.verify("accounts/a/y.jpeg", expires, signature, now=1000)
    assert not signer.verify(key, expires + 1, signature, now=1000)
    assert not signer.verify(key, expires, signature, now=2001)
    assert not UrlSigner(b"o" * 32).verify(key, expires, signature, now=1000)


def test_rate_limiter_counts_per_account_and_window() -> None:
    limiter = RateLimiter()
    decisions = [limiter.hit("a", 3, now=60.0 + i) for i in range(4)]
    assert [d.allowed for d in decisions] == [True, True, True, False]
    assert [d.remaining for d in decisions] == [2, 1, 0, 0]
    refused = decisions[-1].headers()
    assert refused["Retry-After"] == refused["RateLimit-Reset"] == "57"
    assert limiter.hit("b", 3, now=63.0).allowed  # other accounts count on their own
    assert limiter.hit("a", 3, now=120.0).allowed  # a new window starts afresh
