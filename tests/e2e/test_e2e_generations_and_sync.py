"""``GET /generations/:id``, ``POST /try-on/sync`` and the ``Idempotency-Key`` header."""

from __future__ import annotations

import re
import threading
from typing import Any

import pytest
from e2e_helpers import (
    ISO_MS_Z,
    accepted,
    assert_error,
    credits,
    decode,
    fetch_jpeg,
    make_jpeg,
    start_try_on,
    upload,
    wait_for,
)

from tryon.retention.service import sweep


@pytest.fixture
def image_id(shop) -> str:  # type: ignore[no-untyped-def]
    return upload(shop.live, make_jpeg(256, 320, seed=3))["imageId"]


@pytest.fixture
def held(context, monkeypatch):  # type: ignore[no-untyped-def]
    """Keep accepted generations out of the queue until ``release()`` (so PENDING is seen)."""

    class Held:
        ids: list[str] = []

        def release(self) -> None:
            monkeypatch.undo()
            for generation_id in self.ids:
                context.enqueue_generation(generation_id)

    holder = Held()
    holder.ids = []
    monkeypatch.setattr(context, "enqueue_generation", holder.ids.append)
    return holder


def assert_generation_shape(body: dict[str, Any]) -> None:
    allowed = {
        "generationId",
        "status",
        "productExternalId",
        "createdAt",
        "updatedAt",
        "resultImageUrl",
        "errorCode",
        "errorMessage",
    }
    assert set(body) <= allowed, body
    assert re.match(ISO_MS_Z, body["createdAt"]) and re.match(ISO_MS_Z, body["updatedAt"])
    if body["status"] == "COMPLETED":
        assert "resultImageUrl" in body and "errorCode" not in body
    elif body["status"] == "FAILED":
        assert "resultImageUrl" not in body
        assert isinstance(body["errorCode"], str) and isinstance(body["errorMessage"], str)
    else:
        assert "resultImageUrl" not in body and "errorCode" not in body


def test_generation_goes_from_pending_to_completed(shop, image_id, held) -> None:
    generation_id = accepted(start_try_on(shop.live, image_id))
    pending = shop.live.get(f"/generations/{generation_id}").json()
    assert pending["status"] == "PENDING"
    assert pending["generationId"] == generation_id
    assert pending["productExternalId"].startswith("_anon_")
    assert_generation_shape(pending)
    held.release()
    done = wait_for(shop.live, generation_id)
    assert done["status"] == "COMPLETED"
    assert_generation_shape(done)
    assert done["createdAt"] == pending["createdAt"]
    result = decode(fetch_jpeg(done["resultImageUrl"]))
    assert result.size == (256, 320)
    assert credits(shop.live) == 9


def test_product_image_url_that_404s_fails_with_product_image_fetch_failed(
    shop, image_id, image_server
) -> None:
    body = {
        "product": {"imageUrls": [image_server.url("/gone.jpg")]},
        "customer": {"id": image_id},
    }
    generation = wait_for(shop.live, accepted(shop.live.post("/try-on", json=body)))
    assert generation["status"] == "FAILED"
    assert generation["errorCode"] == "PRODUCT_IMAGE_FETCH_FAILED"
    assert generation["errorMessage"]
    assert_generation_shape(generation)
    assert "Traceback" not in generation["errorMessage"]
    # Only successful generations cost a credit.
    assert credits(shop.live) == 10


def test_product_url_that_is_not_an_image_fails_with_product_image_unusable(
    shop, image_id, image_server
) -> None:
    url = image_server.add("/page.html", b"<html>" + b"x" * 500 + b"</html>", "text/html")
    body = {"product": {"imageUrls": [url]}, "customer": {"id": image_id}}
    generation = wait_for(shop.live, accepted(shop.live.post("/try-on", json=body)))
    assert (generation["status"], generation["errorCode"]) == ("FAILED", "PRODUCT_IMAGE_UNUSABLE")
    assert credits(shop.live) == 10


def test_unknown_generation_is_generation_not_found(shop) -> None:
    for generation_id in ("gen_0000000000000000", "nope", "a" * 300):
        assert_error(shop.live.get(f"/generations/{generation_id}"), 404, "GENERATION_NOT_FOUND")


def test_sync_returns_the_finished_generation(shop, image_id) -> None:
    response = start_try_on(shop.live, image_id, path="/try-on/sync")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "COMPLETED"
    assert_generation_shape(body)
    assert body == shop.live.get(f"/generations/{body['generationId']}").json()
    fetch_jpeg(body["resultImageUrl"])
    assert credits(shop.live) == 9


def test_sync_returns_a_failed_generation_with_200(shop, image_id, image_server) -> None:
    body = {
        "product": {"imageUrls": [image_server.url("/gone.jpg")]},
        "customer": {"id": image_id},
    }
    response = shop.live.post("/try-on/sync", json=body, params={"timeout": 20})
    assert response.status_code == 200
    assert response.json()["status"] == "FAILED"
    assert response.json()["errorCode"] == "PRODUCT_IMAGE_FETCH_FAILED"


def test_sync_with_timeout_zero_answers_202_at_once(shop, image_id, held) -> None:
    response = start_try_on(shop.live, image_id, path="/try-on/sync?timeout=0")
    assert response.status_code == 202, response.text
    body = response.json()
    assert set(body) == {"generationId", "status", "productExternalId"}
    assert body["status"] == "PENDING"
    assert body["productExternalId"].startswith("_anon_")
    held.release()
    assert wait_for(shop.live, body["generationId"])["status"] == "COMPLETED"


def test_sync_waits_up_to_its_timeout(shop, image_id, held) -> None:
    response = start_try_on(shop.live, image_id, path="/try-on/sync?timeout=0.6")
    assert response.status_code == 202
    assert response.elapsed.total_seconds() >= 0.5
    held.release()


def test_sync_refuses_like_the_async_endpoint(shop, image_id) -> None:
    body = {"product": {"externalId": "nope"}, "customer": {"id": image_id}}
    assert_error(shop.live.post("/try-on/sync", json=body), 404, "PRODUCT_NOT_FOUND")
    for timeout in ("-1", "301", "soon"):
        response = start_try_on(shop.live, image_id, path=f"/try-on/sync?timeout={timeout}")
        assert_error(response, 400, "VALIDATION_FAILED", paths=["timeout"])
    assert credits(shop.live) == 10


def test_lost_queue_message_is_requeued_by_the_sweeper(shop, image_id, context, held) -> None:
    generation_id = accepted(start_try_on(shop.live, image_id))
    held.ids.clear()  # the message is lost
    held.release()
    assert shop.live.get(f"/generations/{generation_id}").json()["status"] == "PENDING"
    context.clock.advance(seconds=context.settings.pending_requeue_seconds + 1)
    assert sweep(context)["generations_requeued"] == 1
    assert wait_for(shop.live, generation_id)["status"] == "COMPLETED"


# ------------------------------------------------------------------------------------------------
# Idempotency-Key
# ------------------------------------------------------------------------------------------------


def test_same_key_and_body_returns_the_first_response_and_spends_once(shop, image_id) -> None:
    headers = {"Idempotency-Key": "order-1"}
    first = start_try_on(shop.live, image_id, headers=headers)
    generation_id = accepted(first)
    wait_for(shop.live, generation_id)
    again = start_try_on(shop.live, image_id, headers=headers)
    assert again.status_code == 200
    assert again.json() == first.json()
    assert credits(shop.live) == 9
    # A JSON body is matched the same way, whatever the key order.
    body = {"customer": {"id": image_id}, "product": {"imageUrls": ["http://127.0.0.1:9/a.jpg"]}}
    reordered = {"product": body["product"], "customer": body["customer"]}
    one = shop.live.post("/try-on", json=body, headers={"Idempotency-Key": "json-1"})
    two = shop.live.post("/try-on", json=reordered, headers={"Idempotency-Key": "json-1"})
    assert one.json()["generationId"] == two.json()["generationId"]


def test_same_key_with_another_body_is_idempotency_key_reused(shop, image_id) -> None:
    headers = {"Idempotency-Key": "order-2"}
    accepted(start_try_on(shop.live, image_id, headers=headers))
    other = start_try_on(shop.live, image_id, headers=headers, customerId="someone-else")
    assert_error(other, 409, "IDEMPOTENCY_KEY_REUSED")
    other_file = start_try_on(
        shop.live, image_id, headers=headers, garment=make_jpeg(200, 240, seed=1234)
    )
    assert_error(other_file, 409, "IDEMPOTENCY_KEY_REUSED")
    # Another key is another request.
    assert accepted(start_try_on(shop.live, image_id, headers={"Idempotency-Key": "order-3"}))
    assert credits(shop.live) == 8


def test_idempotency_keys_are_per_account_and_mode(make_shop) -> None:
    shop, other = make_shop(), make_shop()
    headers = {"Idempotency-Key": "shared-key"}
    ids = set()
    for client in (shop.live, shop.test, other.live):
        image = upload(client, make_jpeg(seed=5))["imageId"]
        ids.add(accepted(start_try_on(client, image, headers=headers)))
    assert len(ids) == 3


def test_idempotency_key_is_forgotten_after_24_hours(shop, image_id, context) -> None:
    headers = {"Idempotency-Key": "daily"}
    first = accepted(start_try_on(shop.live, image_id, headers=headers))
    context.clock.advance(hours=24, seconds=1)
    second = accepted(start_try_on(shop.live, image_id, headers=headers))
    assert first != second


def test_invalid_idempotency_key_is_validation_failed(shop, image_id) -> None:
    response = start_try_on(shop.live, image_id, headers={"Idempotency-Key": "k" * 201})
    assert_error(response, 400, "VALIDATION_FAILED", paths=["Idempotency-Key"])
    assert credits(shop.live) == 10


def test_concurrent_retries_with_one_key_make_one_generation(shop, image_id) -> None:
    barrier = threading.Barrier(6)
    responses: list[Any] = []
    lock = threading.Lock()

    def call() -> None:
        barrier.wait()
        response = start_try_on(shop.live, image_id, headers={"Idempotency-Key": "race"})
        with lock:
            responses.append(response)

    threads = [threading.Thread(target=call) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [r.status_code for r in responses] == [200] * 6, [r.text for r in responses]
    assert len({r.json()["generationId"] for r in responses}) == 1
    wait_for(shop.live, responses[0].json()["generationId"])
    assert credits(shop.live) == 9


# ------------------------------------------------------------------------------------------------
# Engine failures
# ------------------------------------------------------------------------------------------------


class FailingEngine:
    name = "failing"

    def __init__(self, error: Exception) -> None:
        self.error = error

    def generate(self, request):  # type: ignore[no-untyped-def]
        raise self.error


def test_an_engine_crash_is_engine_error_refunded_and_says_nothing_internal(
    shop, image_id, monkeypatch
) -> None:
    from tryon.generations import tasks

    crash = RuntimeError("boom in /srv/models/secret.py")
    monkeypatch.setattr(tasks, "get_engine", lambda name: FailingEngine(crash))
    generation = wait_for(shop.live, accepted(start_try_on(shop.live, image_id)))
    assert (generation["status"], generation["errorCode"]) == ("FAILED", "ENGINE_ERROR")
    assert "boom" not in generation["errorMessage"] and "secret" not in generation["errorMessage"]
    assert credits(shop.live) == 10


def test_a_typed_engine_failure_keeps_its_code(shop, image_id, monkeypatch) -> None:
    from tryon.engines.base import EngineError
    from tryon.generations import tasks

    refusal = EngineError("CUSTOMER_IMAGE_UNUSABLE", "No person was found in the photo.")
    monkeypatch.setattr(tasks, "get_engine", lambda name: FailingEngine(refusal))
    generation = wait_for(shop.live, accepted(start_try_on(shop.live, image_id)))
    assert generation["errorCode"] == "CUSTOMER_IMAGE_UNUSABLE"
    assert generation["errorMessage"] == "No person was found in the photo."
    assert credits(shop.live) == 10
