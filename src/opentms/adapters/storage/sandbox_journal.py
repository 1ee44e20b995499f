"""The request journal (``sandbox_journal``), over SQL: one table that every
server process writes to and the admin API reads, so it is shared by all
workers."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Engine, Row, delete, func, insert, select

from opentms.adapters.storage.tables import sandbox_journal
from opentms.domain.ports import JournalEntry, JournalFilter

_T = sandbox_journal.c


def glob_to_like(glob: str) -> str:
    """A LIKE pattern (escape character ``\\``) matching what ``glob`` does:
    ``*`` any run of characters, ``?`` one; everything else literally."""
    escaped = glob.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return escaped.replace("*", "%").replace("?", "_")


def _criteria(query: JournalFilter) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if query.merchant_id is not None:
        conditions.append(_T.merchant_id == query.merchant_id)
    if query.method is not None:
        conditions.append(_T.method == query.method)
    if query.path is not None:
        # Without regard to case on every database (LIKE is case-insensitive
        # on SQLite and not on PostgreSQL; ilike is the same on both).
        conditions.append(_T.path.ilike(glob_to_like(query.path), escape="\\"))
    if query.status is not None:
        conditions.append(_T.status == query.status)
    if query.since is not None:
        conditions.append(_T.at >= query.since)
    if query.until is not None:
        conditions.append(_T.at < query.until)
    return conditions


def _row(entry: JournalEntry) -> dict[str, Any]:
    return {
        "at": entry.at,
        "merchant_id": entry.merchant_id,
        "claimed_merchant_id": entry.claimed_merchant_id,
        "method": entry.method,
        "path": entry.path,
        "query": entry.query,
        "status": entry.status,
        "duration_ms": entry.duration_ms,
        "correlation_id": entry.correlation_id,
        "auth_verdict": entry.verdict,
        "auth_reason": entry.reason,
        "auth_message": entry.message,
        "auth_signed_string": entry.signed_string,
        "request_body": entry.request_body,
        "response_body": entry.response_body,
    }


def _entry(row: Row[Any]) -> JournalEntry:
    return JournalEntry(
        id=row.id,
        at=row.at,
        merchant_id=row.merchant_id,
        claimed_merchant_id=row.claimed_merchant_id,
        method=row.method,
        path=row.path,
        query=row.query,
        status=row.status,
        duration_ms=row.duration_ms,
        correlation_id=row.correlation_id,
        verdict=row.auth_verdict,
        reason=row.auth_reason,
        message=row.auth_message,
        signed_string=row.auth_signed_string,
        request_body=row.request_body,
        response_body=row.response_body,
    )


class SQLJournalStore:
    """:class:`~opentms.domain.ports.JournalStore` of one engine."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def add(self, entry: JournalEntry, keep: int) -> None:
        with self._engine.begin() as conn:
            new_id = conn.execute(insert(sandbox_journal).values(_row(entry))).inserted_primary_key
            # Ids only grow, so the entries beyond the newest ``keep`` are those
            # at least ``keep`` below this one: one indexed range, whatever the size.
            if new_id is not None and new_id[0] > keep:
                conn.execute(delete(sandbox_journal).where(_T.id <= new_id[0] - keep))

    def find(self, criteria: JournalFilter) -> tuple[list[JournalEntry], int]:
        conditions = _criteria(criteria)
        page = (
            select(sandbox_journal)
            .where(*conditions)
            .order_by(_T.id.desc())
            .limit(criteria.limit)
            .offset(criteria.offset)
        )
        count = select(func.count()).select_from(sandbox_journal).where(*conditions)
        with self._engine.connect().execution_options(opentms_readonly=True) as conn:
            entries = [_entry(row) for row in conn.execute(page)]
            total = conn.execute(count).scalar_one()
        return entries, int(total)

    def get(self, entry_id: int) -> JournalEntry | None:
        with self._engine.connect().execution_options(opentms_readonly=True) as conn:
            row = conn.execute(select(sandbox_journal).where(_T.id == entry_id)).one_or_none()
        return None if row is None else _entry(row)

    def clear(self, merchant_id: str | None = None) -> int:
        statement = delete(sandbox_journal)
        if merchant_id is not None:
            statement = statement.where(_T.merchant_id == merchant_id)
        with self._engine.begin() as conn:
            return int(conn.execute(statement).rowcount)
