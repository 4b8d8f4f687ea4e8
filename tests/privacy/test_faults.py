"""Faults: storage failing during an erasure or a rollback, a worker killed mid-job, a process
killed between storing bytes and recording them. Nothing is served again, nothing is orphaned."""

from __future__ import annotations

import json

from privacy_helpers import (
    FaultyBlobs,
    accepted,
    assert_clean,
    audit,
    blob_keys,
    credits,
    error_of,
    fetch,
    generation,
    make_jpeg,
    try_on,
    upload,
)
from sqlalchemy import select

from tryon.customers.models import PendingDeletion
from tryon.generations import tasks
from tryon.retention.service import sweep
from tryon.storage import keys


def pending_keys(context) -> set[str]:  # type: ignore[no-untyped-def]
    with context.sessions() as session:
        return set(session.scalars(select(PendingDeletion.storage_key)))


def customer_with_everything(shop, context, customer_id: str) -> dict[str, object]:  # type: ignore[no-untyped-def]
    """An upload, a completed try-on from it; returns every signed URL and the stored keys."""
    before = blob_keys(context)
    image = upload(shop.live, make_jpeg(seed=20), customerId=customer_id)
    generation_id = accepted(try_on(shop.live, {"id": image["imageId"]}, customerId=customer_id))
    assert tasks.run_generation(context, generation_id) == "COMPLETED"
    held = shop.live.get(f"/customers/{customer_id}").json()
    urls = [image["imageUrl"]]
    urls += [g[k] for g in held["generations"] for k in ("personImageUrl", "resultImageUrl")]
    for url in urls:
        assert fetch(url).status_code == 200
    customer_keys = {k for k in blob_keys(context) - before if "/product-images/" not in k}
    return {"urls": urls, "keys": customer_keys, "generation": generation_id}


def test_storage_down_during_erasure_is_503_and_the_data_is_never_served_again(
    shop, context, monkeypatch
) -> None:
    data = customer_with_everything(shop, context, "c-outage")
    assert len(data["keys"]) == 4  # photo, person copy, product copy, result
    faulty = FaultyBlobs(context.blobs)
    monkeypatch.setattr(context, "blobs", faulty)
    faulty.failing.add("delete")

    assert error_of(shop.live.delete("/customers/c-outage")) == (503, "SERVICE_UNAVAILABLE")
    # Not a silent partial success: every object is on durable record, and still stored.
    assert data["keys"] <= pending_keys(context)
    assert data["keys"] <= blob_keys(context)
    # ... but nothing of it is reachable any more, signed URLs included.
    for url in data["urls"]:
        assert fetch(url).status_code == 404
    assert error_of(shop.live.get("/customers/c-outage")) == (404, "CUSTOMER_NOT_FOUND")
    assert "resultImageUrl" not in generation(shop.live, str(data["generation"]))
    receipts = shop.live.get("/customers/c-outage/erasures").json()["items"]
    assert [r["status"] for r in receipts] == ["PENDING"]
    report = audit(context)  # pending deletions are accounted for: no orphan, nothing missing
    assert report.clean and report.pending_deletions == len(data["keys"])

    faulty.failing.clear()  # storage is back: a retry of the DELETE finishes the job
    assert shop.live.delete("/customers/c-outage").status_code == 204
    assert not data["keys"] & blob_keys(context)
    assert pending_keys(context) == set()
    receipts = shop.live.get("/customers/c-outage/erasures").json()["items"]
    assert [r["status"] for r in receipts] == ["COMPLETED", "COMPLETED"]
    assert credits(shop.live) == 9
    assert_clean(context)


def test_storage_down_during_erasure_then_the_sweeper_finishes(shop, context, monkeypatch) -> None:
    data = customer_with_everything(shop, context, "c-sweeper")
    faulty = FaultyBlobs(context.blobs)
    monkeypatch.setattr(context, "blobs", faulty)
    faulty.failing.add("delete")
    assert error_of(shop.live.delete("/customers/c-sweeper")) == (503, "SERVICE_UNAVAILABLE")
    assert sweep(context)["deletions_completed"] == 0  # still down: nothing lost, no crash
    # An hour later, still down: the audit raises the alarm.
    context.clock.advance(hours=1, seconds=1)
    report = audit(context)
    assert {d["key"] for d in report.overdue_deletions} == data["keys"]
    assert not report.clean
    for url in data["urls"]:
        assert fetch(url).status_code == 404

    faulty.failing.clear()
    counts = sweep(context)
    assert counts["deletions_completed"] == len(data["keys"])
    assert counts["receipts_completed"] == 1
    assert not data["keys"] & blob_keys(context)
    receipt = shop.live.get("/customers/c-sweeper/erasures").json()["items"][0]
    assert receipt["status"] == "COMPLETED" and receipt["objectsDeleted"] == 4
    assert_clean(context)


def test_a_rollback_during_a_storage_outage_leaves_no_orphan(shop, context, monkeypatch) -> None:
    # The first product image is stored, the second is not an image: the request fails and
    # must delete the first, but storage refuses deletes right now.
    faulty = FaultyBlobs(context.blobs)
    monkeypatch.setattr(context, "blobs", faulty)
    faulty.failing.add("delete")
    document = {"externalId": "p-1", "images": [{"fileKey": "a"}, {"fileKey": "b"}]}
    response = shop.live.post(
        "/products",
        data={"data": json.dumps(document)},
        files={"a": ("a.jpg", make_jpeg(seed=21), "image/jpeg"), "b": ("b.jpg", b"nope", "x/y")},
    )
    assert response.status_code == 400, response.text
    stored = {k for k in blob_keys(context) if "/product-images/" in k}
    assert len(stored) == 1 and stored <= pending_keys(context)
    assert audit(context).clean  # on record for deletion: not an orphan
    faulty.failing.clear()
    assert sweep(context)["deletions_completed"] == 1
    assert blob_keys(context) == set()
    assert_clean(context)


def test_worker_killed_after_writing_its_result_leaves_nothing_orphaned(shop, context) -> None:
    image = upload(shop.live, make_jpeg(seed=22), customerId="c-crash")
    generation_id = accepted(try_on(shop.live, {"id": image["imageId"]}, customerId="c-crash"))
    # A worker claims the job, stores its result, and dies before recording it.
    attempt = tasks.claim_generation(context, generation_id)
    assert attempt == 1
    crashed = keys.result_key(shop.account_id, True, generation_id, attempt)
    context.blobs.put(crashed, make_jpeg(seed=23))
    assert audit(context).clean  # a running attempt's result is not an orphan yet

    # The sweeper finds the job stale: the lost attempt's result goes, the job runs again.
    context.clock.advance(seconds=context.settings.job_stale_seconds + 1)
    counts = sweep(context)
    assert counts["generations_requeued"] == 1
    assert crashed not in blob_keys(context)
    assert_clean(context)
    assert tasks.run_generation(context, generation_id) == "COMPLETED"
    done = generation(shop.live, generation_id)
    assert "/result-2.jpeg" in done["resultImageUrl"]
    assert fetch(done["resultImageUrl"]).status_code == 200
    # The dead attempt coming back to life can neither link nor delete anything.
    assert tasks.finish_generation(context, generation_id, attempt) == "discarded"
    assert fetch(done["resultImageUrl"]).status_code == 200
    assert crashed not in blob_keys(context)
    assert credits(shop.live) == 9
    assert_clean(context)


def test_worker_killed_on_its_last_attempt_fails_refunded_and_cleaned(
    shop, context, monkeypatch
) -> None:
    monkeypatch.setattr(context.settings, "max_job_attempts", 1)
    image = upload(shop.live, make_jpeg(seed=24), customerId="c-crash-last")
    generation_id = accepted(try_on(shop.live, {"id": image["imageId"]}, customerId="c-crash-last"))
    attempt = tasks.claim_generation(context, generation_id)
    crashed = keys.result_key(shop.account_id, True, generation_id, attempt)
    context.blobs.put(crashed, make_jpeg(seed=25))
    context.clock.advance(seconds=context.settings.job_stale_seconds + 1)
    assert sweep(context)["generations_timed_out"] == 1
    body = generation(shop.live, generation_id)
    assert (body["status"], body["errorCode"]) == ("FAILED", "ENGINE_TIMEOUT")
    assert crashed not in blob_keys(context)
    assert credits(shop.live) == 10
    assert_clean(context)


def test_erasure_reaches_the_result_of_a_worker_that_died(shop, context) -> None:
    image = upload(shop.live, make_jpeg(seed=26), customerId="c-dead-worker")
    generation_id = accepted(
        try_on(shop.live, {"id": image["imageId"]}, customerId="c-dead-worker")
    )
    attempt = tasks.claim_generation(context, generation_id)
    context.blobs.put(
        keys.result_key(shop.account_id, True, generation_id, attempt), make_jpeg(seed=27)
    )
    assert shop.live.delete("/customers/c-dead-worker").status_code == 204
    assert not any(f"/generations/{generation_id}/" in k for k in blob_keys(context))
    assert credits(shop.live) == 10
    assert_clean(context)


def test_bytes_stored_by_a_process_killed_before_its_row_are_swept(shop, context) -> None:
    # An upload stored its bytes and the process died before writing the row.
    orphan = keys.customer_image_key(shop.account_id, True)
    context.blobs.put(orphan, make_jpeg(seed=28))
    report = audit(context)
    assert [o["key"] for o in report.orphans] == [orphan] and not report.clean
    # Younger than the grace: it may be a write in progress, the sweeper leaves it.
    assert sweep(context)["orphans_deleted"] == 0
    assert orphan in blob_keys(context)
    context.clock.advance(seconds=context.settings.orphan_grace_seconds + 60)
    assert sweep(context)["orphans_deleted"] == 1
    assert orphan not in blob_keys(context)
    assert_clean(context)
