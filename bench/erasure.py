"""Benchmark: how long erasing one customer takes, and that it does not grow with the others.

    uv run python bench/erasure.py [--sizes 10000 100000] [--repeat 5]

For each size N, a fresh data folder (SQLite + local blob folder) gets N generations and N
customer photos of *other* customers of the same account (rows inserted in bulk), then, per
run, one customer with 100 uploads and 100 completed generations (rows plus their 400 stored
objects: photo; person copy, product copy and result per generation). The erasure of that
customer (``DELETE /customers/:id`` without the HTTP layer: rows unlinked, receipts, objects
deleted, WAL checkpoint) is timed. Prints figures and the query plan of every statement the
erasure ran (SQLite's EXPLAIN QUERY PLAN), to show each one goes through an index. No
assertions: it prints, a person reads.
"""

from __future__ import annotations

import argparse
import io
import secrets
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

from PIL import Image
from sqlalchemy import event, insert

from tryon.accounts import service as accounts_service
from tryon.accounts.service import Caller
from tryon.config import Settings
from tryon.context import AppContext, build_context
from tryon.customers import service as customers_service
from tryon.customers.identity import customer_hash
from tryon.db import transaction
from tryon.generations.models import Generation
from tryon.images.models import CustomerImage
from tryon.storage import keys

UPLOADS = 100
GENERATIONS = 100
CUSTOMER = "bench-customer@example.com"


def small_jpeg() -> bytes:
    buffer = io.BytesIO()
    Image.effect_noise((256, 320), 60).convert("RGB").save(buffer, "JPEG", quality=85)
    return buffer.getvalue()


def generation_row(caller: Caller, customer: str | None, now: Any, **extra: Any) -> dict[str, Any]:
    return {
        "id": "gen_" + secrets.token_hex(12),
        "account_id": caller.account_id,
        "live": True,
        "customer_id": customer,
        "photo_customer_id": None,
        "product_external_id": "_anon_bench",
        "status": "COMPLETED",
        "person_key": None,
        "result_key": None,
        "source_image_id": None,
        "product_snapshot": {"title": "Shirt", "images": []},
        "use_watermark": False,
        "credits_reserved": 0,
        "attempts": 1,
        "retention_days": 7,
        "expires_at": now + timedelta(days=7),
        "created_at": now,
        "updated_at": now,
        **extra,
    }


def image_row(caller: Caller, customer: str | None, now: Any, key: str) -> dict[str, Any]:
    return {
        "id": f"retention-7d/{secrets.token_hex(8)}/customer/{secrets.token_hex(12)}.jpeg",
        "account_id": caller.account_id,
        "live": True,
        "customer_id": customer,
        "storage_key": key,
        "width": 256,
        "height": 320,
        "retention_days": 7,
        "created_at": now,
        "expires_at": now + timedelta(days=7),
    }


def fill_others(context: AppContext, caller: Caller, count: int) -> None:
    """``count`` generations and ``count`` photos of other customers (rows only, in bulk)."""
    now = context.clock.now()
    batch = 10_000
    with context.engine.begin() as connection:
        for start in range(0, count, batch):
            size = min(batch, count - start)
            hashes = [
                customer_hash(context.secret, caller.account_id, f"other-{start + i}")
                for i in range(size)
            ]
            connection.execute(
                insert(Generation),
                [
                    generation_row(
                        caller,
                        hashed,
                        now,
                        person_key=keys.generation_key(caller.account_id, True, f"g{i}", "person"),
                    )
                    for i, hashed in enumerate(hashes)
                ],
            )
            connection.execute(
                insert(CustomerImage),
                [
                    image_row(caller, hashed, now, keys.customer_image_key(caller.account_id, True))
                    for hashed in hashes
                ],
            )


def add_customer(context: AppContext, caller: Caller, jpeg: bytes) -> None:
    """The customer to erase: 100 uploads, 100 completed generations, 400 stored objects."""
    now = context.clock.now()
    hashed = customer_hash(context.secret, caller.account_id, CUSTOMER)
    images, generations = [], []
    for _ in range(UPLOADS):
        key = keys.customer_image_key(caller.account_id, True)
        context.blobs.put(key, jpeg)
        images.append(image_row(caller, hashed, now, key))
    for index in range(GENERATIONS):
        row = generation_row(caller, hashed, now)
        generation_id = row["id"]
        person = keys.generation_key(caller.account_id, True, generation_id, "person")
        product = keys.generation_key(caller.account_id, True, generation_id, "product-0")
        result = keys.result_key(caller.account_id, True, generation_id, 1)
        for key in (person, product, result):
            context.blobs.put(key, jpeg)
        row.update(
            person_key=person,
            result_key=result,
            source_image_id=images[index]["id"],
            photo_customer_id=hashed,
            product_snapshot={"title": "Shirt", "images": [{"key": product}]},
        )
        generations.append(row)
    with context.engine.begin() as connection:
        connection.execute(insert(CustomerImage), images)
        connection.execute(insert(Generation), generations)


class StatementLog:
    """Every statement the engine runs while active, with its parameters."""

    def __init__(self, context: AppContext) -> None:
        self.engine = context.engine
        self.statements: list[tuple[str, Any]] = []
        self.active = False
        event.listen(self.engine, "before_cursor_execute", self._record)

    def _record(self, conn, cursor, statement, parameters, context, executemany) -> None:  # type: ignore[no-untyped-def]
        if self.active:
            self.statements.append((statement, parameters))

    def plans(self) -> list[tuple[str, list[str]]]:
        seen: dict[str, list[str]] = {}
        raw = self.engine.raw_connection()
        try:
            cursor = raw.cursor()
            for statement, parameters in self.statements:
                first = statement.lstrip().split()[0].upper()
                if first not in ("SELECT", "UPDATE", "DELETE", "INSERT"):
                    continue
                shape = " ".join(statement.split())
                if shape in seen:
                    continue
                params = (
                    parameters[0] if parameters and isinstance(parameters[0], tuple) else parameters
                )
                cursor.execute("EXPLAIN QUERY PLAN " + statement, params or ())
                seen[shape] = [row[3] for row in cursor.fetchall()]
        finally:
            raw.close()
        return list(seen.items())


def measure(size: int, repeat: int, jpeg: bytes, show_plans: bool) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="tryon-bench-erasure-") as folder:
        context = build_context(Settings(data_dir=Path(folder), engine="placeholder"))
        context.enqueue_generation = lambda generation_id: None  # type: ignore[method-assign]
        with transaction(context.sessions) as session:
            account = accounts_service.create_account(session, context.clock.now(), "Bench")
        caller = Caller(account.id, True, 1000, 7)
        started = time.perf_counter()
        fill_others(context, caller, size)
        fill_seconds = time.perf_counter() - started
        log = StatementLog(context)
        timings = []
        for _ in range(repeat):
            add_customer(context, caller, jpeg)
            log.statements.clear()
            log.active = True
            started = time.perf_counter()
            outcome = customers_service.erase_customer(context, caller, CUSTOMER)
            timings.append(time.perf_counter() - started)
            log.active = False
            assert outcome.images_deleted == UPLOADS and outcome.generations_touched == GENERATIONS
        statements = len(log.statements)
        plans = log.plans() if show_plans else []
        context.close()
    return {
        "size": size,
        "fill_seconds": fill_seconds,
        "timings": timings,
        "objects": outcome.objects_deleted,
        "statements": statements,
        "plans": plans,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[0, 10_000, 100_000])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    jpeg = small_jpeg()
    print(
        f"Erasing one customer with {UPLOADS} uploads and {GENERATIONS} generations "
        f"({UPLOADS + 3 * GENERATIONS} stored objects of {len(jpeg) // 1024} KB), local storage, "
        f"SQLite; median and range of {args.repeat} runs per size."
    )
    results = []
    for index, size in enumerate(args.sizes):
        result = measure(size, args.repeat, jpeg, show_plans=index == len(args.sizes) - 1)
        results.append(result)
        timings = result["timings"]
        print(
            f"  other customers' generations and photos: {size:>7,} each "
            f"(filled in {result['fill_seconds']:.1f} s) -> erasure "
            f"median {statistics.median(timings) * 1000:7.1f} ms "
            f"(min {min(timings) * 1000:.1f}, max {max(timings) * 1000:.1f}); "
            f"{result['objects']} objects deleted, {result['statements']} SQL statements"
        )
    print(f"\nQuery plans of the erasure's statements (at {results[-1]['size']:,} other rows):")
    for statement, plan in results[-1]["plans"]:
        print(f"  {statement[:150]}{'…' if len(statement) > 150 else ''}")
        for line in plan:
            print(f"      {line}")
    scans = [
        (statement, line)
        for statement, plan in results[-1]["plans"]
        for line in plan
        if line.startswith("SCAN") and "USING" not in line
    ]
    print(f"\nFull table scans: {len(scans)}")
    for statement, line in scans:
        print(f"  {line}: {statement[:120]}")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
