"""Generations and their snapshot of inputs."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from tryon.db import Base, UTCDateTime


class Generation(Base):
    __tablename__ = "generations"
    __table_args__ = (
        Index("ix_generations_owner", "account_id", "live", "customer_id"),
        Index("ix_generations_status", "status", "updated_at"),
        Index("ix_generations_photo_owner", "account_id", "live", "photo_customer_id"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"))
    live: Mapped[bool] = mapped_column(Boolean)
    customer_id: Mapped[str | None] = mapped_column(String(200), default=None)
    product_external_id: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(12))  # PENDING | PROCESSING | COMPLETED | FAILED
    error_code: Mapped[str | None] = mapped_column(String(40), default=None)
    error_message: Mapped[str | None] = mapped_column(Text, default=None)
    # Snapshot of the inputs, owned by the generation (survives product deletion).
    person_key: Mapped[str | None] = mapped_column(String(300), default=None)
    # The customer image this generation's snapshot came from, when it came from one.
    source_image_id: Mapped[str | None] = mapped_column(String(120), default=None)
    # Keyed hash of the customer whose stored photo it was made from (erasing them reaches it).
    photo_customer_id: Mapped[str | None] = mapped_column(String(200), default=None)
    product_snapshot: Mapped[Any] = mapped_column(JSON)
    result_key: Mapped[str | None] = mapped_column(String(300), default=None)
    use_watermark: Mapped[bool] = mapped_column(Boolean, default=True)
    credits_reserved: Mapped[int] = mapped_column(Integer, default=0)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    retention_days: Mapped[int] = mapped_column(Integer)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)


class IdempotencyRecord(Base):
    """First response to a try-on call made with an ``Idempotency-Key`` (kept 24 h)."""

    __tablename__ = "idempotency_records"

    account_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    live: Mapped[bool] = mapped_column(Boolean, primary_key=True)
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    body_hash: Mapped[str] = mapped_column(String(64))
    response: Mapped[Any] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
