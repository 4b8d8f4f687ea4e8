"""Authentication, the error body shape, and errors that are not about one endpoint."""

from __future__ import annotations

import httpx
from e2e_helpers import (
    accepted,
    assert_error,
    check_each,
    credits,
    make_jpeg,
    start_try_on,
    upload,
    wait_for,
)
from sqlalchemy import update
from sqlalchemy.exc import OperationalError

from tryon.accounts import service as accounts_service
from tryon.accounts.models import Account
from tryon.db import transaction

# Every endpoint that needs a key, with a body that would otherwise be acceptable or close.
ENDPOINTS = [
    ("POST", "/images/upload"),
    ("POST", "/try-on"),
    ("POST", "/try-on/sync"),
    ("GET", "/generations/gen_unknown"),
    ("POST", "/products"),
    ("GET", "/products"),
    ("GET", "/products/sku-1"),
    ("DELETE", "/products/sku-1"),
    ("GET", "/account/credits"),
    ("DELETE", "/customers/cust-1"),
]


def api(server) -> httpx.Client:  # type: ignore[no-untyped-def]
    return httpx.Client(base_url=server.base_url + "/tryon/v1", timeout=30)


def test_no_key_is_missing_api_key_on_every_endpoint(server) -> None:
    with api(server) as client:

        def check(endpoint: tuple[str, str]) -> None:
            method, path = endpoint
            # Even a malformed body is refused for the missing key first.
            response = client.request(method, path, content=b"{not json")
            assert_error(response, 401, "MISSING_API_KEY")
            response = client.request(method, path, headers={"x-api-key": ""})
            assert_error(response, 401, "MISSING_API_KEY")

        check_each(ENDPOINTS, check)


def test_unknown_key_is_invalid_api_key_on_every_endpoint(server) -> None:
    with api(server) as client:

        def check(endpoint: tuple[str, str]) -> None:
            method, path = endpoint
            response = client.request(method, path, headers={"x-api-key": "gk_live_" + "x" * 43})
            assert_error(response, 401, "INVALID_API_KEY")

        check_each(ENDPOINTS, check)


def test_malformed_or_unknown_keys_are_invalid(server) -> None:
    with api(server) as client:

        def check(key: str) -> None:
            response = client.get("/account/credits", headers={"x-api-key": key})
            assert_error(response, 401, "INVALID_API_KEY")

        check_each(["gk_", "nope", "Bearer gk_live_abc", "gk_test_" + "A" * 43], check)


def test_a_valid_key_without_its_prefix_is_not_accepted(shop) -> None:
    # Only the exact key authenticates: a truncated or extended key is unknown.
    for key in (shop.live_key[:-1], shop.live_key + "x", shop.live_key.upper()):
        response = shop.live.get("/account/credits", headers={"x-api-key": key})
        assert_error(response, 401, "INVALID_API_KEY")


def test_revoked_key_is_invalid_and_other_keys_keep_working(shop, context) -> None:
    assert credits(shop.live) == 10
    with transaction(context.sessions) as session:
        revoked = accounts_service.revoke_keys(session, context.clock.now(), shop.live_key[:16])
    assert shop.live_key.startswith(revoked)
    assert_error(shop.live.get("/account/credits"), 401, "INVALID_API_KEY")
    assert_error(shop.live.post("/images/upload"), 401, "INVALID_API_KEY")
    # The account's test key is a different key: still valid.
    assert shop.test.get("/account/credits").status_code == 200
    # A new live key for the same account works and sees the same balance.
    with transaction(context.sessions) as session:
        new_key = accounts_service.create_key(session, context.clock.now(), shop.account_id)
    response = shop.live.get("/account/credits", headers={"x-api-key": new_key})
    assert response.status_code == 200
    assert response.json() == {"creditBalance": 10}


def test_keys_of_a_disabled_account_are_invalid(make_shop, context) -> None:
    shop, other = make_shop(), make_shop()
    with transaction(context.sessions) as session:
        session.execute(update(Account).where(Account.id == shop.account_id).values(disabled=True))
    for client in (shop.live, shop.test):
        assert_error(client.get("/account/credits"), 401, "INVALID_API_KEY")
        assert_error(
            client.post("/images/upload", files={"file": ("a.jpg", make_jpeg(), "image/jpeg")}),
            401,
            "INVALID_API_KEY",
        )
    assert credits(other.live) == 10
    with transaction(context.sessions) as session:
        session.execute(update(Account).where(Account.id == shop.account_id).values(disabled=False))
    assert credits(shop.live) == 10


# What a storefront's ``try-on`` key may not call: the catalog, customers' data and credits.
FULL_SCOPE_ONLY = [
    ("POST", "/products"),
    ("GET", "/products"),
    ("GET", "/products/sku-1"),
    ("DELETE", "/products/sku-1"),
    ("GET", "/account/credits"),
    ("DELETE", "/customers/cust-1"),
    ("GET", "/customers/cust-1"),
    ("GET", "/customers/cust-1/erasures"),
]


def test_a_try_on_key_is_forbidden_everything_but_upload_try_on_and_generations(
    server, shop, context
) -> None:  # type: ignore[no-untyped-def]
    with transaction(context.sessions) as session:
        key = accounts_service.create_key(
            session, context.clock.now(), shop.account_id, live=True, scope="try-on"
        )
    with api(server) as client:
        client.headers["x-api-key"] = key
        image = upload(client, customerId="cust-1")
        generation_id = accepted(start_try_on(client, image["imageId"], customerId="cust-1"))
        assert wait_for(client, generation_id)["status"] == "COMPLETED"

        def check(endpoint: tuple[str, str]) -> None:
            method, path = endpoint
            assert_error(client.request(method, path, json={}), 403, "FORBIDDEN")

        check_each(FULL_SCOPE_ONLY, check)
    # The full key of the same account still sees what the try-on key made.
    assert shop.live.get("/customers/cust-1").status_code == 200
    assert credits(shop.live) == 9


def test_unknown_path_and_method_answer_in_the_error_shape(shop) -> None:
    assert_error(shop.live.get("/nothing-here"), 404, "NOT_FOUND")
    assert_error(shop.live.put("/account/credits"), 405, "METHOD_NOT_ALLOWED")
    assert_error(shop.live.delete("/try-on"), 405, "METHOD_NOT_ALLOWED")


def test_body_that_is_not_json_is_validation_failed(shop) -> None:
    headers = {"content-type": "application/json"}
    for path in ("/try-on", "/try-on/sync", "/products"):
        response = shop.live.post(path, content=b"{not json", headers=headers)
        assert_error(response, 400, "VALIDATION_FAILED", paths=["body"])
        response = shop.live.post(path, content=b"[1, 2]", headers=headers)
        assert_error(response, 400, "VALIDATION_FAILED", paths=["body"])
        response = shop.live.post(path, content=b"", headers=headers)
        assert_error(response, 400, "VALIDATION_FAILED", paths=["body"])
        response = shop.live.post(path, content=b"\xff\xfe\x00garbage", headers=headers)
        assert_error(response, 400, "VALIDATION_FAILED", paths=["body"])


def test_multipart_without_data_field_or_broken_is_validation_failed(shop) -> None:
    response = shop.live.post(
        "/try-on", files={"garment": ("g.jpg", make_jpeg(), "image/jpeg")}, data={"x": "1"}
    )
    assert_error(response, 400, "VALIDATION_FAILED", paths=["data"])
    response = shop.live.post(
        "/try-on",
        content=b"--b\r\nContent-Disposition: form-data; name=",
        headers={"content-type": "multipart/form-data; boundary=b"},
    )
    # Unparsable, or parsed as a form without its data field: either names what is wrong.
    body = assert_error(response, 400, "VALIDATION_FAILED")
    assert [d["path"] for d in body["details"]] in (["body"], ["data"])
    response = shop.live.post(
        "/try-on", data={"data": "{broken"}, files={"g": ("g.jpg", b"x", "image/jpeg")}
    )
    assert_error(response, 400, "VALIDATION_FAILED", paths=["body"])


def test_an_unexpected_error_is_internal_error_without_a_stack_trace(shop, monkeypatch) -> None:
    def explode(*args: object, **kwargs: object) -> int:
        raise RuntimeError("secret internal detail /srv/tryon/db.py line 42")

    monkeypatch.setattr(accounts_service, "credit_balance", explode)
    response = shop.live.get("/account/credits")
    body = assert_error(response, 500, "INTERNAL_ERROR")
    assert "secret internal detail" not in response.text
    assert "RuntimeError" not in body["message"]


def test_a_database_outage_is_service_unavailable(shop, monkeypatch) -> None:
    def down(*args: object, **kwargs: object) -> int:
        raise OperationalError("SELECT 1", {}, Exception("database is locked"))

    monkeypatch.setattr(accounts_service, "credit_balance", down)
    response = shop.live.get("/account/credits")
    assert_error(response, 503, "SERVICE_UNAVAILABLE")
    assert "SELECT" not in response.text and "locked" not in response.text


def test_storage_outage_on_upload_is_service_unavailable(shop, context, monkeypatch) -> None:
    from tryon.storage.blobs import StorageUnavailable

    def down(key: str, data: bytes) -> None:
        raise StorageUnavailable("could not store object: test")

    monkeypatch.setattr(context.blobs, "put", down)
    response = shop.live.post(
        "/images/upload", files={"file": ("a.jpg", make_jpeg(), "image/jpeg")}
    )
    assert_error(response, 503, "SERVICE_UNAVAILABLE")
    monkeypatch.undo()
    upload(shop.live)


def test_error_responses_after_authentication_carry_rate_limit_headers(shop) -> None:
    response = shop.live.get("/generations/gen_nope")
    assert_error(response, 404, "GENERATION_NOT_FOUND")
    for name in ("RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset"):
        assert response.headers[name].isdigit()


ODD_DOCUMENTS = [
    {},
    {"product": [], "customer": []},
    {"product": {}, "customer": {}},
    {"products": [None], "person": None},
    {"products": [[]], "person": {"image": {"source": None}}},
    {"product": {"images": [None, 1, "x"]}, "customer": {"id": 5}},
    {"product": {"imageUrls": [None]}, "customer": {"url": 5}},
    {"product": {"externalId": ["a"]}, "customer": {"fileKey": {}}},
    {"product": {"externalId": "a\u0000b"}, "customer": {"id": "\u0000"}},
    {"product": {"externalId": "x", "title": None, "images": None}, "customer": {"id": "x"}},
    {"product": {"imageUrls": ["http://" + "a" * 3000]}, "customer": {"id": "i"}},
    {"product": {"imageUrls": ["http://x/a.jpg"]}, "customer": {"id": "i"}, "retentionDays": 1e9},
    {"product": {"imageUrls": ["http://x/a.jpg"]}, "customer": {"id": "i"}, "output": []},
    {"externalId": 10**30, "validForDays": 10**30, "metadata": {"a": [{}] * 50}},
    {"externalId": "🧥 jacket", "title": "é" * 500, "images": [{"source": {"fileKey": 1}}]},
    {"externalId": "x", "images": [{"source": {"source": {"url": "http://x/a.jpg"}}}]},
]


def test_odd_bodies_never_cause_a_500_or_leak_internals(shop) -> None:
    for document in ODD_DOCUMENTS:
        for path in ("/try-on", "/try-on/sync?timeout=0", "/products"):
            response = shop.live.post(path, json=document)
            if response.status_code == 200:
                continue  # an odd but valid product
            assert 400 <= response.status_code < 500, (path, document, response.text)
            assert_error(response, response.status_code, response.json()["code"])
    for path in (
        "/generations/%00",
        "/generations/" + "x" * 5000,
        "/products/%20",
        "/products/" + "%FF" * 10,
        "/products?limit=-5&cursor=%00",
    ):
        response = shop.live.get(path)
        assert 400 <= response.status_code < 500, (path, response.text)
        assert_error(response, response.status_code, response.json()["code"])
    for path in ("/customers/%00", "/customers/%20", "/customers/" + "x" * 5000):
        response = shop.live.delete(path)
        assert response.status_code in (204, 400), (path, response.text)
        if response.status_code == 400:
            assert_error(response, 400, "VALIDATION_FAILED", paths=["customerId"])
    assert credits(shop.live) == 10
