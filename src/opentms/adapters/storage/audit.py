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

from collections.abc import Sequence

import orjson
from sqlalchemy import Connection, select, update

from opentms.adapters.storage.tables import audit_head, audit_log
from opentms.domain.audit import AuditEntry, chain_hash


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
