"""Erasure racing with in-flight work, made deterministic: the engine or the blob store waits at a
chosen point until the test releases it. Every race is played in both orders.

The rule under test: an erasure wins over every write of that customer that started before it.
A generation in flight ends FAILED with CUSTOMER_DATA_ERASED and is refunded; whatever its worker
writes afterwards is deleted, not linked. An upload or try-on that started before the erasure and
finishes after it leaves nothing behind (it answers as if it had completed just before).
"""

from __future__ import annotations

import pytest
from privacy_helpers import (
    Background,
    BlockingBlobs,
    accepted,
    assert_clean,
    blob_keys,
    credits,
    error_of,
    fetch,
    generation,
    make_jpeg,
    try_on,
    upload,
)

from tryon.generations import tasks


def generation_keys(context, generation_id: str) -> set[str]:  # type: ignore[no-untyped-def]
    return {k for k in blob_keys(context) if f"/generations/{generation_id}/" in k}


def erase(client, customer_id: str) -> None:  # type: ignore[no-untyped-def]
    response = client.delete(f"/customers/{customer_id}")
    assert response.status_code == 204, response.text


def assert_erased_in_flight(shop, context, generation_id: str) -> None:  # type: ignore[no-untyped-def]
    body = generation(shop.live, generation_id)
    assert (body["status"], body["errorCode"]) == ("FAILED", "CUSTOMER_DATA_ERASED"), body
    assert "resultImageUrl" not in body
    assert generation_keys(context, generation_id) == set()
    assert credits(shop.live) == 10  # reserved on accept, given back exactly once


# -- a generation in flight -----------------------------------------------------------------


def test_erasure_while_pending_wins_and_the_late_worker_writes_nothing(shop, context) -> None:
    image = upload(shop.live, make_jpeg(seed=1), customerId="c-pending")
    generation_id = accepted(try_on(shop.live, {"id": image["imageId"]}, customerId="c-pending"))
    assert credits(shop.live) == 9
    assert generation_keys(context, generation_id)  # its snapshot is stored
    erase(shop.live, "c-pending")
    assert_erased_in_flight(shop, context, generation_id)
    # The queued task runs after the erasure: it must not bring anything back.
    assert tasks.run_generation(context, generation_id) == "skipped"
    assert_erased_in_flight(shop, context, generation_id)
    assert_clean(context)


def test_erasure_while_processing_wins_and_the_result_is_discarded(
    shop, context, blocking_engine
) -> None:
    image = upload(shop.live, make_jpeg(seed=2), customerId="c-processing")
    generation_id = accepted(try_on(shop.live, {"id": image["imageId"]}, customerId="c-processing"))
    worker = Background(lambda: tasks.run_generation(context, generation_id))
    assert blocking_engine.started.wait(10)
    assert generation(shop.live, generation_id)["status"] == "PROCESSING"

    erase(shop.live, "c-processing")
    assert_erased_in_flight(shop, context, generation_id)
    blocking_engine.release.set()
    assert worker.result() == "discarded"
    assert_erased_in_flight(shop, context, generation_id)
    assert_clean(context)


def test_result_written_just_after_the_erasure_is_deleted_not_linked(
    shop, context, monkeypatch
) -> None:
    # The worker checked the generation was still its own, then the erasure landed before it
    # stored the result: the stored result must be deleted, and the generation stay FAILED.
    image = upload(shop.live, make_jpeg(seed=3), customerId="c-late")
    generation_id = accepted(try_on(shop.live, {"id": image["imageId"]}, customerId="c-late"))
    blocked = BlockingBlobs(context.blobs, "/result-")
    monkeypatch.setattr(context, "blobs", blocked)
    worker = Background(lambda: tasks.run_generation(context, generation_id))
    assert blocked.reached.wait(10)

    erase(shop.live, "c-late")
    blocked.release.set()
    assert worker.result() == "discarded"
    assert_erased_in_flight(shop, context, generation_id)
    assert_clean(context)


def test_erasure_between_the_claim_and_the_engine_is_discarded_quietly(shop, context) -> None:
    # The worker claimed the generation, then the erasure landed before it read the person
    # photo: the attempt ends "discarded" (no engine crash, no ENGINE_ERROR, nothing written).
    image = upload(shop.live, make_jpeg(seed=5), customerId="c-claimed")
    generation_id = accepted(try_on(shop.live, {"id": image["imageId"]}, customerId="c-claimed"))
    attempt = tasks.claim_generation(context, generation_id)
    assert attempt == 1
    erase(shop.live, "c-claimed")
    assert tasks.finish_generation(context, generation_id, attempt) == "discarded"
    assert_erased_in_flight(shop, context, generation_id)
    assert_clean(context)


def test_worker_first_then_erasure_removes_the_result(shop, context) -> None:
    image = upload(shop.live, make_jpeg(seed=4), customerId="c-done")
    generation_id = accepted(try_on(shop.live, {"id": image["imageId"]}, customerId="c-done"))
    assert tasks.run_generation(context, generation_id) == "COMPLETED"
    done = generation(shop.live, generation_id)
    assert fetch(done["resultImageUrl"]).status_code == 200

    erase(shop.live, "c-done")
    after = generation(shop.live, generation_id)
    assert after["status"] == "COMPLETED" and "resultImageUrl" not in after
    assert fetch(done["resultImageUrl"]).status_code == 404
    assert generation_keys(context, generation_id) == set()
    assert credits(shop.live) == 9  # a completed generation keeps its cost
    assert_clean(context)


# -- an upload in progress ------------------------------------------------------------------


def test_upload_in_progress_when_the_erasure_lands_leaves_nothing(
    shop, context, monkeypatch
) -> None:
    blocked = BlockingBlobs(context.blobs, "/customer-images/")
    monkeypatch.setattr(context, "blobs", blocked)
    pending = Background(lambda: upload(shop.live, make_jpeg(seed=5), customerId="c-upload"))
    assert blocked.reached.wait(10)  # the upload started and is storing its bytes

    erase(shop.live, "c-upload")
    blocked.release.set()
    image = pending.result()  # answers as if it had completed just before the erasure
    assert not any("/customer-images/" in k for k in blob_keys(context))
    assert fetch(image["imageUrl"]).status_code == 404
    assert error_of(shop.live.get("/customers/c-upload")) == (404, "CUSTOMER_NOT_FOUND")
    refused = try_on(shop.live, {"id": image["imageId"]})
    assert error_of(refused) == (404, "IMAGE_NOT_FOUND")
    assert_clean(context)


def test_upload_that_starts_after_the_erasure_is_kept(shop, context) -> None:
    erase(shop.live, "c-upload-later")
    image = upload(shop.live, make_jpeg(seed=6), customerId="c-upload-later")
    assert fetch(image["imageUrl"]).status_code == 200
    held = shop.live.get("/customers/c-upload-later").json()
    assert [u["imageId"] for u in held["uploads"]] == [image["imageId"]]
    assert_clean(context)


# -- a try-on in progress -------------------------------------------------------------------


@pytest.mark.parametrize("source", ["fileKey", "stored photo without customerId"])
def test_try_on_in_progress_when_the_erasure_lands_leaves_nothing(
    shop, context, monkeypatch, source
) -> None:
    if source == "fileKey":
        request = lambda: try_on(  # noqa: E731
            shop.live, {"fileKey": "me"}, {"me": make_jpeg(seed=7)}, customerId="c-try"
        )
    else:
        # The photo is the customer's: the try-on is theirs even without the customerId.
        image = upload(shop.live, make_jpeg(seed=8), customerId="c-try")
        request = lambda: try_on(shop.live, {"id": image["imageId"]})  # noqa: E731
    blocked = BlockingBlobs(context.blobs, "/person.jpeg")
    monkeypatch.setattr(context, "blobs", blocked)
    pending = Background(request)
    assert blocked.reached.wait(10)  # accepted its input, storing the snapshot

    erase(shop.live, "c-try")
    blocked.release.set()
    generation_id = accepted(pending.result())
    body = generation(shop.live, generation_id)
    assert (body["status"], body["errorCode"]) == ("FAILED", "CUSTOMER_DATA_ERASED")
    assert generation_keys(context, generation_id) == set()
    assert credits(shop.live) == 10  # nothing charged
    assert tasks.run_generation(context, generation_id) == "skipped"
    assert generation_keys(context, generation_id) == set()
    assert error_of(shop.live.get("/customers/c-try")) == (404, "CUSTOMER_NOT_FOUND")
    assert_clean(context)


def test_try_on_that_starts_after_the_erasure_is_kept(shop, context) -> None:
    erase(shop.live, "c-try-later")
    generation_id = accepted(
        try_on(shop.live, {"fileKey": "me"}, {"me": make_jpeg(seed=9)}, customerId="c-try-later")
    )
    assert tasks.run_generation(context, generation_id) == "COMPLETED"
    held = shop.live.get("/customers/c-try-later").json()
    assert [g["generationId"] for g in held["generations"]] == [generation_id]
    assert credits(shop.live) == 9
    assert_clean(context)


def test_erasure_of_another_customer_does_not_disturb_a_write_in_progress(
    shop, context, monkeypatch
) -> None:
    blocked = BlockingBlobs(context.blobs, "/customer-images/")
    monkeypatch.setattr(context, "blobs", blocked)
    pending = Background(lambda: upload(shop.live, make_jpeg(seed=10), customerId="c-kept"))
    assert blocked.reached.wait(10)
    erase(shop.live, "c-someone-else")
    blocked.release.set()
    image = pending.result()
    assert fetch(image["imageUrl"]).status_code == 200
    assert_clean(context)
