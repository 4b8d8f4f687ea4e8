"""The same customerId in two accounts is two customers; the id never reaches a log."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest
import structlog
from privacy_helpers import (
    FaultyBlobs,
    accepted,
    assert_clean,
    audit,
    error_of,
    fetch,
    generation,
    make_jpeg,
    try_on,
    upload,
)

from tryon.customers.identity import customer_hash
from tryon.generations import tasks
from tryon.logs import configure_logging
from tryon.retention.service import sweep


def test_the_same_customer_id_in_two_accounts_is_two_customers(make_shop, context) -> None:
    a, b = make_shop(), make_shop()
    held = {}
    for shop in (a, b):
        image = upload(shop.live, make_jpeg(seed=1 if shop is a else 2), customerId="shared-7")
        generation_id = accepted(try_on(shop.live, {"id": image["imageId"]}, customerId="shared-7"))
        assert tasks.run_generation(context, generation_id) == "COMPLETED"
        held[shop.account_id] = shop.live.get("/customers/shared-7").json()
    # Stored under different keyed hashes: nothing links the two even in the database.
    assert customer_hash(context.secret, a.account_id, "shared-7") != customer_hash(
        context.secret, b.account_id, "shared-7"
    )

    assert a.live.delete("/customers/shared-7").status_code == 204
    assert error_of(a.live.get("/customers/shared-7")) == (404, "CUSTOMER_NOT_FOUND")
    for url in urls(held[a.account_id]):
        assert fetch(url).status_code == 404
    # B's customer is whole: same listing, every URL still served, no receipt.
    assert b.live.get("/customers/shared-7").json() == held[b.account_id]
    for url in urls(held[b.account_id]):
        assert fetch(url).status_code == 200
    assert b.live.get("/customers/shared-7/erasures").json()["count"] == 0
    assert a.live.get("/customers/shared-7/erasures").json()["count"] == 1
    assert_clean(context)


def urls(body: dict) -> list[str]:  # type: ignore[type-arg]
    """Every signed URL of a right-of-access answer."""
    found = [u["imageUrl"] for u in body["uploads"]]
    for entry in body["generations"]:
        found += [entry[k] for k in ("personImageUrl", "resultImageUrl") if k in entry]
    return found


class Capture(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(f"{record.name} {self.format(record)} {record.args!r}")


@pytest.fixture
def every_log() -> Iterator[Capture]:
    """Every logger of the process at DEBUG into one handler on the root logger.

    httpx and httpcore are the test's own HTTP client (they log the URLs it calls): they are
    not the server and are left at WARNING.
    """
    root = logging.getLogger()
    saved_handlers, saved_level = root.handlers[:], root.level
    saved_config = structlog.get_config()
    saved_levels = {
        name: logger.level
        for name, logger in logging.root.manager.loggerDict.items()
        if isinstance(logger, logging.Logger)
    }
    configure_logging("DEBUG")
    capture = Capture()
    root.addHandler(capture)
    for name in saved_levels:
        logging.getLogger(name).setLevel(logging.DEBUG)
    for name in ("httpx", "httpcore"):
        logging.getLogger(name).setLevel(logging.WARNING)
    yield capture
    root.handlers, root.level = saved_handlers, saved_level
    for name, level in saved_levels.items():
        logging.getLogger(name).setLevel(level)
    structlog.configure(**saved_config)


def test_a_full_session_never_logs_the_customer_id(
    shop, context, every_log, capfd, monkeypatch
) -> None:
    customer = "carol.logs-5531@example.com"
    image = upload(shop.live, make_jpeg(seed=3), customerId=customer)
    by_file = accepted(
        try_on(shop.live, {"fileKey": "me"}, {"me": make_jpeg(seed=4)}, externalUserId=customer)
    )
    by_id = accepted(try_on(shop.live, {"id": image["imageId"]}, customerId=customer))
    assert tasks.run_generation(context, by_file) == "COMPLETED"
    assert generation(shop.live, by_file)["status"] == "COMPLETED"
    assert shop.live.get(f"/customers/{customer}").status_code == 200
    # Refusals that carry the id in the request.
    bad = shop.live.post(
        "/images/upload",
        files={"file": ("x.jpg", b"not an image", "image/jpeg")},
        data={"customerId": customer},
    )
    assert bad.status_code in (400, 415)
    missing = shop.live.post(
        "/try-on",
        json={"product": {"externalId": "nope"}, "customer": {"id": "x"}, "customerId": customer},
    )
    assert missing.status_code == 404
    # An erasure during a storage outage, its retry, the receipts, the sweeper, the audit.
    faulty = FaultyBlobs(context.blobs)
    monkeypatch.setattr(context, "blobs", faulty)
    faulty.failing.add("delete")
    assert shop.live.delete(f"/customers/{customer}").status_code == 503
    faulty.failing.clear()
    assert shop.live.delete(f"/customers/{customer}").status_code == 204
    assert shop.live.get(f"/customers/{customer}/erasures").json()["count"] == 2
    assert tasks.run_generation(context, by_id) == "skipped"
    context.clock.advance(days=8)
    sweep(context)
    assert audit(context).clean

    captured = capfd.readouterr()
    logs = "\n".join([*every_log.lines, captured.out, captured.err])
    # The capture works: the server's access lines and the worker's lines are in it.
    assert "/customers/{customer_id}" in logs and shop.account_id in logs
    assert "sqlalchemy" in logs  # even the SQL statements and their parameters at DEBUG
    for form in (customer, customer.replace("@", "%40"), "carol.logs-5531"):
        assert form not in logs
