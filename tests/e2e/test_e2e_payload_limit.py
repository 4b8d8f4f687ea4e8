"""A server whose whole-request limit is small: bodies over it are 413 PAYLOAD_TOO_LARGE."""

from __future__ import annotations

import io
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


@pytest.fixture
def json_logs(capture_logs) -> io.StringIO:  # type: ignore[no-untyped-def]
    return capture_logs(json_lines=True, level="INFO")


def test_refused_bodies_are_logged_as_413_with_a_request_id(shop, json_logs) -> None:  # type: ignore[no-untyped-def]
    """Declared or streamed, an oversized body is an access line with status 413 and an
    X-Request-Id, never an 'unhandled error' (which would page an operator for nothing)."""
    body = json.dumps({"externalId": "s", "metadata": "x" * LIMIT}).encode()

    def chunks() -> Iterator[bytes]:
        for start in range(0, len(body), 8192):
            yield body[start : start + 8192]

    declared = shop.live.post(
        "/products", content=body, headers={"content-type": "application/json"}
    )
    streamed = shop.live.post(
        "/products", content=chunks(), headers={"content-type": "application/json"}
    )
    for response in (declared, streamed):
        assert_error(response, 413, "PAYLOAD_TOO_LARGE")
        assert response.headers["X-Request-Id"]
    lines = [json.loads(line) for line in json_logs.getvalue().splitlines()]
    assert not [line for line in lines if line["event"] == "unhandled error"]
    statuses = {line["request_id"]: line["status"] for line in lines if line["event"] == "request"}
    assert statuses[declared.headers["X-Request-Id"]] == 413
    assert statuses[streamed.headers["X-Request-Id"]] == 413
