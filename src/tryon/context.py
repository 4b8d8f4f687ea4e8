"""Everything a process needs to serve requests or run jobs, built once from Settings.

The API, the worker and the admin CLI all build one ``AppContext`` from the same settings, so an
admin command acts on exactly the data a server with the same settings serves.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from tryon.accounts.ratelimit import RateLimiter
from tryon.clock import Clock, SystemClock
from tryon.config import Settings
from tryon.db import make_engine, make_session_factory
from tryon.fetch.client import FetchPolicy, fetch_bytes
from tryon.migrate import upgrade_database
from tryon.storage.blobs import BlobStore
from tryon.storage.signing import UrlSigner, load_or_create_secret

if TYPE_CHECKING:
    from tryon.jobs.queue import JobQueue


@dataclass
class AppContext:
    settings: Settings
    clock: Clock
    engine: Engine
    sessions: sessionmaker[Session]
    blobs: BlobStore
    signer: UrlSigner
    secret: bytes
    rate_limiter: RateLimiter = field(default_factory=RateLimiter)
    # Failed authentications per client address (slows down key guessing).
    auth_failures: RateLimiter = field(default_factory=RateLimiter)
    queue: JobQueue | None = None
    fetch_policy: FetchPolicy = field(default_factory=FetchPolicy)

    def enqueue_generation(self, generation_id: str) -> None:
        from tryon.jobs.queue import enqueue_generation

        enqueue_generation(self, generation_id)

    def fetch(self, url: str) -> bytes:
        """Download a URL the safe way (see ``tryon.fetch.client``); raises FetchError."""
        return fetch_bytes(
            url,
            max_bytes=self.settings.max_upload_bytes,
            timeout=self.settings.fetch_timeout_seconds,
            policy=self.fetch_policy,
        )

    def close(self) -> None:
        self.engine.dispose()


def build_context(settings: Settings, clock: Clock | None = None) -> AppContext:
    """Create the data folder, migrate the database and open storage and queue."""
    data_dir = settings.resolved_data_dir()
    data_dir.mkdir(parents=True, exist_ok=True)
    secret = load_or_create_secret(data_dir)
    engine = make_engine(settings.resolved_database_url())
    upgrade_database(engine)
    from tryon.customers.identity import pseudonymise_stored_ids

    # Customer ids are stored only as keyed hashes; rows of versions that kept them raw are
    # converted once here.
    pseudonymise_stored_ids(engine, secret)
    context = AppContext(
        settings=settings,
        clock=clock or SystemClock(),
        engine=engine,
        sessions=make_session_factory(engine),
        blobs=BlobStore(settings.resolved_storage_url()),
        signer=UrlSigner(secret),
        secret=secret,
        fetch_policy=FetchPolicy.from_allow_list(settings.fetch_allow.split(",")),
    )
    from tryon.jobs.queue import build_queue

    context.queue = build_queue(context)
    return context
