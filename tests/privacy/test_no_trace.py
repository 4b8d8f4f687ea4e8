"""After an erasure no byte of the customer is left anywhere under the data folder: blobs,
tryon.db and its write-ahead log, queue.db, free pages of the database file."""

from __future__ import annotations

import secrets
import sqlite3
import struct
from datetime import timedelta

from privacy_helpers import (
    accepted,
    assert_clean,
    db_path,
    distinctive_runs,
    fetch,
    generation,
    make_jpeg,
    traces,
    try_on,
    upload,
)
from sqlalchemy import insert

from tryon.customers.identity import customer_hash
from tryon.generations import tasks
from tryon.images.models import CustomerImage
from tryon.storage import keys

CUSTOMER = "alice.7731-unique@example.com"


def free_pages(path) -> tuple[int, list[bytes]]:  # type: ignore[no-untyped-def]
    """The database file's free-list: (count from the header, the bytes of every free page
    with the trunk pages' own pointers blanked out)."""
    data = path.read_bytes()
    page_size = struct.unpack(">H", data[16:18])[0]
    page_size = 65536 if page_size == 1 else page_size
    trunk, total = struct.unpack(">II", data[32:40])

    def page(number: int) -> bytes:
        return data[(number - 1) * page_size : number * page_size]

    pages: list[bytes] = []
    while trunk:
        content = page(trunk)
        next_trunk, leaves = struct.unpack(">II", content[:8])
        pointers = content[8 : 8 + 4 * leaves]
        pages.append(content[8 + 4 * leaves :])
        for (leaf,) in struct.iter_unpack(">I", pointers):
            pages.append(page(leaf))
        trunk = next_trunk
    return total, pages


def test_no_byte_of_an_erased_customer_remains_in_the_data_folder(shop, context) -> None:
    raw_upload = make_jpeg(seed=101)
    raw_selfie = make_jpeg(seed=102)
    image = upload(shop.live, raw_upload, customerId=CUSTOMER)
    from_upload = accepted(try_on(shop.live, {"id": image["imageId"]}, customerId=CUSTOMER))
    from_file = accepted(
        try_on(shop.live, {"fileKey": "me"}, {"me": raw_selfie}, customerId=CUSTOMER)
    )
    pending = accepted(try_on(shop.live, {"id": image["imageId"]}, customerId=CUSTOMER))
    for generation_id in (from_upload, from_file):
        assert tasks.run_generation(context, generation_id) == "COMPLETED"
    stored = fetch(image["imageUrl"]).content
    results = [
        fetch(generation(shop.live, g)["resultImageUrl"]).content for g in (from_upload, from_file)
    ]
    held = shop.live.get(f"/customers/{CUSTOMER}").json()
    copies = [fetch(g["personImageUrl"]).content for g in held["generations"]]
    needles = {"customerId": CUSTOMER.encode()}
    for name, jpeg in {"upload": raw_upload, "selfie": raw_selfie, "stored": stored}.items():
        needles |= {f"{name}[{i}]": run for i, run in enumerate(distinctive_runs(jpeg))}
    for index, jpeg in enumerate(results + copies):
        needles |= {f"derived{index}[{i}]": r for i, r in enumerate(distinctive_runs(jpeg))}
    # The database never held the raw id, even before the erasure: only its keyed hash. The
    # photos as sent were never stored either (re-encoded, metadata stripped).
    found = {hit.split(" in ")[0] for hit in traces(context, needles)}
    assert not {"customerId", "upload[0]", "selfie[0]"} & found
    # The search works: what was stored is found before the erasure.
    assert {n for n in needles if n.startswith(("stored", "derived"))} <= found

    # Many rows of the customer, so that erasing them frees whole database pages.
    hashed = customer_hash(context.secret, shop.account_id, CUSTOMER)
    now = context.clock.now()
    with context.engine.begin() as connection:
        connection.execute(
            insert(CustomerImage),
            [
                {
                    "id": f"bulk/{secrets.token_hex(20)}",
                    "account_id": shop.account_id,
                    "live": True,
                    "customer_id": hashed,
                    "storage_key": keys.customer_image_key(shop.account_id, True),
                    "width": 1,
                    "height": 1,
                    "retention_days": 7,
                    "created_at": now,
                    "expires_at": now + timedelta(days=7),
                }
                for _ in range(3000)
            ],
        )

    assert shop.live.delete(f"/customers/{CUSTOMER}").status_code == 204
    assert traces(context, needles) == []
    # The write-ahead log was checkpointed and truncated: no old version of any row in it.
    wal = db_path(context).with_name("tryon.db-wal")
    assert not wal.exists() or wal.stat().st_size == 0
    # secure_delete: the pages the erasure freed hold nothing but zeros.
    total, pages = free_pages(db_path(context))
    assert total > 0 and len(pages) == total
    assert all(not any(p) for p in pages)
    # The queue only ever holds generation ids.
    assert context.queue is not None
    messages = context.queue.huey.pending()
    assert {m.args for m in messages} == {(from_upload,), (from_file,), (pending,)}
    assert all(m.kwargs == {} for m in messages)
    assert_clean(context)


def test_the_databases_hold_customer_ids_only_as_keyed_hashes(shop, context) -> None:
    image = upload(shop.live, make_jpeg(seed=103), customerId="bob-42")
    accepted(try_on(shop.live, {"id": image["imageId"]}, customerId="bob-42"))
    hashed = customer_hash(context.secret, shop.account_id, "bob-42")
    with sqlite3.connect(db_path(context)) as connection:
        stored = {
            row[0]
            for table in ("customer_images", "generations")
            for row in connection.execute(f"SELECT customer_id FROM {table}")
        }
    assert stored == {hashed}
    assert traces(context, {"customerId": b"bob-42"}) == []
