"""Appending to the audit log, inside the caller's transaction.

One chain for the whole database: an append locks the ``audit_head`` row
(``SELECT ... FOR UPDATE`` on PostgreSQL; SQLite's write lock, which every
write transaction takes at BEGIN IMMEDIATE, already serialises), takes the
next sequence number and the previous hash from it, inserts the entries and
moves the head. The lock is held until the caller's transaction ends, so
audited transactions commit their entries in chain order; the entry and the
change it records commit together or not at all.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson
from sqlalchemy import Connection, Engine, Row, func, select, update

from opentms.adapters.storage.tables import audit_head, audit_log
from opentms.domain.audit import (
    AuditEntry,
    AuditRecorder,
    ChainReport,
    ChainVerifier,
    chain_hash,
)


def _utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class AuditSettings:
    """The audit log switched on: the key of hashed ids (the server key
    "audit") and the clock of entries (real time, even in a sandbox whose
    service clock was moved)."""

    id_key: bytes
    now: Callable[[], datetime] = _utc_now

    def recorder(self) -> AuditRecorder:
        return AuditRecorder(True, self.id_key, self.now)


def append(conn: Connection, entries: Sequence[AuditEntry]) -> None:
    """Add ``entries`` to the end of the chain, in ``conn``'s transaction."""
    if not entries:
        return
    query = select(audit_head.c.seq, audit_head.c.hash).where(audit_head.c.id == 1)
    if conn.dialect.name != "sqlite":
        query = query.with_for_update()
    seq, previous = conn.execute(query).one()
    previous = bytes(previous)
    rows = []
    for entry in entries:
        seq += 1
        digest = chain_hash(previous, entry.canonical(seq))
        rows.append(
            {
                "seq": seq,
                "at": entry.at,
                "actor": entry.actor,
                "action": entry.action,
                "resource_type": entry.resource_type,
                "resource_ids": orjson.dumps(list(entry.resource_ids)).decode(),
                "outcome": entry.outcome,
                "correlation_id": entry.correlation_id,
                "details": orjson.dumps(dict(entry.details)).decode() if entry.details else None,
                "prev_hash": previous,
                "hash": digest,
            }
        )
        previous = digest
    conn.execute(audit_log.insert(), rows)
    conn.execute(update(audit_head).where(audit_head.c.id == 1).values(seq=seq, hash=previous))


def _entry(row: Row[Any]) -> AuditEntry:
    details = orjson.loads(row.details) if row.details else {}
    return AuditEntry(
        row.at,
        row.actor,
        row.action,
        row.resource_type,
        tuple(orjson.loads(row.resource_ids)),
        row.outcome,
        row.correlation_id,
        details,
    )


@dataclass(frozen=True)
class StoredEntry:
    """An entry as the table holds it: its place, its links, its content."""

    seq: int
    prev_hash: bytes
    hash: bytes
    entry: AuditEntry

    def export(self) -> dict[str, Any]:
        """The entry as one line of ``opentms audit export``: its canonical
        document plus ``prevHash`` and ``hash`` in hex."""
        document: dict[str, Any] = orjson.loads(self.entry.canonical(self.seq))
        document["prevHash"] = self.prev_hash.hex()
        document["hash"] = self.hash.hex()
        return document


class AuditChain:
    """The audit log of one engine, read: what ``opentms audit`` works on."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def entries(self, since: datetime | None = None, batch: int = 1_000) -> Iterator[StoredEntry]:
        return entries(self._engine, since=since, batch=batch)

    def head(self) -> tuple[int, bytes]:
        return head(self._engine)

    def verify(self, batch: int = 1_000) -> ChainReport:
        return verify(self._engine, batch=batch)


def entries(
    engine: Engine, *, since: datetime | None = None, batch: int = 1_000
) -> Iterator[StoredEntry]:
    """Every entry in chain order (from ``since`` on, if given), read in
    batches of ``batch`` by sequence number: memory stays flat however long
    the log is, and each batch is a short read."""
    after = 0
    if since is not None:
        with engine.connect() as conn:
            first = conn.execute(
                select(func.min(audit_log.c.seq)).where(audit_log.c.at >= since)
            ).scalar()
        if first is None:
            return
        after = first - 1
    while True:
        with engine.connect() as conn:
            rows = conn.execute(
                select(audit_log)
                .where(audit_log.c.seq > after)
                .order_by(audit_log.c.seq)
                .limit(batch)
            ).all()
        if not rows:
            return
        for row in rows:
            yield StoredEntry(row.seq, bytes(row.prev_hash), bytes(row.hash), _entry(row))
        after = rows[-1].seq


def head(engine: Engine) -> tuple[int, bytes]:
    """The head row: the last sequence number and hash of the chain."""
    with engine.connect() as conn:
        seq, digest = conn.execute(
            select(audit_head.c.seq, audit_head.c.hash).where(audit_head.c.id == 1)
        ).one()
    return seq, bytes(digest)


def verify(engine: Engine, *, batch: int = 1_000) -> ChainReport:
    """Walk the whole chain and say whether it is whole (see
    :class:`~opentms.domain.audit.ChainVerifier`)."""
    verifier = ChainVerifier()
    for stored in entries(engine, batch=batch):
        problem = verifier.check(stored.seq, stored.prev_hash, stored.hash, stored.entry)
        if problem is not None:
            return ChainReport(verifier.count, verifier.last_hash, problem)
    head_seq, head_hash = head(engine)
    return ChainReport(verifier.count, verifier.last_hash, verifier.finish(head_seq, head_hash))
