"""``DELETE /customers/:customerId``: every byte of one customer gone, nothing else touched."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from e2e_helpers import (
    accepted,
    assert_error,
    blob_files,
    credits,
    fetch,
    fetch_jpeg,
    make_jpeg,
    post_multipart,
    upload,
    wait_for,
)
from sqlalchemy import select

from tryon.customers.models import ErasureReceipt, PendingDeletion
from tryon.retention.service import sweep
from tryon.storage.blobs import StorageUnavailable


def data_files(context) -> dict[str, bytes]:  # type: ignore[no-untyped-def]
    """Every file of the data folder: blobs, databases, secret."""
    root: Path = context.settings.resolved_data_dir()
    return {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def make_product(client) -> str:  # type: ignore[no-untyped-def]
    document = {"externalId": "shirt", "title": "Shirt", "images": [{"fileKey": "front"}]}
    response = post_multipart(client, "/products", document, {"front": make_jpeg(seed=30)})
    assert response.status_code == 200, response.text
    return "shirt"


def try_on(client, customer: dict[str, Any], files: dict[str, bytes] | None = None, **extra):  # type: ignore[no-untyped-def]
    document = {"product": {"externalId": "shirt"}, "customer": customer, **extra}
    if files:
        response = post_multipart(client, "/try-on", document, files)
    else:
        response = client.post("/try-on", json=document)
    generation = wait_for(client, accepted(response))
    assert generation["status"] == "COMPLETED", generation
    return generation


def erase(client, customer_id: str) -> None:  # type: ignore[no-untyped-def]
    response = client.delete(f"/customers/{customer_id}")
    assert response.status_code == 204, response.text
    assert response.content == b""


def test_erasure_deletes_every_image_result_and_copy_of_the_customer(
    shop, context, blob_root
) -> None:
    make_product(shop.live)
    # Data of another customer and data without a customer: must survive.
    other = upload(shop.live, make_jpeg(seed=31), customerId="other")
    anonymous = upload(shop.live, make_jpeg(seed=32))
    other_generation = try_on(shop.live, {"id": other["imageId"]}, customerId="other")
    anonymous_generation = try_on(shop.live, {"id": anonymous["imageId"]})
    before = blob_files(blob_root)

    raw = make_jpeg(seed=33)
    mine = upload(shop.live, raw, customerId="cust-1", crop="false")
    stored = fetch_jpeg(mine["imageUrl"])
    from_upload = try_on(shop.live, {"id": mine["imageId"]}, customerId="cust-1")
    selfie = make_jpeg(seed=34)
    from_file = try_on(
        shop.live, {"fileKey": "me"}, {"me": selfie}, externalUserId="cust-1", useWatermark=False
    )
    results = [fetch_jpeg(g["resultImageUrl"]) for g in (from_upload, from_file)]
    during = blob_files(blob_root)
    customer_keys = during.keys() - before.keys()
    # The upload, and per generation the person copy, the product copy and the result.
    assert len(customer_keys) == 1 + 2 * 3, sorted(customer_keys)

    erase(shop.live, "cust-1")
    erase(shop.live, "cust-1")  # idempotent

    after = blob_files(blob_root)
    assert not customer_keys & after.keys(), sorted(customer_keys & after.keys())
    assert {k: after.get(k) for k in before} == before  # everything else is untouched
    for name, data in data_files(context).items():
        for secret in (raw, stored, selfie, *results):
            assert secret not in data, f"customer bytes remain in {name}"
    # Nothing readable through the API, signed URLs included.
    assert fetch(mine["imageUrl"]).status_code == 404
    for generation in (from_upload, from_file):
        assert fetch(generation["resultImageUrl"]).status_code == 404
        row = shop.live.get(f"/generations/{generation['generationId']}").json()
        assert row["status"] == "COMPLETED"
        assert "resultImageUrl" not in row
    body = {"product": {"externalId": "shirt"}, "customer": {"id": mine["imageId"]}}
    assert_error(shop.live.post("/try-on", json=body), 404, "IMAGE_NOT_FOUND")
    # Other customers' and customer-less data still work.
    fetch_jpeg(other["imageUrl"])
    fetch_jpeg(anonymous["imageUrl"])
    for generation in (other_generation, anonymous_generation):
        row = shop.live.get(f"/generations/{generation['generationId']}").json()
        fetch_jpeg(row["resultImageUrl"])
    # Completed generations keep their cost: erasure is no refund.
    assert credits(shop.live) == 6


def test_generation_made_from_a_customer_upload_is_erased_with_it(shop, context) -> None:
    # The try-on does not repeat the customerId: its photo is still that customer's.
    make_product(shop.live)
    mine = upload(shop.live, make_jpeg(seed=35), customerId="cust-2", crop="false")
    stored = fetch_jpeg(mine["imageUrl"])
    generation = try_on(shop.live, {"id": mine["imageId"]})
    result = fetch_jpeg(generation["resultImageUrl"])
    erase(shop.live, "cust-2")
    assert fetch(generation["resultImageUrl"]).status_code == 404
    for name, data in data_files(context).items():
        assert stored not in data and result not in data, f"customer bytes remain in {name}"


def test_erasure_leaves_an_audit_receipt_without_the_raw_id(shop, context) -> None:
    upload(shop.live, customerId="cust-audit")
    erase(shop.live, "cust-audit")
    erase(shop.live, "nobody-at-all")
    with context.sessions() as session:
        receipts = list(session.scalars(select(ErasureReceipt).order_by(ErasureReceipt.created_at)))
    assert len(receipts) == 2
    first = receipts[0]
    assert first.account_id == shop.account_id
    assert first.images_deleted == 1 and first.completed_at is not None
    assert "cust-audit" not in first.customer_hash and len(first.customer_hash) == 64
    assert receipts[1].images_deleted == 0


def test_erasure_is_per_mode_and_needs_a_valid_id(shop) -> None:
    live = upload(shop.live, make_jpeg(seed=36), customerId="same")
    test = upload(shop.test, make_jpeg(seed=37), customerId="same")
    erase(shop.test, "same")
    fetch_jpeg(live["imageUrl"])
    assert fetch(test["imageUrl"]).status_code == 404
    response = shop.live.delete("/customers/" + "x" * 201)
    assert_error(response, 400, "VALIDATION_FAILED", paths=["customerId"])
    # Ids may hold slashes, so the route takes any rest of the path: an empty one is invalid.
    assert_error(shop.live.delete("/customers/"), 400, "VALIDATION_FAILED", paths=["customerId"])


def test_storage_down_is_503_then_a_retry_finishes(shop, context, blob_root, monkeypatch) -> None:
    make_product(shop.live)
    before = blob_files(blob_root)
    mine = upload(shop.live, make_jpeg(seed=38), customerId="cust-3", crop="false")
    stored = fetch_jpeg(mine["imageUrl"])
    generation = try_on(shop.live, {"id": mine["imageId"]}, customerId="cust-3")
    customer_keys = blob_files(blob_root).keys() - before.keys()
    assert len(customer_keys) == 4

    def down(key: str) -> None:
        raise StorageUnavailable("could not delete object: test")

    monkeypatch.setattr(context.blobs, "delete", down)
    response = shop.live.delete("/customers/cust-3")
    assert_error(response, 503, "SERVICE_UNAVAILABLE")
    # Not a silent partial success: every object is recorded for deletion.
    with context.sessions() as session:
        pending = set(session.scalars(select(PendingDeletion.storage_key)))
    assert customer_keys <= pending
    monkeypatch.undo()

    erase(shop.live, "cust-3")
    assert not customer_keys & blob_files(blob_root).keys()
    assert fetch(mine["imageUrl"]).status_code == 404
    assert fetch(generation["resultImageUrl"]).status_code == 404
    for data in data_files(context).values():
        assert stored not in data
    with context.sessions() as session:
        assert list(session.scalars(select(PendingDeletion.storage_key))) == []
        receipts = list(session.scalars(select(ErasureReceipt)))
    assert receipts and all(r.completed_at is not None for r in receipts)


def test_storage_down_then_the_sweeper_finishes(shop, context, blob_root, monkeypatch) -> None:
    before = blob_files(blob_root)
    mine = upload(shop.live, make_jpeg(seed=39), customerId="cust-4")
    customer_keys = blob_files(blob_root).keys() - before.keys()

    def down(key: str) -> None:
        raise StorageUnavailable("could not delete object: test")

    monkeypatch.setattr(context.blobs, "delete", down)
    assert_error(shop.live.delete("/customers/cust-4"), 503, "SERVICE_UNAVAILABLE")
    # While storage is down, the sweeper cannot finish either, and says so without crashing.
    assert sweep(context)["deletions_completed"] == 0
    monkeypatch.undo()
    counts = sweep(context)
    assert counts["deletions_completed"] == 1 and counts["receipts_completed"] == 1
    assert not customer_keys & blob_files(blob_root).keys()
    assert fetch(mine["imageUrl"]).status_code == 404
