"""sandbox

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-04 19:00:00.000000

Issue 11: the tables of sandbox mode (docs/sandbox.md): the state row every
process reads per request (generation, clock offset), the request journal, the
fault rules and the named snapshots. A vault has them, empty.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

from opentms.adapters.storage.tables import UTCDateTime

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "sandbox_state",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("generation", sa.BigInteger(), nullable=False),
        sa.Column("clock_offset_us", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sandbox_state")),
    )
    state = sa.table(
        "sandbox_state",
        sa.column("id", sa.Integer),
        sa.column("generation", sa.BigInteger),
        sa.column("clock_offset_us", sa.BigInteger),
        sa.column("updated_at", UTCDateTime(timezone=True)),
    )
    op.bulk_insert(
        state,
        [{"id": 1, "generation": 0, "clock_offset_us": 0, "updated_at": datetime.now(UTC)}],
    )
    op.create_table(
        "sandbox_journal",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("merchant_id", sa.String(length=64), nullable=True),
        sa.Column("claimed_merchant_id", sa.String(length=80), nullable=True),
        sa.Column("method", sa.String(length=16), nullable=False),
        sa.Column("path", sa.Text(), nullable=False),
        sa.Column("query", sa.Text(), nullable=False),
        sa.Column("status", sa.Integer(), nullable=False),
        sa.Column("duration_ms", sa.Float(), nullable=False),
        sa.Column("correlation_id", sa.String(length=128), nullable=False),
        sa.Column("auth_verdict", sa.String(length=16), nullable=False),
        sa.Column("auth_reason", sa.String(length=64), nullable=True),
        sa.Column("auth_message", sa.Text(), nullable=True),
        sa.Column("auth_signed_string", sa.Text(), nullable=True),
        sa.Column("request_body", sa.Text(), nullable=True),
        sa.Column("response_body", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sandbox_journal")),
    )
    with op.batch_alter_table("sandbox_journal", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_sandbox_journal_at"), ["at"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_sandbox_journal_merchant_id"), ["merchant_id"], unique=False
        )
    op.create_table(
        "sandbox_faults",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("rule", sa.Text(), nullable=False),
        sa.Column("remaining", sa.Integer(), nullable=True),
        sa.Column("hits", sa.Integer(), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sandbox_faults")),
    )
    op.create_table(
        "sandbox_snapshots",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("payload", sa.LargeBinary(), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_sandbox_snapshots")),
    )


def downgrade() -> None:
    op.drop_table("sandbox_snapshots")
    op.drop_table("sandbox_faults")
    with op.batch_alter_table("sandbox_journal", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sandbox_journal_merchant_id"))
        batch_op.drop_index(batch_op.f("ix_sandbox_journal_at"))
    op.drop_table("sandbox_journal")
    op.drop_table("sandbox_state")
