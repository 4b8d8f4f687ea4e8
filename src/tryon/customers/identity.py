"""Customer ids at rest: only a keyed hash, and the erasure guard of writes in progress.

The ``customerId`` a merchant sends is personal data (often an email or a shop's user id). It is
never stored: every ``customer_id`` column holds ``customer_hash(secret, account, id)``, an
HMAC-SHA256 under the server secret, the same value an erasure receipt carries. Lookups hash the
id of the request; the database files, their write-ahead log and their backups therefore never
contain the raw id, not even before an erasure.

The guard: an upload or a try-on that names a customer and is still being processed when that
customer is erased must not leave data behind. The rule is *an erasure wins over every write
that started before it*. A write notes the customer's erasure receipts when it starts; inside the
transaction that would link its data to the customer it checks them again. A receipt that was
not there at the start means an erasure ran meanwhile: the write is rolled back (its stored bytes
deleted) and answers as if it had completed just before the erasure.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import select, text, update
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from tryon.customers.models import ErasureReceipt
from tryon.db import make_session_factory, transaction

if TYPE_CHECKING:
    from tryon.accounts.service import Caller
    from tryon.context import AppContext

HASH_LENGTH = 64


def customer_hash(secret: bytes, account_id: str, customer_id: str) -> str:
    """Keyed hash of a customer id within an account (what the database stores)."""
    message = f"{account_id}\n{customer_id}".encode()
    return hmac.new(secret, message, hashlib.sha256).hexdigest()


def lock_customers(session: Session, account_id: str, hashes: Iterable[str]) -> None:
    """Serialise erasures and guarded writes of the same customers.

    SQLite needs nothing: every transaction starts with BEGIN IMMEDIATE, one writer at a time.
    PostgreSQL takes a transaction-scoped advisory lock per customer, so that an erasure and a
    write of the same customer never run their check-and-write concurrently.
    """
    if session.get_bind().dialect.name != "postgresql":
        return
    for hashed in sorted(set(hashes)):
        key = int.from_bytes(hashlib.sha256(f"{account_id}:{hashed}".encode()).digest()[:8], "big")
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key - 2**63})


def _receipt_ids(session: Session, account_id: str, live: bool, hashed: str) -> frozenset[str]:
    return frozenset(
        session.scalars(
            select(ErasureReceipt.id).where(
                ErasureReceipt.account_id == account_id,
                ErasureReceipt.live == live,
                ErasureReceipt.customer_hash == hashed,
            )
        )
    )


@dataclass(frozen=True)
class ErasureGuard:
    """The erasure receipts of some customers as a write saw them when it started."""

    account_id: str
    live: bool
    seen: tuple[tuple[str, frozenset[str]], ...] = ()

    @classmethod
    def start(
        cls, session: Session, account_id: str, live: bool, hashes: Iterable[str | None]
    ) -> ErasureGuard:
        wanted = sorted({h for h in hashes if h})
        return cls(
            account_id,
            live,
            tuple((h, _receipt_ids(session, account_id, live, h)) for h in wanted),
        )

    def including(self, session: Session, hashed: str | None) -> ErasureGuard:
        """This guard, also watching ``hashed`` from now on."""
        if hashed is None or any(h == hashed for h, _ in self.seen):
            return self
        added = (hashed, _receipt_ids(session, self.account_id, self.live, hashed))
        return ErasureGuard(self.account_id, self.live, (*self.seen, added))

    def erased_since(self, session: Session) -> bool:
        """Inside the write's transaction: was any watched customer erased since the start?"""
        if not self.seen:
            return False
        lock_customers(session, self.account_id, [h for h, _ in self.seen])
        return any(
            _receipt_ids(session, self.account_id, self.live, hashed) - before
            for hashed, before in self.seen
        )


def stored_customer_id(context: AppContext, caller: Caller, customer_id: str | None) -> str | None:
    """What a ``customer_id`` column holds for this request's customerId (None stays None)."""
    if customer_id is None:
        return None
    return customer_hash(context.secret, caller.account_id, customer_id)


def start_guard(context: AppContext, caller: Caller, hashes: Iterable[str | None]) -> ErasureGuard:
    """The guard of a write that starts now, watching these (already hashed) customers."""
    wanted = [h for h in hashes if h]
    if not wanted:
        return ErasureGuard(caller.account_id, caller.live)
    with context.sessions() as session:
        return ErasureGuard.start(session, caller.account_id, caller.live, wanted)


def pseudonymise_stored_ids(engine: Engine, secret: bytes) -> int:
    """Replace raw customer ids left by versions that stored them with their keyed hash.

    Idempotent and cheap when there is nothing to do (rows already hashed have the hash's
    length); returns how many rows were changed.
    """
    from tryon.generations.models import Generation
    from tryon.images.models import CustomerImage

    changed = 0
    sessions = make_session_factory(engine)
    columns = (
        (CustomerImage, CustomerImage.customer_id),
        (Generation, Generation.customer_id),
        (Generation, Generation.photo_customer_id),
    )
    with transaction(sessions) as session:
        for model, column in columns:
            rows = session.execute(
                select(model.id, model.account_id, column).where(
                    column.is_not(None), column.not_like("_" * HASH_LENGTH)
                )
            ).all()
            for row_id, account_id, raw in rows:
                session.execute(
                    update(model)
                    .where(model.id == row_id)
                    .values({column.key: customer_hash(secret, account_id, raw)})
                )
            changed += len(rows)
    return changed
