"""generations remember whose photo they were made from

A generation made from a customer's stored photo holds a copy of it, possibly for longer than
the photo itself (an explicit retention) and under another customerId: erasing the photo's
owner must reach it even after the photo row is gone. ``photo_customer_id`` keeps the keyed
hash of that owner, indexed like ``customer_id``; it replaces the lookup by source image.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-03 21:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("generations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("photo_customer_id", sa.String(length=200), nullable=True))
        batch_op.drop_index("ix_generations_source_image")
        batch_op.create_index(
            "ix_generations_photo_owner", ["account_id", "live", "photo_customer_id"], unique=False
        )
    op.execute(
        "UPDATE generations SET photo_customer_id = (SELECT customer_images.customer_id"
        " FROM customer_images WHERE customer_images.id = generations.source_image_id)"
        " WHERE source_image_id IS NOT NULL"
    )


def downgrade() -> None:
    with op.batch_alter_table("generations", schema=None) as batch_op:
        batch_op.drop_index("ix_generations_photo_owner")
        batch_op.create_index("ix_generations_source_image", ["source_image_id"], unique=False)
        batch_op.drop_column("photo_customer_id")
