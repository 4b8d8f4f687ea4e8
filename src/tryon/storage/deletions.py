"""Durable deletion of stored objects.

A key to delete is first written as a ``PendingDeletion`` row in the same transaction that stops
the data being reachable; the blob is deleted after commit and the row removed only once the
store confirmed. If the store is down, the row stays and the sweeper finishes the job, so a
deletion is never silently lost.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from tryon.context import AppContext
from tryon.customers.models import PendingDeletion
from tryon.db import transaction
from tryon.storage.blobs import StorageUnavailable


def schedule(
    session: Session, keys: Iterable[str | None], now: datetime, receipt_id: str | None = None
) -> list[str]:
    """Record keys to delete (inside the caller's transaction); returns them, de-duplicated."""
    scheduled = list(dict.fromkeys(k for k in keys if k))
    known: set[str] = set()
    for start in range(0, len(scheduled), 500):
        chunk = scheduled[start : start + 500]
        known.update(
            session.scalars(
                select(PendingDeletion.storage_key).where(PendingDeletion.storage_key.in_(chunk))
            )
        )
    session.add_all(
        PendingDeletion(storage_key=key, receipt_id=receipt_id, created_at=now)
        for key in scheduled
        if key not in known
    )
    return scheduled


def execute(context: AppContext, keys: Iterable[str]) -> None:
    """Delete the blobs now; raises StorageUnavailable (rows stay for a retry) on failure."""
    done: list[str] = []
    failure: StorageUnavailable | None = None
    for key in keys:
        try:
            context.blobs.delete(key)
            done.append(key)
        except StorageUnavailable as exc:
            failure = exc
    if done:
        with transaction(context.sessions) as session:
            session.execute(delete(PendingDeletion).where(PendingDeletion.storage_key.in_(done)))
    if failure is not None:
        raise failure


def retry_pending(context: AppContext, batch: int = 500) -> int:
    """Retry every pending deletion (the sweeper calls this); returns how many completed."""
    with context.sessions() as session:
        pending = list(session.scalars(select(PendingDeletion.storage_key).limit(batch)))
    completed = 0
    for key in pending:
        try:
            execute(context, [key])
            completed += 1
        except StorageUnavailable:
            continue
    return completed


def execute_quietly(context: AppContext, keys: Iterable[str]) -> None:
    """Delete now if the store answers; otherwise leave the rows for the sweeper."""
    with contextlib.suppress(StorageUnavailable):
        execute(context, keys)


def discard(context: AppContext, keys: Iterable[str | None]) -> None:
    """Delete objects that a failed or refused write stored; never raises.

    What the store refuses now is recorded as a pending deletion for the sweeper (when the
    database answers), so that a write rolled back during a storage outage leaves no orphan.
    """
    failed: list[str] = []
    for key in dict.fromkeys(k for k in keys if k):
        try:
            context.blobs.delete(key)
        except StorageUnavailable:
            failed.append(key)
    if failed:
        with contextlib.suppress(Exception), transaction(context.sessions) as session:
            schedule(session, failed, context.clock.now())


def is_pending(session: Session, key: str) -> bool:
    """Whether an object is due for deletion: it is never served again, even while it exists."""
    return session.get(PendingDeletion, key) is not None
