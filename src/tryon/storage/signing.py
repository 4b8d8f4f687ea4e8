"""Signed, expiring URLs for stored objects, served by the server itself.

A URL names one object key and an expiry, signed with HMAC-SHA256 under the server secret
(created on first start in the data folder, mode 0600). Changing the key or expiry breaks it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
from pathlib import Path
from urllib.parse import quote

FILES_PATH = "/tryon/v1/files/"


def load_or_create_secret(data_dir: Path) -> bytes:
    """The server secret, created atomically on first start and kept in the data folder."""
    path = data_dir / "secret.key"
    if path.exists():
        return bytes.fromhex(path.read_text().strip())
    data_dir.mkdir(parents=True, exist_ok=True)
    secret = secrets.token_bytes(32)
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(secret.hex())
    try:
        # link() fails if another process created the secret first: then use theirs.
        os.link(tmp, path)
    except FileExistsError:
        pass
    finally:
        tmp.unlink(missing_ok=True)
    return bytes.fromhex(path.read_text().strip())


class UrlSigner:
    def __init__(self, secret: bytes) -> None:
        self._secret = hashlib.sha256(b"signed-urls:" + secret).digest()

    def _signature(self, key: str, expires: int) -> str:
        mac = hmac.new(self._secret, f"{key}\n{expires}".encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(mac).rstrip(b"=").decode()

    def sign(self, base_url: str, key: str, expires: int) -> str:
        """Absolute URL for ``key`` valid until the unix time ``expires``."""
        sig = self._signature(key, expires)
        return f"{base_url.rstrip('/')}{FILES_PATH}{quote(key)}?expires={expires}&signature={sig}"

    def verify(self, key: str, expires: int, signature: str, now: int) -> bool:
        if expires < now:
            return False
        return hmac.compare_digest(self._signature(key, expires), signature)
