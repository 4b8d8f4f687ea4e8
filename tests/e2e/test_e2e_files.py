"""Signed file URLs: no key needed, bound to one object and one expiry, private caching."""

from __future__ import annotations

from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest
from e2e_helpers import assert_error, fetch, fetch_jpeg, upload


def rebuild(url: str, path: str | None = None, **query: str) -> str:
    parts = urlsplit(url)
    params = {k: v[0] for k, v in parse_qs(parts.query).items()}
    params.update(query)
    return f"{parts.scheme}://{parts.netloc}{path or parts.path}?{urlencode(params)}"


def test_a_signed_url_needs_no_key_and_is_not_cached_by_shared_caches(shop) -> None:
    image = upload(shop.live)
    response = httpx.get(image["imageUrl"])
    assert response.status_code == 200
    assert response.headers["content-type"] == "image/jpeg"
    assert response.headers["cache-control"] == "private, no-store"
    assert response.headers["x-content-type-options"] == "nosniff"
    # A key sent anyway changes nothing.
    assert httpx.get(image["imageUrl"], headers={"x-api-key": "whatever"}).status_code == 200


def test_head_on_a_signed_url_answers_like_get_without_the_body(shop) -> None:
    image = upload(shop.live)
    got = httpx.get(image["imageUrl"])
    head = httpx.head(image["imageUrl"])
    assert head.status_code == 200 and head.content == b""
    for name in ("content-type", "content-length", "x-content-type-options"):
        assert head.headers[name] == got.headers[name], name
    assert head.headers["cache-control"] == "private, no-store"
    assert httpx.head(rebuild(image["imageUrl"], signature="")).status_code == 404


def test_a_changed_url_is_refused(shop) -> None:
    first = upload(shop.live)["imageUrl"]
    second = upload(shop.live)["imageUrl"]
    fetch_jpeg(first)
    signature = parse_qs(urlsplit(first).query)["signature"][0]
    expires = parse_qs(urlsplit(first).query)["expires"][0]
    tampered = [
        rebuild(first, signature=signature[:-2] + ("AA" if signature[-2:] != "AA" else "BB")),
        rebuild(first, signature=""),
        rebuild(first, expires=str(int(expires) + 3600)),
        rebuild(first, expires="not-a-number"),
        rebuild(first, path=urlsplit(second).path),  # another object, this signature
        first.split("?")[0],  # no signature at all
        rebuild(first, path=urlsplit(first).path.replace("/customer-images/", "/../")),
    ]
    for url in tampered:
        response = fetch(url)
        assert response.status_code in (400, 404), (url, response.status_code)
        assert_error(response, response.status_code, response.json()["code"])
        assert b"\xff\xd8\xff" not in response.content


@pytest.mark.parametrize("path", ["secret.key", "../secret.key", "..%2Fsecret.key", "tryon.db"])
def test_files_outside_the_blob_store_are_not_served(server, path: str) -> None:
    url = f"{server.base_url}/tryon/v1/files/{path}?expires=9999999999&signature=x"
    response = httpx.get(url)
    assert response.status_code in (400, 404)
    assert "code" in response.json()
