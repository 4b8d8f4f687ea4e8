"""Helpers of the privacy suite: images, HTTP shortcuts, the audit, the data folder, fault and
blocking wrappers around the blob store, and an engine that waits for the test."""

from __future__ import annotations

import io
import json
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import numpy as np
from PIL import Image

from tryon.context import AppContext
from tryon.engines.placeholder import PlaceholderEngine
from tryon.storage.audit import AuditReport, audit_storage
from tryon.storage.blobs import StorageUnavailable

FINAL = ("COMPLETED", "FAILED")


def make_jpeg(width: int = 160, height: int = 200, seed: int = 0) -> bytes:
    """A small noisy JPEG, different for every seed (so runs of its bytes are distinctive)."""
    rng = np.random.default_rng(seed)
    pixels = rng.integers(0, 256, size=(height, width, 3), dtype=np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(pixels, "RGB").save(buffer, "JPEG", quality=85)
    return buffer.getvalue()


def upload(client: httpx.Client, data: bytes, **fields: Any) -> dict[str, str]:
    form = {"crop": "false", **{k: str(v) for k, v in fields.items()}}
    response = client.post(
        "/images/upload", files={"file": ("me.jpg", data, "image/jpeg")}, data=form
    )
    assert response.status_code == 200, response.text
    return dict(response.json())


def try_on(
    client: httpx.Client,
    customer: dict[str, Any],
    files: dict[str, bytes] | None = None,
    *,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> httpx.Response:
    """A try-on with a one-shot product whose image is the multipart part ``garment``."""
    files = {"garment": make_jpeg(120, 140, seed=999), **(files or {})}
    document = {
        "product": {"title": "Shirt", "images": [{"fileKey": "garment"}]},
        "customer": customer,
        **extra,
    }
    parts = {name: (f"{name}.jpg", data, "image/jpeg") for name, data in files.items()}
    return client.post("/try-on", data={"data": json.dumps(document)}, files=parts, headers=headers)


def accepted(response: httpx.Response) -> str:
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "PENDING", body
    return str(body["generationId"])


def generation(client: httpx.Client, generation_id: str) -> dict[str, Any]:
    response = client.get(f"/generations/{generation_id}")
    assert response.status_code == 200, response.text
    return dict(response.json())


def credits(client: httpx.Client) -> int:
    return int(client.get("/account/credits").json()["creditBalance"])


def fetch(url: str) -> httpx.Response:
    return httpx.get(url, timeout=30)


def error_of(response: httpx.Response) -> tuple[int, str]:
    return response.status_code, response.json()["code"]


def blob_keys(context: AppContext) -> set[str]:
    return set(context.blobs.keys())


def data_files(context: AppContext) -> dict[str, bytes]:
    """Every file under the data folder: blobs, tryon.db and its WAL, queue.db, the secret."""
    root = context.settings.resolved_data_dir()
    return {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def traces(context: AppContext, needles: dict[str, bytes]) -> list[str]:
    """``name in file`` for every needle found in any file of the data folder."""
    return [
        f"{name} in {path}"
        for path, data in data_files(context).items()
        for name, needle in needles.items()
        if needle in data
    ]


def distinctive_runs(jpeg: bytes, count: int = 3, length: int = 48) -> list[bytes]:
    """Byte runs from the entropy-coded middle of a JPEG: found nowhere else by chance."""
    return [jpeg[len(jpeg) * (i + 1) // (count + 1) :][:length] for i in range(count)]


def audit(context: AppContext) -> AuditReport:
    return audit_storage(context)


def assert_clean(context: AppContext) -> AuditReport:
    report = audit_storage(context)
    assert report.clean, report.as_text()
    return report


def assert_consistent(context: AppContext) -> AuditReport:
    """No orphan and no missing object (expired rows may wait for the sweeper)."""
    report = audit_storage(context)
    assert not report.orphans and not report.missing, report.as_text()
    return report


class FaultyBlobs:
    """Wraps a BlobStore; ``failing`` operations raise StorageUnavailable while switched on."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner
        self.failing: set[str] = set()

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._inner, name)
        if name in ("put", "get", "delete", "keys", "objects"):

            def guarded(*args: Any, **kwargs: Any) -> Any:
                if name in self.failing:
                    raise StorageUnavailable(f"could not {name}: injected fault")
                return attribute(*args, **kwargs)

            return guarded
        return attribute


class BlockingBlobs:
    """Wraps a BlobStore; a ``put`` of a key matching ``pattern`` waits until released."""

    def __init__(self, inner: Any, pattern: str) -> None:
        self._inner = inner
        self.pattern = pattern
        self.reached = threading.Event()
        self.release = threading.Event()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def put(self, key: str, data: bytes) -> None:
        if self.pattern in key and not self.release.is_set():
            self.reached.set()
            assert self.release.wait(30), "the test never released the blocked put"
        self._inner.put(key, data)


class BlockingEngine:
    """The placeholder engine, but each generation waits in the engine until released."""

    name = "blocking"

    def __init__(self) -> None:
        self.started = threading.Event()
        self.release = threading.Event()

    def generate(self, request):  # type: ignore[no-untyped-def]
        self.started.set()
        assert self.release.wait(30), "the test never released the engine"
        return PlaceholderEngine().generate(request)


class Background:
    """Run a call in a thread; ``result()`` joins it and returns its value or raises."""

    def __init__(self, call: Callable[[], Any]) -> None:
        self._value: Any = None
        self._error: BaseException | None = None

        def run() -> None:
            try:
                self._value = call()
            except BaseException as exc:
                self._error = exc

        self._thread = threading.Thread(target=run, daemon=True)
        self._thread.start()

    def result(self, timeout: float = 30) -> Any:
        self._thread.join(timeout)
        assert not self._thread.is_alive(), "the background call did not finish"
        if self._error is not None:
            raise self._error
        return self._value


def wait_until(condition: Callable[[], bool], timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(0.01)


def db_path(context: AppContext) -> Path:
    return context.settings.resolved_data_dir() / "tryon.db"
