"""API keys have a scope

``full`` keys call every endpoint (every key made before this revision is one); ``try-on`` keys,
meant for a storefront, may only upload photos, start try-ons and read their generations.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-04 01:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("api_keys", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("scope", sa.String(length=16), nullable=False, server_default="full")
        )


def downgrade() -> None:
    with op.batch_alter_table("api_keys", schema=None) as batch_op:
        batch_op.drop_column("scope")
