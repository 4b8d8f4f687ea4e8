"""Accounts, API keys and the credit ledger."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from tryon.db import Base, UTCDateTime


class Account(Base):
    __tablename__ = "accounts"
    __table_args__ = (CheckConstraint("credit_balance >= 0", name="credit_balance_not_negative"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    # Kept equal to the sum of the ledger rows; the CHECK makes overspending impossible.
    credit_balance: Mapped[int] = mapped_column(Integer, default=0)
    retention_days: Mapped[int] = mapped_column(Integer, default=7)
    rate_limit_per_minute: Mapped[int] = mapped_column(Integer, default=100)
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    logo_key: Mapped[str | None] = mapped_column(String(300), default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ApiKey(Base):
    __tablename__ = "api_keys"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"), index=True)
    # The key itself is never stored: only its SHA-256 and a short prefix to name it by.
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(24), index=True)
    live: Mapped[bool] = mapped_column(Boolean)
    # What the key may call: "full", or "try-on" (a storefront's key; see KEY_SCOPES).
    scope: Mapped[str] = mapped_column(String(16), default="full", server_default="full")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)


class CreditMovement(Base):
    """One row per credit movement: grants, reservations on accept, refunds on failure."""

    __tablename__ = "credit_ledger"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"), index=True)
    delta: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(String(20))  # grant | reserve | refund
    generation_id: Mapped[str | None] = mapped_column(String(40), index=True, default=None)
    balance_after: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
