"""Right of access (``GET /customers/:id``) and erasure receipts (``GET …/erasures``)."""

from __future__ import annotations

import re
from datetime import datetime
from urllib.parse import parse_qs, urlparse

from privacy_helpers import (
    accepted,
    assert_clean,
    blob_keys,
    error_of,
    fetch,
    make_jpeg,
    try_on,
    upload,
)

from tryon.customers.identity import customer_hash
from tryon.generations import tasks

ISO_MS_Z = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


def parse_iso(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def url_expiry(url: str) -> int:
    return int(parse_qs(urlparse(url).query)["expires"][0])


def test_access_lists_what_is_held_with_dates_retention_and_urls(make_shop, context) -> None:
    shop = make_shop()
    short = upload(shop.live, make_jpeg(seed=1), customerId="c-1", retentionDays=1)
    long = upload(shop.live, make_jpeg(seed=2), customerId="c-1")
    done = accepted(try_on(shop.live, {"id": long["imageId"]}, customerId="c-1"))
    assert tasks.run_generation(context, done) == "COMPLETED"
    waiting = accepted(
        try_on(shop.live, {"fileKey": "me"}, {"me": make_jpeg(seed=3)}, customerId="c-1")
    )
    # Not this customer's: another customer, no customer, another account, the test mode.
    upload(shop.live, make_jpeg(seed=4), customerId="c-2")
    upload(shop.live, make_jpeg(seed=5))
    upload(make_shop().live, make_jpeg(seed=6), customerId="c-1")
    upload(shop.test, make_jpeg(seed=7), customerId="c-1")

    response = shop.live.get("/customers/c-1")
    assert response.status_code == 200, response.text
    held = response.json()
    assert set(held) == {"uploads", "generations"}
    assert {u["imageId"] for u in held["uploads"]} == {short["imageId"], long["imageId"]}
    for entry in held["uploads"]:
        assert set(entry) == {"imageId", "imageUrl", "createdAt", "retentionDays", "expiresAt"}
        assert ISO_MS_Z.match(entry["createdAt"]) and ISO_MS_Z.match(entry["expiresAt"])
        days = (parse_iso(entry["expiresAt"]) - parse_iso(entry["createdAt"])).days
        assert days == entry["retentionDays"] == (1 if entry["imageId"] == short["imageId"] else 7)
        assert fetch(entry["imageUrl"]).status_code == 200
        # A signed URL never outlives the data's retention.
        assert url_expiry(entry["imageUrl"]) <= parse_iso(entry["expiresAt"]).timestamp()
    by_id = {g["generationId"]: g for g in held["generations"]}
    assert set(by_id) == {done, waiting}
    assert by_id[done]["status"] == "COMPLETED"
    assert fetch(by_id[done]["resultImageUrl"]).status_code == 200
    assert fetch(by_id[done]["personImageUrl"]).status_code == 200
    assert by_id[waiting]["status"] == "PENDING" and "resultImageUrl" not in by_id[waiting]
    for entry in by_id.values():
        assert ISO_MS_Z.match(entry["createdAt"]) and ISO_MS_Z.match(entry["expiresAt"])
        assert entry["retentionDays"] == 7

    # Expired data answers like deleted data: gone from the list before any sweep.
    context.clock.advance(days=1, seconds=1)
    held = shop.live.get("/customers/c-1").json()
    assert [u["imageId"] for u in held["uploads"]] == [long["imageId"]]
    # The other account and the test mode see nothing of it.
    assert error_of(shop.test.get("/customers/c-2")) == (404, "CUSTOMER_NOT_FOUND")


def test_nothing_held_is_customer_not_found(shop, context) -> None:
    body = shop.live.get("/customers/nobody").json()
    assert body == {
        "code": "CUSTOMER_NOT_FOUND",
        "message": "Nothing is held for this customer.",
        "status": 404,
    }
    upload(shop.live, make_jpeg(seed=8), customerId="c-gone")
    assert shop.live.delete("/customers/c-gone").status_code == 204
    assert shop.live.get("/customers/c-gone").json() == body
    upload(shop.live, make_jpeg(seed=9), customerId="c-expired", retentionDays=1)
    context.clock.advance(days=1, seconds=1)
    assert shop.live.get("/customers/c-expired").json() == body
    assert error_of(shop.live.get("/customers/" + "x" * 201)) == (400, "VALIDATION_FAILED")
    assert error_of(shop.live.get("/customers/x/erasures", headers={"x-api-key": "gk_no"})) == (
        401,
        "INVALID_API_KEY",
    )


def test_a_try_on_from_a_customer_photo_is_that_customers_too(shop, context) -> None:
    # Made from c-owner's photo but sent for c-other: both hold it; erasing the photo's owner
    # removes every copy of the photo.
    photo = upload(shop.live, make_jpeg(seed=10), customerId="c-owner")
    generation_id = accepted(try_on(shop.live, {"id": photo["imageId"]}, customerId="c-other"))
    assert tasks.run_generation(context, generation_id) == "COMPLETED"
    for customer in ("c-owner", "c-other"):
        held = shop.live.get(f"/customers/{customer}").json()
        assert [g["generationId"] for g in held["generations"]] == [generation_id]
    assert shop.live.delete("/customers/c-owner").status_code == 204
    assert error_of(shop.live.get("/customers/c-other")) == (404, "CUSTOMER_NOT_FOUND")
    assert not [k for k in blob_keys(context) if "/generations/" in k]
    assert_clean(context)


def test_receipts_prove_each_erasure_without_the_raw_id(make_shop, context) -> None:
    shop, other = make_shop(), make_shop()
    image = upload(shop.live, make_jpeg(seed=11), customerId="c-r")
    generation_id = accepted(try_on(shop.live, {"id": image["imageId"]}, customerId="c-r"))
    assert tasks.run_generation(context, generation_id) == "COMPLETED"
    assert shop.live.get("/customers/c-r/erasures").json() == {"items": [], "count": 0}

    assert shop.live.delete("/customers/c-r").status_code == 204
    context.clock.advance(minutes=1)
    assert shop.live.delete("/customers/c-r").status_code == 204  # nothing left: still a receipt
    body = shop.live.get("/customers/c-r/erasures").json()
    assert body["count"] == 2
    latest, first = body["items"]
    assert set(first) == {
        "erasureId",
        "customerHash",
        "status",
        "requestedAt",
        "completedAt",
        "imagesDeleted",
        "resultsDeleted",
        "generationsTouched",
        "objectsDeleted",
    }
    assert (first["imagesDeleted"], first["resultsDeleted"], first["generationsTouched"]) == (
        1,
        1,
        1,
    )
    assert first["objectsDeleted"] == 4  # photo, person copy, product copy, result
    assert (latest["imagesDeleted"], latest["objectsDeleted"]) == (0, 0)
    for receipt in body["items"]:
        assert receipt["status"] == "COMPLETED"
        assert ISO_MS_Z.match(receipt["requestedAt"]) and ISO_MS_Z.match(receipt["completedAt"])
        assert receipt["customerHash"] == customer_hash(context.secret, shop.account_id, "c-r")
        assert "c-r" not in str(receipt)
    assert parse_iso(latest["requestedAt"]) > parse_iso(first["requestedAt"])
    # Per account and per mode.
    assert other.live.get("/customers/c-r/erasures").json()["count"] == 0
    assert shop.test.get("/customers/c-r/erasures").json()["count"] == 0
    assert_clean(context)
