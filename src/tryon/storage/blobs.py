"""The blob store: put / get / delete / list by key, over obstore.

Keys never contain personal data (no customer ids): they are laid out by account and opaque
random ids, so that a bucket listing reveals nothing and an S3 bucket can replace the folder.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import obstore
from obstore.store import from_url


class StorageUnavailable(Exception):
    """The blob store could not be reached or refused the operation (maps to 503)."""


class BlobStore:
    def __init__(self, url: str) -> None:
        self.url = url
        self._local_root: Path | None = None
        if url.startswith("file://"):
            self._local_root = Path(url.removeprefix("file://"))
            self._local_root.mkdir(parents=True, exist_ok=True)
            self._store = from_url(url, mkdir=True)
        else:
            self._store = from_url(url)

    def put(self, key: str, data: bytes) -> None:
        try:
            obstore.put(self._store, key, data)
        except Exception as exc:  # obstore raises its own hierarchy; all mean "not stored"
            raise StorageUnavailable(f"could not store object: {type(exc).__name__}") from exc

    def get(self, key: str) -> bytes | None:
        """The object's bytes, or None when it does not exist."""
        try:
            return bytes(obstore.get(self._store, key).bytes())
        except FileNotFoundError:
            return None
        except Exception as exc:
            raise StorageUnavailable(f"could not read object: {type(exc).__name__}") from exc

    def delete(self, key: str) -> None:
        """Delete an object; deleting a missing object succeeds (idempotent)."""
        try:
            obstore.delete(self._store, key)
        except FileNotFoundError:
            pass
        except Exception as exc:
            raise StorageUnavailable(f"could not delete object: {type(exc).__name__}") from exc
        self._prune_empty_folders(key)

    def keys(self, prefix: str | None = None) -> Iterator[str]:
        for key, _ in self.objects(prefix):
            yield key

    def objects(self, prefix: str | None = None) -> Iterator[tuple[str, datetime]]:
        """Every stored object's key and last-modified time (UTC)."""
        try:
            for batch in obstore.list(self._store, prefix=prefix):
                for meta in batch:
                    yield meta["path"], meta["last_modified"]
        except FileNotFoundError:
            return
        except Exception as exc:
            raise StorageUnavailable(f"could not list objects: {type(exc).__name__}") from exc

    def _prune_empty_folders(self, key: str) -> None:
        # A local folder keeps empty directories after deletes; remove them so that nothing
        # (not even a name) of erased data is left behind.
        if self._local_root is None:
            return
        folder = (self._local_root / key).parent
        while folder != self._local_root and self._local_root in folder.parents:
            try:
                os.rmdir(folder)
            except OSError:
                return
            folder = folder.parent
