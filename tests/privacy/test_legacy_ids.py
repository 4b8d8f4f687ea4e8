"""A database written by a version that stored raw customer ids is converted on start."""

from __future__ import annotations

from pathlib import Path

from alembic import command

from tryon.clock import ManualClock
from tryon.config import Settings
from tryon.context import build_context
from tryon.customers.identity import customer_hash
from tryon.db import make_engine
from tryon.migrate import alembic_config


def test_raw_ids_of_an_older_database_become_keyed_hashes(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    engine = make_engine(f"sqlite:///{data_dir / 'tryon.db'}")
    config = alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0002")  # the schema before photo owners, with raw ids
        connection.exec_driver_sql(
            "INSERT INTO accounts VALUES ('acc1', 'Shop', 0, 7, 100, 0, NULL,"
            " '2026-01-01 00:00:00')"
        )
        connection.exec_driver_sql(
            "INSERT INTO customer_images VALUES ('img1', 'acc1', 1, 'raw-owner', 'k', 1, 1, 7,"
            " '2026-01-01 00:00:00', '2026-01-08 00:00:00')"
        )
        connection.exec_driver_sql(
            "INSERT INTO generations (id, account_id, live, customer_id, product_external_id,"
            " status, source_image_id, product_snapshot, use_watermark, credits_reserved,"
            " attempts, retention_days, expires_at, created_at, updated_at) VALUES ('g1', 'acc1',"
            " 1, 'raw-other', 'p', 'COMPLETED', 'img1', '{}', 1, 0, 1, 7, '2026-01-08 00:00:00',"
            " '2026-01-01 00:00:00', '2026-01-01 00:00:00')"
        )
    engine.dispose()

    context = build_context(Settings(data_dir=data_dir), ManualClock())
    try:
        with context.engine.connect() as connection:
            images = connection.exec_driver_sql("SELECT customer_id FROM customer_images").all()
            generations = connection.exec_driver_sql(
                "SELECT customer_id, photo_customer_id FROM generations"
            ).all()
    finally:
        context.close()
    owner = customer_hash(context.secret, "acc1", "raw-owner")
    other = customer_hash(context.secret, "acc1", "raw-other")
    assert images == [(owner,)]
    assert generations == [(other, owner)]
    # Idempotent: a second start changes nothing.
    build_context(Settings(data_dir=data_dir), ManualClock()).close()
    assert b"raw-owner" not in (data_dir / "tryon.db").read_bytes()
