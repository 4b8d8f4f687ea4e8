"""Alembic environment: uses the connection handed over by ``tryon.migrate``."""

from alembic import context

from tryon.models import Base

target_metadata = Base.metadata
connection = context.config.attributes.get("connection")

if connection is None:
    raise RuntimeError("run migrations through tryon.migrate.upgrade_database")

context.configure(
    connection=connection,
    target_metadata=target_metadata,
    render_as_batch=True,
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
