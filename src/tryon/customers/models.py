"""Erasure receipts and the durable record of storage objects still to delete."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from tryon.db import Base, UTCDateTime


class ErasureReceipt(Base):
    """Proof that an erasure happened, without the raw customer id (HMAC of it instead)."""

    __tablename__ = "erasure_receipts"
    __table_args__ = (Index("ix_erasure_receipts_owner", "account_id", "live", "customer_hash"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    account_id: Mapped[str] = mapped_column(String(40))
    live: Mapped[bool] = mapped_column(Boolean)
    customer_hash: Mapped[str] = mapped_column(String(64))
    images_deleted: Mapped[int] = mapped_column(Integer)
    results_deleted: Mapped[int] = mapped_column(Integer)
    generations_touched: Mapped[int] = mapped_column(Integer)
    objects_deleted: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)


class PendingDeletion(Base):
    """A stored object that must be deleted; removed only once the blob store confirmed it."""

    __tablename__ = "pending_deletions"

    storage_key: Mapped[str] = mapped_column(String(300), primary_key=True)
    receipt_id: Mapped[str | None] = mapped_column(String(40), index=True, default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    attempts: Mapped[int] = mapped_column(Integer, default=0)
