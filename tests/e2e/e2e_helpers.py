"""Helpers shared by the black-box tests: images, error assertions, polling, the blob folder."""

from __future__ import annotations

import io
import json
import time
from pathlib import Path
from typing import Any

import httpx
import numpy as np
from PIL import Image

FINAL = ("COMPLETED", "FAILED")
ISO_MS_Z = r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$"


def make_image(width: int = 256, height: int = 320, seed: int = 0) -> Image.Image:
    """A deterministic picture, different for every seed (so its bytes can be searched for)."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width]
    base = np.stack(
        [(x * 255 // max(1, width - 1)), (y * 255 // max(1, height - 1)), (x + y) % 256], axis=-1
    ).astype(np.int16)
    base += rng.integers(-40, 40, size=(1, 1, 3), dtype=np.int16)
    for _ in range(6):
        left, top = int(rng.integers(0, width - 16)), int(rng.integers(0, height - 16))
        base[top : top + 16 + int(rng.integers(0, 48)), left : left + 24] = rng.integers(0, 256, 3)
    return Image.fromarray(np.clip(base, 0, 255).astype(np.uint8), "RGB")


def make_jpeg(width: int = 256, height: int = 320, seed: int = 0) -> bytes:
    buffer = io.BytesIO()
    make_image(width, height, seed).save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


def make_png(width: int = 256, height: int = 320, seed: int = 0, mode: str = "RGB") -> bytes:
    buffer = io.BytesIO()
    make_image(width, height, seed).convert(mode).save(buffer, "PNG")
    return buffer.getvalue()


def decode(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def assert_no_stack_trace(response: httpx.Response) -> None:
    text = response.text
    for marker in ("Traceback", 'File "', "site-packages", "sqlalchemy.", "Exception:"):
        assert marker not in text, f"internal detail in the body: {text[:500]}"


def assert_error(
    response: httpx.Response,
    status: int,
    code: str,
    *,
    paths: list[str] | None = None,
) -> dict[str, Any]:
    """The response is the contract's error: HTTP status == body status, the code, a message."""
    assert response.status_code == status, (response.status_code, response.text[:500])
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert body["code"] == code, body
    assert body["status"] == status, body
    assert isinstance(body["message"], str) and body["message"], body
    assert_no_stack_trace(response)
    if code == "VALIDATION_FAILED":
        assert isinstance(body["details"], list) and body["details"], body
        for detail in body["details"]:
            assert isinstance(detail["path"], str) and detail["path"], body
            assert isinstance(detail["message"], str) and detail["message"], body
    if paths is not None:
        assert [d["path"] for d in body["details"]] == paths, body
    return body


def upload(
    client: httpx.Client, data: bytes | None = None, *, name: str = "photo.jpg", **fields: Any
) -> dict[str, str]:
    """POST /images/upload; returns {imageId, imageUrl} (asserting 200)."""
    data = make_jpeg() if data is None else data
    form = {k: str(v) for k, v in fields.items()}
    response = client.post("/images/upload", files={"file": (name, data, "image/jpeg")}, data=form)
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"imageId", "imageUrl"}
    return body


def one_shot(file_key: str = "garment") -> dict[str, Any]:
    """A one-shot product whose image is a multipart part named ``file_key``."""
    return {"title": "Shirt", "description": "A test shirt", "images": [{"fileKey": file_key}]}


def post_multipart(
    client: httpx.Client,
    path: str,
    document: dict[str, Any],
    files: dict[str, bytes],
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    parts = {name: (f"{name}.jpg", data, "image/jpeg") for name, data in files.items()}
    return client.post(path, data={"data": json.dumps(document)}, files=parts, headers=headers)


def start_try_on(
    client: httpx.Client,
    image_id: str,
    *,
    garment: bytes | None = None,
    headers: dict[str, str] | None = None,
    path: str = "/try-on",
    **extra: Any,
) -> httpx.Response:
    """An old-shape multipart try-on: a stored customer image and a one-shot product."""
    document = {"product": one_shot(), "customer": {"id": image_id}, **extra}
    files = {"garment": garment if garment is not None else make_jpeg(200, 240, seed=99)}
    return post_multipart(client, path, document, files, headers)


def accepted(response: httpx.Response) -> str:
    """Assert a try-on was accepted (200 PENDING); returns the generationId."""
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"generationId", "status", "productExternalId"}, body
    assert body["status"] == "PENDING"
    return str(body["generationId"])


def wait_for(client: httpx.Client, generation_id: str, timeout: float = 30.0) -> dict[str, Any]:
    """Poll GET /generations/:id every 0.1 s until COMPLETED or FAILED."""
    deadline = time.monotonic() + timeout
    while True:
        response = client.get(f"/generations/{generation_id}")
        assert response.status_code == 200, response.text
        body = response.json()
        if body["status"] in FINAL:
            return body
        assert time.monotonic() < deadline, f"generation still {body['status']}"
        time.sleep(0.1)


def complete_try_on(client: httpx.Client, image_id: str, **extra: Any) -> dict[str, Any]:
    """Start a try-on and wait for it; asserts it COMPLETED."""
    generation = wait_for(client, accepted(start_try_on(client, image_id, **extra)))
    assert generation["status"] == "COMPLETED", generation
    return generation


def fetch(url: str) -> httpx.Response:
    """GET a signed URL without any API key."""
    return httpx.get(url, timeout=30)


def fetch_jpeg(url: str) -> bytes:
    response = fetch(url)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "image/jpeg"
    assert response.content.startswith(b"\xff\xd8\xff")
    assert decode(response.content).format == "JPEG"
    return response.content


def blob_files(root: Path) -> dict[str, bytes]:
    """Every file under the blob folder, by path relative to it."""
    if not root.exists():
        return {}
    return {
        str(path.relative_to(root)): path.read_bytes() for path in root.rglob("*") if path.is_file()
    }


def credits(client: httpx.Client) -> int:
    response = client.get("/account/credits")
    assert response.status_code == 200, response.text
    assert set(response.json()) == {"creditBalance"}
    return int(response.json()["creditBalance"])


REPO = Path(__file__).resolve().parents[2]
SAMPLES = REPO / "src" / "tryon" / "demo_samples"
SHARED = REPO.parent / "shared"


def sample_bytes(kind: str, name: str) -> bytes:
    """A shipped sample photo (people/1_posture.jpg, garments/shirts-3-front.jpg, ...)."""
    return (SAMPLES / kind / name).read_bytes()


def shared_file(folder: str, name: str) -> bytes:
    """A file of ../shared/<folder>, or skip the test when it is not there."""
    import pytest

    path = SHARED / folder / name
    if not path.is_file():
        pytest.skip(f"../shared/{folder}/{name} is not available")
    return path.read_bytes()


def check_each(cases: list[Any], check: Any) -> None:
    """Run ``check(case)`` for every case within one test (one server), then report every
    failing case at once: the detail of a parametrized test without a server per case."""
    failures: list[str] = []
    for case in cases:
        try:
            check(case)
        except AssertionError as exc:
            failures.append(f"case {case!r}:\n    {exc}")
    assert not failures, "\n".join(failures)
