"""Alembic environment: the connection comes from opentms (``migrate.py``)."""

from __future__ import annotations

from alembic import context

from opentms.adapters.storage.tables import metadata

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("Run migrations through `opentms db upgrade`.")

context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=True,
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
