"""The sandbox's state row (``sandbox_state``, id 1), over SQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import Connection, Engine, select, update

from opentms.adapters.storage.tables import sandbox_state
from opentms.domain.ports import SandboxState

_READ = select(sandbox_state.c.generation, sandbox_state.c.clock_offset_us).where(
    sandbox_state.c.id == 1
)


def _state(generation: int, offset_us: int) -> SandboxState:
    return SandboxState(generation, timedelta(microseconds=offset_us))


def bump_generation(conn: Connection) -> None:
    """Within a caller's transaction (a reset, a restore, a seed): every
    process drops its caches of merchants when that transaction commits."""
    conn.execute(
        update(sandbox_state)
        .where(sandbox_state.c.id == 1)
        .values(generation=sandbox_state.c.generation + 1, updated_at=datetime.now(UTC))
    )


class SQLSandboxState:
    """:class:`~opentms.domain.ports.SandboxStateStore` of one engine."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def read(self) -> SandboxState:
        # A read: BEGIN DEFERRED on SQLite (database.make_engine), never the write lock.
        with self._engine.connect().execution_options(opentms_readonly=True) as conn:
            row = conn.execute(_READ).one()
        return _state(row.generation, row.clock_offset_us)

    def set_clock_offset(self, offset: timedelta) -> SandboxState:
        microseconds = offset // timedelta(microseconds=1)
        with self._engine.begin() as conn:
            conn.execute(
                update(sandbox_state)
                .where(sandbox_state.c.id == 1)
                .values(clock_offset_us=microseconds, updated_at=datetime.now(UTC))
            )
            row = conn.execute(_READ).one()
        return _state(row.generation, row.clock_offset_us)

    def bump_generation(self) -> SandboxState:
        with self._engine.begin() as conn:
            bump_generation(conn)
            row = conn.execute(_READ).one()
        return _state(row.generation, row.clock_offset_us)
