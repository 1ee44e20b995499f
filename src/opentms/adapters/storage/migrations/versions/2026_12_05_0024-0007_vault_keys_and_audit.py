"""vault keys and audit

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-05 00:24:58.722493

Issue 13: vault mode's key management and audit (docs/security.md): master-key
versions, the registry epoch, data-key rotation and shredding columns on
merchants, credential revocation, and the hash-chained audit log.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from opentms.adapters.storage.tables import UTCDateTime

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "audit_head",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("hash", sa.LargeBinary(length=32), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_head")),
    )
    op.create_table(
        "audit_log",
        sa.Column("seq", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("resource_type", sa.String(length=32), nullable=False),
        sa.Column("resource_ids", sa.Text(), nullable=False),
        sa.Column("outcome", sa.String(length=64), nullable=False),
        sa.Column("correlation_id", sa.String(length=128), nullable=True),
        sa.Column("details", sa.Text(), nullable=True),
        sa.Column("prev_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("hash", sa.LargeBinary(length=32), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_audit_log")),
    )
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_audit_log_at"), ["at"], unique=False)

    op.create_table(
        "master_key_versions",
        sa.Column("version", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("key_id", sa.LargeBinary(length=4), nullable=False),
        sa.Column("provider", sa.String(length=16), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("retired_at", UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("version", name=op.f("pk_master_key_versions")),
        sa.UniqueConstraint("key_id", name=op.f("uq_master_key_versions_key_id")),
    )
    op.create_table(
        "registry_epoch",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("epoch", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_registry_epoch")),
    )
    with op.batch_alter_table("merchant_keys", schema=None) as batch_op:
        batch_op.add_column(sa.Column("revoked_at", UTCDateTime(timezone=True), nullable=True))

    with op.batch_alter_table("merchants", schema=None) as batch_op:
        batch_op.add_column(sa.Column("previous_data_keys", sa.Text(), nullable=True))
        batch_op.add_column(
            sa.Column("data_key_rotated_at", UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column("shredded_at", UTCDateTime(timezone=True), nullable=True))

    op.bulk_insert(
        sa.table("registry_epoch", sa.column("id", sa.Integer), sa.column("epoch", sa.BigInteger)),
        [{"id": 1, "epoch": 0}],
    )
    op.bulk_insert(
        sa.table(
            "audit_head",
            sa.column("id", sa.Integer),
            sa.column("seq", sa.BigInteger),
            sa.column("hash", sa.LargeBinary),
        ),
        [{"id": 1, "seq": 0, "hash": bytes(32)}],
    )


def downgrade() -> None:
    # ALTER TABLE ... DROP COLUMN directly (SQLite 3.35 and later have it): a
    # batch operation would rebuild merchants, which SQLite refuses to drop
    # while other tables' rows refer to it.
    for table, column in (
        ("merchants", "shredded_at"),
        ("merchants", "data_key_rotated_at"),
        ("merchants", "previous_data_keys"),
        ("merchant_keys", "revoked_at"),
    ):
        op.execute(f"ALTER TABLE {table} DROP COLUMN {column}")

    op.drop_table("registry_epoch")
    op.drop_table("master_key_versions")
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_log_at"))

    op.drop_table("audit_log")
    op.drop_table("audit_head")
