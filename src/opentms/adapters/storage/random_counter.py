"""The counter of deterministic mode (docs/sandbox.md), shared by every
process of a server: :class:`~opentms.domain.ports.Counter` over its database.

On PostgreSQL, a sequence: ``nextval`` is not transactional, so a draw made
inside any transaction neither waits for nor blocks another. On SQLite, a
file beside the database under an exclusive ``flock``: a second SQLite
connection writing a counter row while a unit of work holds the database's
write lock would wait for that very lock. An in-memory SQLite database has
no beside: a counter of the process then."""

from __future__ import annotations

import fcntl
import os
import threading
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import Engine, text

from opentms.domain.ports import Counter
from opentms.domain.randomness import ProcessCounter

SEQUENCE = "opentms_deterministic_counter"
COUNTER_SUFFIX = ".deterministic-counter"


class PostgresCounter:
    """A PostgreSQL sequence (created if missing)."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        with engine.begin() as conn:
            # Workers starting at once: concurrent CREATE ... IF NOT EXISTS
            # can still collide in the catalogue, so they take turns.
            conn.execute(text("SELECT pg_advisory_xact_lock(hashtext(:name))"), {"name": SEQUENCE})
            conn.execute(text(f"CREATE SEQUENCE IF NOT EXISTS {SEQUENCE}"))

    def next(self) -> int:
        with self._engine.connect() as conn:
            value = conn.execute(text(f"SELECT nextval('{SEQUENCE}')")).scalar_one()
            conn.commit()
        return int(value)

    def restart(self) -> None:
        with self._engine.begin() as conn:
            conn.execute(text(f"ALTER SEQUENCE {SEQUENCE} RESTART WITH 1"))


class FileCounter:
    """A decimal number in a file, read and rewritten under an exclusive
    ``flock`` (which also orders the threads of one process: each takes the
    lock on a descriptor of its own)."""

    def __init__(self, path: Path) -> None:
        self._path = path
        descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        os.close(descriptor)
        self._local = threading.Lock()

    def next(self) -> int:
        return self._update(lambda value: value + 1)

    def restart(self) -> None:
        self._update(lambda _: 0)

    def _update(self, change: Callable[[int], int]) -> int:
        with self._local:
            descriptor = os.open(self._path, os.O_RDWR)
            try:
                fcntl.flock(descriptor, fcntl.LOCK_EX)
                raw = os.pread(descriptor, 32, 0).strip()
                value = change(int(raw) if raw.isdigit() else 0)
                encoded = str(value).encode()
                os.pwrite(descriptor, encoded, 0)
                os.ftruncate(descriptor, len(encoded))
                return value
            finally:
                os.close(descriptor)


def shared_counter(engine: Engine) -> Counter:
    """The counter every process of the server over ``engine`` shares."""
    if engine.dialect.name == "postgresql":
        return PostgresCounter(engine)
    database = engine.url.database
    if (
        engine.dialect.name == "sqlite"
        and database
        and database != ":memory:"
        and not database.startswith("file:")
    ):
        return FileCounter(Path(database + COUNTER_SUFFIX))
    return ProcessCounter()
