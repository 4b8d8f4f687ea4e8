"""Retention of everything: every kind of stored object and record has an end and the sweeper
removes it; expired data answers exactly like deleted data."""

from __future__ import annotations

import json

from privacy_helpers import (
    FaultyBlobs,
    accepted,
    assert_clean,
    assert_consistent,
    blob_keys,
    fetch,
    generation,
    make_jpeg,
    try_on,
    upload,
)
from sqlalchemy import func, select

from tryon.customers.models import PendingDeletion
from tryon.generations import tasks
from tryon.generations.models import Generation, IdempotencyRecord
from tryon.images.models import CustomerImage
from tryon.retention.service import sweep


def post_product(client, external_id: str, seed: int, **fields) -> None:  # type: ignore[no-untyped-def]
    document = {"externalId": external_id, "images": [{"fileKey": "f"}], **fields}
    response = client.post(
        "/products",
        data={"data": json.dumps(document)},
        files={"f": ("f.jpg", make_jpeg(seed=seed), "image/jpeg")},
    )
    assert response.status_code == 200, response.text


def product_keys(context) -> set[str]:  # type: ignore[no-untyped-def]
    return {k for k in blob_keys(context) if "/product-images/" in k}


def count(context, model) -> int:  # type: ignore[no-untyped-def]
    with context.sessions() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def holding_generations(context) -> int:  # type: ignore[no-untyped-def]
    with context.sessions() as session:
        return int(
            session.scalar(
                select(func.count())
                .select_from(Generation)
                .where(
                    (Generation.customer_id.is_not(None))
                    | (Generation.person_key.is_not(None))
                    | (Generation.result_key.is_not(None))
                )
            )
            or 0
        )


def advance_and_sweep(context, days: float) -> dict[str, int]:  # type: ignore[no-untyped-def]
    context.clock.advance(days=days)
    assert_consistent(context)  # expired rows wait for the sweeper, nothing dangles
    counts = sweep(context)
    assert_clean(context)
    return counts


def test_every_kind_of_stored_object_has_an_end(shop, context, monkeypatch) -> None:
    post_product(shop.live, "forever", seed=1)  # validForDays null: kept until deleted
    forever = product_keys(context)
    post_product(shop.live, "two-days", seed=2, validForDays=2)
    post_product(shop.live, "deleted", seed=3)
    assert shop.live.delete("/products/deleted").status_code == 204
    assert len(product_keys(context)) == 2  # deleted at once
    photo = upload(shop.live, make_jpeg(seed=4), customerId="c-1", retentionDays=1)
    # Customer photo (1 day), its try-on (snapshots and result follow the photo: 1 day), a
    # one-shot product (7 days) and an idempotency record (24 h).
    first = accepted(
        try_on(shop.live, {"id": photo["imageId"]}, headers={"Idempotency-Key": "order-1"})
    )
    # An inline product (15 days from last use) and a try-on kept 3 days.
    document = {
        "product": {"externalId": "inline", "title": "Inline", "images": [{"fileKey": "g"}]},
        "customer": {"fileKey": "me"},
        "retentionDays": 3,
    }
    files = {
        "g": ("g.jpg", make_jpeg(seed=5), "image/jpeg"),
        "me": ("me.jpg", make_jpeg(seed=6), "image/jpeg"),
    }
    second = accepted(shop.live.post("/try-on", data={"data": json.dumps(document)}, files=files))
    for generation_id in (first, second):
        assert tasks.run_generation(context, generation_id) == "COMPLETED"
    # A record of an object whose deletion storage refused (an erasure during an outage).
    upload(shop.live, make_jpeg(seed=7), customerId="c-outage")
    faulty = FaultyBlobs(context.blobs)
    monkeypatch.setattr(context, "blobs", faulty)
    faulty.failing.add("delete")
    assert shop.live.delete("/customers/c-outage").status_code == 503
    monkeypatch.undo()
    assert count(context, PendingDeletion) == 1
    assert count(context, IdempotencyRecord) == 1

    counts = advance_and_sweep(context, 1.01)
    assert counts["customer_images"] == 1 and counts["generations"] == 1
    assert counts["idempotency_records"] == 1 and counts["deletions_completed"] == 1
    assert count(context, PendingDeletion) == count(context, IdempotencyRecord) == 0
    assert count(context, CustomerImage) == 0
    assert advance_and_sweep(context, 1)["products"] == 1  # "two-days"
    assert advance_and_sweep(context, 1)["generations"] == 1  # the 3-day try-on
    assert advance_and_sweep(context, 4)["products"] == 1  # the one-shot product
    assert advance_and_sweep(context, 8)["products"] == 1  # the inline product
    # Only what has no end is left: the product kept until deleted, anonymous rows.
    assert blob_keys(context) == forever
    assert holding_generations(context) == 0
    assert count(context, Generation) == 2
    assert shop.live.delete("/products/forever").status_code == 204
    assert blob_keys(context) == set()
    assert_clean(context)


def test_expired_data_answers_exactly_like_deleted_data(shop, context) -> None:
    expiring = upload(shop.live, make_jpeg(seed=8), customerId="c-exp", retentionDays=1)
    erased = upload(shop.live, make_jpeg(seed=9), customerId="c-erased")
    expiring_generation = accepted(try_on(shop.live, {"id": expiring["imageId"]}))
    erased_generation = accepted(try_on(shop.live, {"id": erased["imageId"]}))
    for generation_id in (expiring_generation, erased_generation):
        assert tasks.run_generation(context, generation_id) == "COMPLETED"
    expiring_result = generation(shop.live, expiring_generation)["resultImageUrl"]
    erased_result = generation(shop.live, erased_generation)["resultImageUrl"]
    post_product(shop.live, "expiring", seed=10, validForDays=1)
    post_product(shop.live, "deleted", seed=11)
    assert shop.live.delete("/products/deleted").status_code == 204
    assert shop.live.delete("/customers/c-erased").status_code == 204
    context.clock.advance(days=1, seconds=1)

    def answers(method: str, path: str, **kwargs) -> tuple[int, object]:  # type: ignore[no-untyped-def]
        response = shop.live.request(method, path, **kwargs)
        return response.status_code, response.json()

    def use_image(image_id: str) -> tuple[int, object]:
        response = try_on(shop.live, {"id": image_id})
        return response.status_code, response.json()

    def url(link: str) -> tuple[int, object]:
        response = fetch(link)
        return response.status_code, response.json()

    for _ in ("before the sweep", "after the sweep"):
        unknown = "retention-7d/0000000000000000/customer/000000000000000000000000.jpeg"
        assert use_image(expiring["imageId"]) == use_image(erased["imageId"]) == use_image(unknown)
        assert url(expiring["imageUrl"]) == url(erased["imageUrl"])
        assert url(expiring_result) == url(erased_result)
        assert answers("GET", f"/generations/{expiring_generation}") == answers(
            "GET", "/generations/gen_000000000000000000000000"
        )
        assert (
            answers("GET", "/products/expiring")
            == answers("GET", "/products/deleted")
            == answers("GET", "/products/never-existed")
        )
        assert (
            answers("GET", "/customers/c-exp")
            == answers("GET", "/customers/c-erased")
            == answers("GET", "/customers/never-existed")
        )
        sweep(context)
    assert_clean(context)
