"""Run Alembic migrations to head; called by every process on start (idempotent)."""

from __future__ import annotations

import fcntl
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy.engine import Engine

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def upgrade_database(engine: Engine) -> None:
    config = alembic_config()
    database = engine.url.database if engine.url.get_backend_name() == "sqlite" else None
    if database:
        # Several processes (server, worker, admin CLI) may start at once on one SQLite file:
        # a file lock makes them migrate one after the other.
        lock_path = Path(database).with_suffix(".migrate.lock")
        with open(lock_path, "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            _upgrade(engine, config)
    else:
        _upgrade(engine, config)


def _upgrade(engine: Engine, config: Config) -> None:
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
