"""Products and their images."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tryon.db import Base, UTCDateTime


class Product(Base):
    __tablename__ = "products"
    __table_args__ = (
        UniqueConstraint("account_id", "live", "external_id", name="uq_products_external_id"),
        Index("ix_products_listing", "account_id", "live", "anonymous", "created_at", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"))
    live: Mapped[bool] = mapped_column(Boolean)
    external_id: Mapped[str] = mapped_column(String(200))
    anonymous: Mapped[bool] = mapped_column(Boolean, default=False)
    title: Mapped[str | None] = mapped_column(Text, default=None)
    description: Mapped[str | None] = mapped_column(Text, default=None)
    extra: Mapped[Any] = mapped_column("metadata", JSON, nullable=True, default=None)
    # None = kept forever; otherwise the lifetime in days between uses.
    valid_for_days: Mapped[int | None] = mapped_column(Integer, default=None)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True, default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())

    images: Mapped[list[ProductImage]] = relationship(
        order_by="ProductImage.position", cascade="all, delete-orphan", lazy="selectin"
    )


class ProductImage(Base):
    __tablename__ = "product_images"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    product_id: Mapped[int] = mapped_column(
        ForeignKey("products.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(Integer)
    # The URL the client gave, or ``upload://<token>`` for uploaded bytes.
    source_url: Mapped[str] = mapped_column(Text)
    # Where uploaded bytes are stored; None for URL images (fetched at generation time).
    storage_key: Mapped[str | None] = mapped_column(String(300), default=None)
