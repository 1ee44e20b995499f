"""The sandbox reset over SQL (docs/sandbox.md, "Reset"): one transaction of
whole-table (or one merchant's) deletes, children before parents."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Connection, Delete, Engine, delete, select, update

from opentms.adapters.storage.database import wholesale_transaction
from opentms.adapters.storage.sandbox_state import bump_generation
from opentms.adapters.storage.tables import (
    MERCHANT_TABLES,
    VAULT_TABLES,
    merchants,
    network_tokens,
    sandbox_faults,
    sandbox_journal,
    sandbox_state,
    token_transactions,
)
from opentms.domain.errors import NotFound
from opentms.domain.ports import ResetReport, ResetScope


class SQLStateResetter:
    """:class:`~opentms.domain.ports.StateResetter` of one engine."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def reset(self, scope: ResetScope) -> ResetReport:
        whole_tables = scope.merchant_id is None
        with wholesale_transaction(self._engine, whole_tables=whole_tables) as conn:
            if scope.merchant_id is not None:
                deleted = _reset_merchant(conn, scope.merchant_id)
            else:
                deleted = _reset_all(conn, scope.include_merchants)
            bump_generation(conn)
        return ResetReport(scope, deleted)


def _reset_all(conn: Connection, include_merchants: bool) -> dict[str, int]:
    tables = VAULT_TABLES + (MERCHANT_TABLES if include_merchants else ())
    tables += (sandbox_journal, sandbox_faults)
    deleted = {str(table.name): _count(conn, delete(table)) for table in tables}
    conn.execute(
        update(sandbox_state)
        .where(sandbox_state.c.id == 1)
        .values(clock_offset_us=0, updated_at=datetime.now(UTC))
    )
    return deleted


def _reset_merchant(conn: Connection, merchant_id: str) -> dict[str, int]:
    known = conn.execute(select(merchants.c.id).where(merchants.c.id == merchant_id)).first()
    if known is None:
        raise NotFound(f"No merchant {merchant_id!r} is registered.")
    tokens = select(network_tokens.c.id).where(network_tokens.c.merchant_id == merchant_id)
    deleted = {
        str(token_transactions.name): _count(
            conn, delete(token_transactions).where(token_transactions.c.token_id.in_(tokens))
        )
    }
    for table in VAULT_TABLES[1:]:
        deleted[str(table.name)] = _count(
            conn, delete(table).where(table.c.merchant_id == merchant_id)
        )
    deleted[str(sandbox_journal.name)] = _count(
        conn, delete(sandbox_journal).where(sandbox_journal.c.merchant_id == merchant_id)
    )
    return deleted


def _count(conn: Connection, statement: Delete) -> int:
    return int(conn.execute(statement).rowcount)
