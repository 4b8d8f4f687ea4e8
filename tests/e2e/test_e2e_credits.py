"""``GET /account/credits``, the cost of a try-on, refunds, and no overspending under load."""

from __future__ import annotations

import threading

import httpx
from e2e_helpers import (
    accepted,
    assert_error,
    credits,
    make_jpeg,
    start_try_on,
    upload,
    wait_for,
)
from sqlalchemy import select

from tryon.accounts import service as accounts_service
from tryon.accounts.models import CreditMovement
from tryon.db import transaction


def ledger(context, account_id: str) -> list[tuple[int, str, str | None, int]]:  # type: ignore[no-untyped-def]
    with context.sessions() as session:
        rows = session.scalars(
            select(CreditMovement)
            .where(CreditMovement.account_id == account_id)
            .order_by(CreditMovement.id)
        )
        return [(r.delta, r.reason, r.generation_id, r.balance_after) for r in rows]


def test_balance_and_the_cost_of_a_completed_try_on(shop, context) -> None:
    assert shop.live.get("/account/credits").json() == {"creditBalance": 10}
    image = upload(shop.live)["imageId"]
    generation_id = accepted(start_try_on(shop.live, image))
    assert credits(shop.live) == 9  # taken when accepted
    assert wait_for(shop.live, generation_id)["status"] == "COMPLETED"
    assert credits(shop.live) == 9
    assert ledger(context, shop.account_id) == [
        (10, "grant", None, 10),
        (-1, "reserve", generation_id, 9),
    ]


def test_test_keys_cost_nothing_and_work_without_credits(make_shop, context) -> None:
    shop = make_shop(credits=0)
    image = upload(shop.test)["imageId"]
    for _ in range(3):
        generation = wait_for(shop.test, accepted(start_try_on(shop.test, image)))
        assert generation["status"] == "COMPLETED"
    assert credits(shop.test) == 0
    assert ledger(context, shop.account_id) == []


def test_no_credit_is_insufficient_credits(make_shop, context) -> None:
    shop = make_shop(credits=0)
    image = upload(shop.live)["imageId"]
    assert_error(start_try_on(shop.live, image), 402, "INSUFFICIENT_CREDITS")
    assert_error(start_try_on(shop.live, image, path="/try-on/sync"), 402, "INSUFFICIENT_CREDITS")
    # A grant makes it work; the balance is what the ledger says.
    with transaction(context.sessions) as session:
        accounts_service.grant_credits(session, context.clock.now(), shop.account_id, 1)
    assert credits(shop.live) == 1
    generation_id = accepted(start_try_on(shop.live, image))
    assert_error(start_try_on(shop.live, image), 402, "INSUFFICIENT_CREDITS")
    wait_for(shop.live, generation_id)
    assert credits(shop.live) == 0


def test_a_failed_generation_gives_its_credit_back(make_shop, context, image_server) -> None:
    shop = make_shop(credits=1)
    image = upload(shop.live)["imageId"]
    before = credits(shop.live)
    body = {"product": {"imageUrls": [image_server.url("/404.jpg")]}, "customer": {"id": image}}
    generation_id = accepted(shop.live.post("/try-on", json=body))
    generation = wait_for(shop.live, generation_id)
    assert generation["status"] == "FAILED"
    assert credits(shop.live) == before == 1
    rows = ledger(context, shop.account_id)
    assert rows[1:] == [(-1, "reserve", generation_id, 0), (1, "refund", generation_id, 1)]
    # The refunded credit can be spent again.
    assert wait_for(shop.live, accepted(start_try_on(shop.live, image)))["status"] == "COMPLETED"
    assert credits(shop.live) == 0


def test_concurrent_try_ons_never_overspend(make_shop, context) -> None:
    # The ManualClock stands still, so every request of the test counts in one rate window.
    shop = make_shop(credits=3, rate_limit=1_000_000)
    image = upload(shop.live)["imageId"]
    garment = make_jpeg(200, 240, seed=21)
    barrier = threading.Barrier(8)
    results: list[httpx.Response] = []
    lock = threading.Lock()
    balances: list[int] = []
    done = threading.Event()

    def call() -> None:
        barrier.wait()
        response = start_try_on(shop.live, image, garment=garment)
        with lock:
            results.append(response)

    def watch() -> None:
        while not done.wait(0.005):
            response = shop.live.get("/account/credits")
            balances.append(
                response.json()["creditBalance"] if response.status_code == 200 else -99
            )

    watcher = threading.Thread(target=watch)
    watcher.start()
    threads = [threading.Thread(target=call) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    statuses = sorted(r.status_code for r in results)
    assert statuses == [200] * 3 + [402] * 5, [r.text for r in results]
    for response in results:
        if response.status_code == 402:
            assert_error(response, 402, "INSUFFICIENT_CREDITS")
    for response in results:
        if response.status_code == 200:
            assert wait_for(shop.live, response.json()["generationId"])["status"] == "COMPLETED"
    done.set()
    watcher.join()
    assert credits(shop.live) == 0
    assert balances and min(balances) >= 0
    rows = ledger(context, shop.account_id)
    assert [r[1] for r in rows] == ["grant"] + ["reserve"] * 3
    assert all(r[3] >= 0 for r in rows)
    assert sum(r[0] for r in rows) == 0
