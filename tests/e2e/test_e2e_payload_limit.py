"""A server whose whole-request limit is small: bodies over it are 413 PAYLOAD_TOO_LARGE."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from e2e_helpers import assert_error, make_jpeg, upload

from tryon.config import Settings

LIMIT = 48 * 1024


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Overrides tests/conftest.py: the same settings with a small request limit."""
    return Settings(
        data_dir=tmp_path / "data",
        engine="placeholder",
        sync_timeout_seconds=20,
        max_request_bytes=LIMIT,
    )


def padding(size: int) -> bytes:
    return make_jpeg(256, 320, seed=81) + bytes(size)


def test_declared_body_over_the_limit_is_payload_too_large(shop) -> None:
    response = shop.live.post(
        "/images/upload", files={"file": ("big.jpg", padding(LIMIT), "image/jpeg")}
    )
    assert_error(response, 413, "PAYLOAD_TOO_LARGE")
    document = {"product": {"images": [{"fileKey": "g"}]}, "customer": {"fileKey": "me"}}
    response = shop.live.post(
        "/try-on",
        data={"data": json.dumps(document)},
        files={"g": ("g.jpg", padding(LIMIT), "image/jpeg"), "me": ("m.jpg", b"x", "image/jpeg")},
    )
    assert_error(response, 413, "PAYLOAD_TOO_LARGE")
    big_json = {
        "externalId": "s",
        "imageUrls": ["https://x.example/a.jpg"],
        "metadata": "x" * LIMIT,
    }
    assert_error(shop.live.post("/products", json=big_json), 413, "PAYLOAD_TOO_LARGE")
    assert shop.live.get("/account/credits").json() == {"creditBalance": 10}


def test_streamed_body_over_the_limit_is_payload_too_large(shop) -> None:
    body = json.dumps(
        {"externalId": "s", "imageUrls": ["https://x.example/a.jpg"], "metadata": "x" * LIMIT}
    ).encode()

    def chunks() -> Iterator[bytes]:  # no Content-Length: the server counts as it reads
        for start in range(0, len(body), 8192):
            yield body[start : start + 8192]

    response = shop.live.post(
        "/products", content=chunks(), headers={"content-type": "application/json"}
    )
    assert "content-length" not in response.request.headers
    assert_error(response, 413, "PAYLOAD_TOO_LARGE")
    assert_error(shop.live.get("/products/s"), 404, "PRODUCT_NOT_FOUND")


def test_streamed_multipart_over_the_limit_is_payload_too_large(shop, blob_root) -> None:
    body = (
        b"--XyZ\r\n"
        b'Content-Disposition: form-data; name="file"; filename="a.jpg"\r\n'
        b"Content-Type: image/jpeg\r\n\r\n" + padding(LIMIT) + b"\r\n--XyZ--\r\n"
    )

    def chunks() -> Iterator[bytes]:
        for start in range(0, len(body), 8192):
            yield body[start : start + 8192]

    for path in ("/images/upload", "/try-on"):
        response = shop.live.post(
            path, content=chunks(), headers={"content-type": "multipart/form-data; boundary=XyZ"}
        )
        assert_error(response, 413, "PAYLOAD_TOO_LARGE")
    assert not blob_root.exists() or not any(p.is_file() for p in blob_root.rglob("*"))


def test_bodies_under_the_limit_still_work(shop) -> None:
    upload(shop.live, make_jpeg(256, 320, seed=82))
    response = shop.live.post(
        "/products", json={"externalId": "s", "imageUrls": ["https://x.example/a.jpg"]}
    )
    assert response.status_code == 200
