"""Generations in flight, on a server without a worker (the test runs the generation task
itself): erasure landing before or during the run, expiry while unfinished, crashing workers."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from e2e_helpers import accepted, blob_files, credits, make_jpeg, start_try_on, upload, wait_for

from tryon.engines.placeholder import PlaceholderEngine
from tryon.generations import tasks
from tryon.server import RunningServer, start_server


@pytest.fixture
def server(context) -> Iterator[RunningServer]:  # type: ignore[no-untyped-def]
    """Overrides tests/conftest.py: the same server, but nothing consumes the queue."""
    running = start_server(context, worker=False)
    yield running
    running.stop()


def keys_of(blob_root, generation_id: str) -> list[str]:  # type: ignore[no-untyped-def]
    return [k for k in blob_files(blob_root) if f"/generations/{generation_id}/" in k]


def test_pending_generation_ends_failed_refunded_and_leaves_nothing(
    shop, context, blob_root
) -> None:
    mine = upload(shop.live, make_jpeg(seed=41), customerId="cust-1")
    generation_id = accepted(start_try_on(shop.live, mine["imageId"], customerId="cust-1"))
    assert credits(shop.live) == 9
    assert keys_of(blob_root, generation_id)  # its snapshot is stored
    assert shop.live.delete("/customers/cust-1").status_code == 204

    generation = shop.live.get(f"/generations/{generation_id}").json()
    assert generation["status"] == "FAILED"
    assert generation["errorCode"] == "CUSTOMER_DATA_ERASED"
    assert credits(shop.live) == 10
    assert keys_of(blob_root, generation_id) == []
    # The queued task runs later: it must not bring anything back.
    assert tasks.run_generation(context, generation_id) == "skipped"
    assert keys_of(blob_root, generation_id) == []
    assert shop.live.get(f"/generations/{generation_id}").json()["errorCode"] == (
        "CUSTOMER_DATA_ERASED"
    )
    assert credits(shop.live) == 10  # refunded exactly once


def test_processing_generation_result_is_discarded(shop, context, blob_root, monkeypatch) -> None:
    started, release = threading.Event(), threading.Event()

    class SlowEngine:
        name = "slow"

        def generate(self, request):  # type: ignore[no-untyped-def]
            started.set()
            assert release.wait(20)
            return PlaceholderEngine().generate(request)

    monkeypatch.setattr(tasks, "get_engine", lambda name: SlowEngine())
    mine = upload(shop.live, make_jpeg(seed=42), customerId="cust-2")
    generation_id = accepted(start_try_on(shop.live, mine["imageId"], customerId="cust-2"))
    outcome: list[str] = []
    worker = threading.Thread(
        target=lambda: outcome.append(tasks.run_generation(context, generation_id))
    )
    worker.start()
    assert started.wait(20)
    assert shop.live.get(f"/generations/{generation_id}").json()["status"] == "PROCESSING"

    assert shop.live.delete("/customers/cust-2").status_code == 204
    release.set()
    worker.join(20)
    assert outcome == ["discarded"]
    generation = shop.live.get(f"/generations/{generation_id}").json()
    assert (generation["status"], generation["errorCode"]) == ("FAILED", "CUSTOMER_DATA_ERASED")
    assert "resultImageUrl" not in generation
    assert keys_of(blob_root, generation_id) == []
    assert credits(shop.live) == 10


def test_in_flight_generation_without_the_customer_is_not_touched(shop, context) -> None:
    image = upload(shop.live, make_jpeg(seed=43))
    generation_id = accepted(start_try_on(shop.live, image["imageId"], customerId="someone"))
    assert shop.live.delete("/customers/cust-3").status_code == 204
    assert shop.live.get(f"/generations/{generation_id}").json()["status"] == "PENDING"
    assert tasks.run_generation(context, generation_id) == "COMPLETED"
    assert wait_for(shop.live, generation_id)["status"] == "COMPLETED"
    assert credits(shop.live) == 9


def test_generation_expiring_unfinished_is_failed_and_refunded(shop, context) -> None:
    from tryon.retention.service import sweep

    image = upload(shop.live, make_jpeg(seed=44))
    generation_id = accepted(start_try_on(shop.live, image["imageId"], retentionDays=1))
    assert credits(shop.live) == 9
    context.clock.advance(days=1, seconds=1)
    assert sweep(context)["generations"] == 1
    assert credits(shop.live) == 10
    assert tasks.run_generation(context, generation_id) == "skipped"


def test_a_worker_that_keeps_crashing_ends_in_engine_timeout(shop, context, monkeypatch) -> None:
    from tryon.retention.service import sweep

    class CrashingWorker:
        name = "crash"

        def generate(self, request):  # type: ignore[no-untyped-def]
            raise KeyboardInterrupt  # the process dies mid-generation: nothing is recorded

    monkeypatch.setattr(tasks, "get_engine", lambda name: CrashingWorker())
    image = upload(shop.live, make_jpeg(seed=45))
    generation_id = accepted(start_try_on(shop.live, image["imageId"]))
    stale = context.settings.job_stale_seconds + 1
    for attempt in range(1, context.settings.max_job_attempts + 1):
        with pytest.raises(KeyboardInterrupt):
            tasks.run_generation(context, generation_id)
        assert shop.live.get(f"/generations/{generation_id}").json()["status"] == "PROCESSING"
        context.clock.advance(seconds=stale)
        counts = sweep(context)
        if attempt < context.settings.max_job_attempts:
            assert counts["generations_requeued"] == 1
            assert shop.live.get(f"/generations/{generation_id}").json()["status"] == "PENDING"
    assert counts["generations_timed_out"] == 1
    generation = shop.live.get(f"/generations/{generation_id}").json()
    assert (generation["status"], generation["errorCode"]) == ("FAILED", "ENGINE_TIMEOUT")
    assert credits(shop.live) == 10
