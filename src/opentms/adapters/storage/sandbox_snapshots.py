"""Named snapshots of the sandbox over SQL (docs/sandbox.md, "Snapshots").

A snapshot holds the rows of every vault table and of the merchants, their
profiles and keys, exactly as stored: sealed columns stay sealed (nothing is
unsealed to save or restore them), so a snapshot holds no card data in clear.
It also holds the service clock's offset. It leaves out the server's own keys
(the master key seals them and the simulated networks derive theirs from
them: they never change), the JWTs already used (replays stay refused) and the
sandbox's tables (journal, faults, snapshots).

The payload is zlib-compressed JSON: per table its column names and rows,
binary values in base64 and date-times in ISO 8601."""

from __future__ import annotations

import binascii
import zlib
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import Connection, Engine, LargeBinary, Table, delete, select, update

from opentms.adapters.storage.database import wholesale_transaction
from opentms.adapters.storage.sandbox_state import bump_generation
from opentms.adapters.storage.tables import (
    MERCHANT_TABLES,
    VAULT_TABLES,
    UTCDateTime,
    sandbox_snapshots,
    sandbox_state,
)
from opentms.domain.errors import Conflict, NotFound
from opentms.domain.ports import SnapshotSummary

FORMAT = 1
# Parents before children: the order rows are inserted in (deleted in reverse).
SNAPSHOT_TABLES: tuple[Table, ...] = tuple(reversed(VAULT_TABLES + MERCHANT_TABLES))


class SQLSnapshotStore:
    """:class:`~opentms.domain.ports.SnapshotStore` of one engine."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def save(self, name: str, at: datetime) -> SnapshotSummary:
        # A wholesale transaction: no write runs while the tables are read, so
        # the snapshot is one state of them all.
        with wholesale_transaction(self._engine) as conn:
            if _find(conn, name) is not None:
                raise Conflict(f"A snapshot named {name!r} exists; delete it first.")
            tables = {str(table.name): _dump(conn, table) for table in SNAPSHOT_TABLES}
            offset = conn.execute(
                select(sandbox_state.c.clock_offset_us).where(sandbox_state.c.id == 1)
            ).scalar_one()
            document = {"format": FORMAT, "clockOffsetUs": offset, "tables": tables}
            counts = {table: len(dumped["rows"]) for table, dumped in tables.items()}
            conn.execute(
                sandbox_snapshots.insert().values(
                    name=name,
                    payload=zlib.compress(orjson.dumps(document), 1),
                    summary=orjson.dumps(counts).decode(),
                    created_at=at,
                )
            )
        return SnapshotSummary(name, at, counts)

    def list(self) -> list[SnapshotSummary]:
        columns = (sandbox_snapshots.c.name, sandbox_snapshots.c.summary)
        with _reading(self._engine) as conn:
            rows = conn.execute(
                select(*columns, sandbox_snapshots.c.created_at).order_by(
                    sandbox_snapshots.c.created_at, sandbox_snapshots.c.name
                )
            ).all()
        return [_summary(row.name, row.created_at, row.summary) for row in rows]

    def get(self, name: str) -> SnapshotSummary:
        with _reading(self._engine) as conn:
            row = _find(conn, name)
        if row is None:
            raise _unknown(name)
        return _summary(row.name, row.created_at, row.summary)

    def restore(self, name: str) -> SnapshotSummary:
        # Whole tables: every table a snapshot holds is emptied and refilled
        # with rows saved together, which refer only to each other.
        with wholesale_transaction(self._engine, whole_tables=True) as conn:
            row = conn.execute(
                select(sandbox_snapshots).where(sandbox_snapshots.c.name == name)
            ).first()
            if row is None:
                raise _unknown(name)
            document = orjson.loads(zlib.decompress(row.payload))
            if document.get("format") != FORMAT:
                raise Conflict(f"The snapshot {name!r} was saved by another opentms version.")
            for table in reversed(SNAPSHOT_TABLES):
                conn.execute(delete(table))
            for table in SNAPSHOT_TABLES:
                _insert(conn, table, document["tables"][table.name])
            conn.execute(
                update(sandbox_state)
                .where(sandbox_state.c.id == 1)
                .values(clock_offset_us=document["clockOffsetUs"])
            )
            bump_generation(conn)
        return _summary(row.name, row.created_at, row.summary)

    def delete(self, name: str) -> None:
        with self._engine.begin() as conn:
            deleted = conn.execute(
                delete(sandbox_snapshots).where(sandbox_snapshots.c.name == name)
            ).rowcount
        if not deleted:
            raise _unknown(name)


def _reading(engine: Engine) -> Connection:
    # A read: BEGIN DEFERRED on SQLite (database.make_engine), never the write lock.
    return engine.connect().execution_options(opentms_readonly=True)


def _find(conn: Connection, name: str) -> Any:
    columns = (sandbox_snapshots.c.name, sandbox_snapshots.c.summary)
    return conn.execute(
        select(*columns, sandbox_snapshots.c.created_at).where(sandbox_snapshots.c.name == name)
    ).first()


def _unknown(name: str) -> NotFound:
    return NotFound(f"No snapshot is named {name!r}.")


def _summary(name: str, created_at: datetime, summary: str) -> SnapshotSummary:
    return SnapshotSummary(name, created_at, orjson.loads(summary))


def _dump(conn: Connection, table: Table) -> dict[str, Any]:
    """The rows of ``table`` as the driver returns them (no type processing:
    date-times stay as SQLite stores them), binary values in base64."""
    columns = [str(column.name) for column in table.columns]
    binary, moments = _indexes(table, LargeBinary), _indexes(table, UTCDateTime)
    rows = []
    for row in conn.exec_driver_sql(_select_sql(conn, table, columns)).fetchall():
        values = list(row)
        for index in binary:
            if values[index] is not None:
                values[index] = binascii.b2a_base64(values[index], newline=False).decode()
        for index in moments:
            if isinstance(values[index], datetime):
                values[index] = values[index].isoformat()
        rows.append(values)
    return {"columns": columns, "rows": rows}


def _insert(conn: Connection, table: Table, dumped: dict[str, Any]) -> None:
    """Insert the rows :func:`_dump` gave, as they were stored."""
    columns: list[str] = dumped["columns"]
    if columns != [column.name for column in table.columns]:
        raise Conflict(
            f"The snapshot's {table.name} columns differ from this server's: it was saved "
            "under another schema version and cannot be restored here."
        )
    binary = _indexes(table, LargeBinary)
    # Date-times stay text: SQLite's as it stored them, PostgreSQL's in ISO
    # 8601, which COPY reads as the column's type.
    rows = []
    for values in dumped["rows"]:
        for index in binary:
            if values[index] is not None:
                values[index] = binascii.a2b_base64(values[index])
        rows.append(tuple(values))
    if not rows:
        return
    if conn.dialect.name == "postgresql":
        _copy(conn, table, columns, rows)
    else:
        conn.exec_driver_sql(_insert_sql(conn, table, columns), rows)


def _copy(conn: Connection, table: Table, columns: list[str], rows: list[tuple[Any, ...]]) -> None:
    """PostgreSQL: the rows through COPY, in the connection's transaction (a
    third of the time of an INSERT per row for 10,000 tokens)."""
    quote = conn.dialect.identifier_preparer.quote
    statement = f"COPY {quote(table.name)} ({', '.join(map(quote, columns))}) FROM STDIN"
    raw: Any = conn.connection.dbapi_connection
    with raw.cursor() as cursor, cursor.copy(statement) as copy:
        for row in rows:
            copy.write_row(row)


def _indexes(table: Table, kind: type[Any]) -> tuple[int, ...]:
    return tuple(i for i, column in enumerate(table.columns) if isinstance(column.type, kind))


def _select_sql(conn: Connection, table: Table, columns: list[str]) -> str:
    quote = conn.dialect.identifier_preparer.quote
    return f"SELECT {', '.join(map(quote, columns))} FROM {quote(table.name)}"  # noqa: S608


def _insert_sql(conn: Connection, table: Table, columns: list[str]) -> str:
    quote = conn.dialect.identifier_preparer.quote
    marker = "?" if conn.dialect.paramstyle == "qmark" else "%s"
    names = ", ".join(map(quote, columns))
    markers = ", ".join([marker] * len(columns))
    return f"INSERT INTO {quote(table.name)} ({names}) VALUES ({markers})"  # noqa: S608
