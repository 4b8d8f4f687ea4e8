"""Stored customer photos (standalone uploads)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from tryon.db import Base, UTCDateTime


class CustomerImage(Base):
    __tablename__ = "customer_images"
    __table_args__ = (Index("ix_customer_images_owner", "account_id", "live", "customer_id"),)

    # The imageId handed to clients (opaque, looks like a path).
    id: Mapped[str] = mapped_column(String(120), primary_key=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"))
    live: Mapped[bool] = mapped_column(Boolean)
    customer_id: Mapped[str | None] = mapped_column(String(200), default=None)
    storage_key: Mapped[str] = mapped_column(String(300))
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    retention_days: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
