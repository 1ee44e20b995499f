"""The sandbox's fault rules (``sandbox_faults``), over SQL.

A rule's firings are counted in the database with one conditional UPDATE, so
a rule of ``times: 1`` fires once in all, whichever process sees the request.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import Engine, Row, case, delete, func, insert, select, update

from opentms.adapters.storage.tables import sandbox_faults
from opentms.domain.ports import ConnectionFault, Fault, FaultRule

_COLUMNS = (
    sandbox_faults.c.id,
    sandbox_faults.c.rule,
    sandbox_faults.c.hits,
    sandbox_faults.c.remaining,
    sandbox_faults.c.created_at,
)
_IN_ORDER = select(*_COLUMNS).order_by(
    sandbox_faults.c.position, sandbox_faults.c.created_at, sandbox_faults.c.id
)


def _encode(rule: FaultRule) -> str:
    document: dict[str, Any] = {
        "method": rule.method,
        "path": rule.path,
        "merchantId": rule.merchant_id,
        "status": rule.status,
        "reason": rule.reason,
        "message": rule.message,
        "connection": rule.connection.value if rule.connection else None,
        "delayMs": rule.delay_ms,
        "delayMaxMs": rule.delay_max_ms,
        "times": rule.times,
        "probability": rule.probability,
    }
    return orjson.dumps({k: v for k, v in document.items() if v is not None}).decode()


@functools.lru_cache(maxsize=1024)
def _decode(text: str) -> FaultRule:
    """What :func:`_encode` wrote (only this module writes the column).
    Cached by text: the rules are read on every request, and a rule is
    immutable."""
    document = orjson.loads(text)
    connection = document.get("connection")
    return FaultRule(
        method=document.get("method"),
        path=document.get("path"),
        merchant_id=document.get("merchantId"),
        status=document.get("status"),
        reason=document.get("reason"),
        message=document.get("message"),
        connection=ConnectionFault(connection) if connection else None,
        delay_ms=document.get("delayMs", 0),
        delay_max_ms=document.get("delayMaxMs"),
        times=document.get("times"),
        probability=document.get("probability", 1.0),
    )


def _fault(row: Row[Any, Any, Any, Any, Any]) -> Fault:
    return Fault(row.id, _decode(row.rule), row.hits, row.remaining, row.created_at)


class SQLFaultStore:
    """:class:`~opentms.domain.ports.FaultStore` of one engine."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def add(self, fault_id: str, rule: FaultRule, now: datetime) -> Fault:
        with self._engine.begin() as conn:
            last = conn.execute(select(func.max(sandbox_faults.c.position))).scalar()
            conn.execute(
                insert(sandbox_faults).values(
                    id=fault_id,
                    position=(last or 0) + 1,
                    rule=_encode(rule),
                    remaining=rule.times,
                    hits=0,
                    created_at=now,
                )
            )
        return Fault(fault_id, rule, 0, rule.times, now)

    def list(self) -> Sequence[Fault]:
        # A read: BEGIN DEFERRED on SQLite (database.make_engine), never the write lock.
        with self._engine.connect().execution_options(opentms_readonly=True) as conn:
            return [_fault(row) for row in conn.execute(_IN_ORDER)]

    def get(self, fault_id: str) -> Fault | None:
        with self._engine.connect().execution_options(opentms_readonly=True) as conn:
            row = conn.execute(_IN_ORDER.where(sandbox_faults.c.id == fault_id)).first()
        return None if row is None else _fault(row)

    def remove(self, fault_id: str) -> bool:
        with self._engine.begin() as conn:
            done = conn.execute(delete(sandbox_faults).where(sandbox_faults.c.id == fault_id))
        return done.rowcount == 1

    def clear(self) -> int:
        with self._engine.begin() as conn:
            return conn.execute(delete(sandbox_faults)).rowcount

    def claim(self, fault_id: str) -> bool:
        remaining = sandbox_faults.c.remaining
        with self._engine.begin() as conn:
            done = conn.execute(
                update(sandbox_faults)
                .where(sandbox_faults.c.id == fault_id)
                .where((remaining.is_(None)) | (remaining > 0))
                .values(
                    hits=sandbox_faults.c.hits + 1,
                    remaining=case((remaining.is_(None), None), else_=remaining - 1),
                )
            )
        return done.rowcount == 1
