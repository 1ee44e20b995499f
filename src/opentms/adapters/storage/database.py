"""Engines and transactions: SQLite (the embedded default) and PostgreSQL."""

from __future__ import annotations

import fcntl
import logging
import os
import threading
import weakref
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from types import TracebackType
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.exc import DataError, DBAPIError
from sqlalchemy.pool import ConnectionPoolEntry

from opentms.adapters.private_files import create_private_file, open_private
from opentms.adapters.storage.audit import AuditSettings, append
from opentms.adapters.storage.credential_chain import SQLCredentialChain
from opentms.adapters.storage.customer_repositories import (
    SQLCustomerRepository,
    SQLShippingAddressRepository,
)
from opentms.adapters.storage.network_tokens import (
    SQLNetworkDirectory,
    SQLNetworkTokenRepository,
)
from opentms.adapters.storage.repositories import (
    SQLInstrumentIdentifierRepository,
    SQLPaymentInstrumentRepository,
)
from opentms.adapters.storage.webhook_outbox import SQLOutbox
from opentms.crypto.keyring import MerchantKeys
from opentms.crypto.network_secrets import NetworkSecrets
from opentms.domain.audit import AuditEntry, AuditRecorder, failure
from opentms.domain.errors import DatabaseUnavailable, FieldError, InvalidFields

log = logging.getLogger("opentms.audit")


def _sqlite_pragmas(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
    # WAL lets readers run beside the one writer. synchronous=NORMAL: every
    # answered write survives a crash of the process (kill -9 included); only a
    # power cut or OS crash may lose the last commits, never consistency. FULL
    # (an fsync per commit) would take about 0.4 ms of each write here.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


class WriteGate:
    """Hands SQLite's write lock from one writer to the next without delay.

    A writer that finds the lock taken waits in SQLite's busy handler, which
    sleeps 1, 2, 5, 10... ms between tries, however soon the lock is free:
    with two server processes, a fifth of each one's time went there
    (bench/README.md, payment credentials, 2 workers). Writers that queue on
    this gate first (an advisory lock on a file beside the database, plus a
    thread lock for writers in one process) wake as soon as the previous one
    commits. It only orders writers: SQLite's own locking still guarantees
    correctness, and a writer outside the gate (another tool) is waited for
    by the busy timeout as before.
    """

    def __init__(self, path: str) -> None:
        self._fd = open_private(path, os.O_RDWR)
        # Re-entrant: a thread that opens a second write inside its first
        # passes here and is left to SQLite's busy timeout, as without the gate.
        self._threads = threading.RLock()
        self._depth = 0  # changed only by the thread holding _threads
        weakref.finalize(self, os.close, self._fd)

    def acquire(self) -> None:
        self._threads.acquire()
        if self._depth == 0:
            try:
                fcntl.flock(self._fd, fcntl.LOCK_EX)
            except BaseException:
                self._threads.release()
                raise
        self._depth += 1

    def release(self) -> None:
        self._depth -= 1
        try:
            if self._depth == 0:
                fcntl.flock(self._fd, fcntl.LOCK_UN)
        finally:
            self._threads.release()


_gates: weakref.WeakKeyDictionary[Engine, WriteGate] = weakref.WeakKeyDictionary()


def make_engine(url: str) -> Engine:
    """An engine for ``url`` with the settings opentms relies on."""
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False})
        event.listen(engine, "connect", _sqlite_pragmas)
        # pysqlite's own transaction handling delays BEGIN; take it over so a
        # transaction really starts (IMMEDIATE: take the write lock up front and
        # never fail half way with "database is locked").
        event.listen(engine, "connect", _disable_pysqlite_begin)
        event.listen(engine, "begin", _begin_immediate)
        database = engine.url.database
        if database and database != ":memory:" and not database.startswith("file:"):
            # Security: created 0600 here, or SQLite would create it 0644 under
            # the usual umask; its WAL and shared-memory files take its mode.
            create_private_file(database)
            _gates[engine] = WriteGate(database + "-writers")
        return engine
    # No pre-ping: it cost a round trip per transaction (13 % of a worker's
    # time on the payment-credentials path, profiled). A connection the server
    # dropped fails its request with a 503 and is replaced (see _Transaction).
    return create_engine(url, pool_size=10, max_overflow=20, pool_recycle=1800)


def _disable_pysqlite_begin(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
    dbapi_connection.isolation_level = None


def _begin_immediate(conn: Connection) -> None:
    if conn.get_execution_options().get("opentms_readonly"):
        conn.exec_driver_sql("BEGIN DEFERRED")
    else:
        conn.exec_driver_sql("BEGIN IMMEDIATE")


# Sandbox mode on PostgreSQL (docs/concurrency.md, "Sandbox resets and
# restores"): engines whose transactions are kept apart from wholesale changes.
_guarded: weakref.WeakSet[Engine] = weakref.WeakSet()
# The advisory lock a reset or restore takes exclusively and every other write
# transaction shared; any number, the same in every process ("otms").
WHOLESALE_LOCK = 0x6F746D73
_SHARE_WHOLESALE = text("SELECT pg_advisory_xact_lock_shared(:key)").bindparams(key=WHOLESALE_LOCK)
_TAKE_WHOLESALE = text("SELECT pg_advisory_xact_lock(:key)").bindparams(key=WHOLESALE_LOCK)


def guard_wholesale_changes(engine: Engine) -> None:
    """Sandbox mode: make ``engine``'s transactions see a reset or restore
    whole or not at all. SQLite needs nothing (one writer at a time; a reader
    keeps its snapshot). On PostgreSQL a read becomes one REPEATABLE READ
    transaction instead of autocommit statements (one snapshot for all its
    statements), and a write takes :data:`WHOLESALE_LOCK` shared first, so it
    runs wholly before or wholly after a :func:`wholesale_transaction`."""
    if engine.dialect.name != "sqlite":
        _guarded.add(engine)


@contextmanager
def wholesale_transaction(engine: Engine, *, whole_tables: bool = False) -> Iterator[Connection]:
    """A write transaction that changes many tables at once (a sandbox reset,
    a snapshot's save or restore), committed on exit without an exception.
    SQLite: BEGIN IMMEDIATE behind the write gate. PostgreSQL: it waits for
    the write transactions under way and holds back new ones until it ends.

    ``whole_tables``: the caller empties (and refills) whole sets of tables
    that refer only to each other, so no row can be left pointing at a missing
    one. SQLite then lets ``DELETE FROM t`` drop a table's pages at once
    (bench/README.md, "Sandbox reset and snapshots": 10,000 tokens in 15 to 30 ms rather
    than 250): without foreign-key checks, which make it delete row by row,
    and without zeroing the freed pages (see :func:`_bulk_deletes`)."""
    gate = _gates.get(engine)
    if gate is not None:
        gate.acquire()
    try:
        with engine.connect() as conn:
            bulk = whole_tables and conn.dialect.name == "sqlite"
            restore = _bulk_deletes(conn) if bulk else None
            try:
                with conn.begin():
                    if conn.dialect.name != "sqlite":
                        conn.execute(_TAKE_WHOLESALE)
                    yield conn
            finally:
                if restore is not None:
                    try:
                        restore()
                    except BaseException:
                        # Never back in the pool without its foreign-key checks.
                        conn.invalidate()
                        raise
    finally:
        if gate is not None:
            gate.release()


def _bulk_deletes(conn: Connection) -> Callable[[], None]:
    """Set a SQLite connection for whole-table deletes, outside any
    transaction (SQLite ignores these pragmas inside one); the function that
    sets it back."""
    raw: Any = conn.connection.dbapi_connection
    secure_delete = int(raw.execute("PRAGMA secure_delete").fetchone()[0])
    raw.execute("PRAGMA foreign_keys=OFF")
    # Security: freed pages keep their old bytes instead of being zeroed
    # (Debian builds SQLite with secure delete on, which wrote every page of
    # the emptied tables again: 30 MB for 10,000 tokens). Those bytes are
    # sealed or keyed hashes, never card data in clear, and the next writes
    # reuse the pages. Only sandbox resets and restores do this.
    raw.execute("PRAGMA secure_delete=FAST")

    def restore() -> None:
        raw.execute("PRAGMA foreign_keys=ON")
        raw.execute(f"PRAGMA secure_delete={secure_delete}")

    return restore


class _Transaction:
    """A connection and its transaction; rolled back on exit unless committed."""

    _conn: Connection
    _tx: Any
    _gate: WriteGate | None

    def _open(
        self, engine: Engine, readonly: bool = False, single_statement: bool = False
    ) -> Connection:
        self._gate = None if readonly else _gates.get(engine)
        if self._gate is not None:
            self._gate.acquire()
        try:
            self._conn = engine.connect()
        except BaseException:
            self._leave_gate()
            raise
        if readonly:
            self._conn.execution_options(opentms_readonly=True)
        guarded = engine in _guarded
        if guarded and readonly:
            # Sandbox mode: one snapshot for every statement of the read, taken
            # before or after a reset or restore committed, never between.
            self._conn.execution_options(isolation_level="REPEATABLE READ")
        elif not guarded and (readonly or single_statement) and self._conn.dialect.name != "sqlite":
            # Reads, and a write that is one statement (atomic by itself), need
            # no transaction on PostgreSQL: autocommit saves the BEGIN and
            # COMMIT/ROLLBACK round trips. SQLite keeps its transaction (a read
            # snapshot; BEGIN IMMEDIATE, as a write there may be two statements).
            self._conn.execution_options(isolation_level="AUTOCOMMIT")
        try:
            self._tx = self._conn.begin()
            if guarded and not readonly:
                self._conn.execute(_SHARE_WHOLESALE)
        except BaseException:
            self._conn.close()
            self._leave_gate()
            raise
        return self._conn

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            if self._tx.is_active:
                self._tx.rollback()
        finally:
            self._conn.close()
            self._leave_gate()
        if isinstance(exc, DBAPIError) and exc.connection_invalidated:
            raise DatabaseUnavailable() from exc
        if isinstance(exc, DataError):
            # A value the database cannot hold (PostgreSQL refuses NUL bytes in
            # text, say) is the request's fault, and nothing was written.
            raise InvalidFields(
                "The request holds a value the database cannot store.",
                (FieldError("body", "body"),),
            ) from exc

    def commit(self) -> None:
        self._tx.commit()
        self._leave_gate()

    def _leave_gate(self) -> None:
        if self._gate is not None:
            gate, self._gate = self._gate, None
            gate.release()


_NO_AUDIT = AuditRecorder(False)


class SQLAuditLog:
    """Entries written in a transaction of their own (see :mod:`audit`)."""

    def __init__(self, engine: Engine, settings: AuditSettings | None) -> None:
        self._engine = engine
        self.settings = settings

    @property
    def enabled(self) -> bool:
        return self.settings is not None

    def write(self, entries: Sequence[AuditEntry]) -> None:
        if not entries or self.settings is None:
            return
        with _AuditTransaction(self._engine) as transaction:
            append(transaction.conn, entries)
            transaction.commit()


class _AuditTransaction(_Transaction):
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def __enter__(self) -> _AuditTransaction:
        self.conn = self._open(self._engine)
        return self


class SQLUnitOfWork(_Transaction):
    """One transaction over one merchant's data; rolled back unless committed.

    Audit log on: the entries the services record (``self.audit``) are
    appended in this transaction just before it commits, so the change and
    its entry commit together or not at all. A unit of work left without a
    commit (a read) writes them in a short transaction of its own before
    the answer goes out (a read changes nothing, so nothing can commit
    without its entry); one left by an error writes them, marked
    ``failure:<kind>``, after its rollback."""

    def __init__(
        self,
        engine: Engine,
        secrets: NetworkSecrets,
        keys: MerchantKeys,
        readonly: bool = False,
        *,
        single_statement: bool = False,
        wake: Callable[[], None] | None = None,
        audit: AuditSettings | None = None,
    ) -> None:
        self._engine = engine
        self._audit = audit
        self._secrets = secrets
        self._keys = keys
        self._readonly = readonly
        self._single_statement = single_statement
        # Called once a commit has queued webhook notifications (the dispatcher's doorbell).
        self._wake = wake

    def __enter__(self) -> SQLUnitOfWork:
        # An audited write is its change plus the entry: never one statement
        # committing by itself.
        single = self._single_statement and self._audit is None
        conn = self._open(self._engine, self._readonly, single)
        keys, secrets = self._keys, self._secrets
        self.instrument_identifiers = SQLInstrumentIdentifierRepository(conn, keys, secrets)
        self.network_tokens = SQLNetworkTokenRepository(conn, keys, secrets)
        self.payment_instruments = SQLPaymentInstrumentRepository(conn, keys)
        self.customers = SQLCustomerRepository(conn, keys)
        self.shipping_addresses = SQLShippingAddressRepository(conn, keys)
        self.credential_chain = SQLCredentialChain(
            conn,
            keys.merchant_id,
            self.instrument_identifiers,
            self.payment_instruments,
            self.network_tokens,
        )
        self.outbox = SQLOutbox(conn, keys.merchant_id)
        self.audit = _NO_AUDIT if self._audit is None else self._audit.recorder()
        return self

    def commit(self) -> None:
        if self.audit.pending:
            # A read-only transaction (autocommit on PostgreSQL, a deferred
            # one on SQLite) has nothing to commit with; see __exit__.
            if self._readonly:
                self._write_audit("success")
            else:
                append(self._conn, self.audit.take())
        super().commit()
        if self.outbox.published and self._wake is not None:
            self._wake()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            super().__exit__(exc_type, exc, tb)
        except BaseException as converted:
            self._write_failure(converted)
            raise
        if not self.audit.pending:
            return
        if exc is None:
            self._write_audit("success")
        else:
            self._write_failure(exc)

    def _write_audit(self, outcome: str) -> None:
        assert self._audit is not None  # noqa: S101 - entries are only recorded when on
        SQLAuditLog(self._engine, self._audit).write(self.audit.take(outcome))

    def _write_failure(self, error: BaseException) -> None:
        """The failed operation's entries, after its rollback. Failing to
        write them must not hide the error that made the operation fail."""
        if not self.audit.pending:
            return
        try:
            self._write_audit(failure(error))
        except Exception:
            log.exception("could not record a failed operation in the audit log")


class SQLNetworkUnitOfWork(_Transaction):
    """One transaction as the card network: tokens by number, any merchant."""

    def __init__(self, engine: Engine, secrets: NetworkSecrets) -> None:
        self._engine = engine
        self._secrets = secrets

    def __enter__(self) -> SQLNetworkUnitOfWork:
        self.directory = SQLNetworkDirectory(self._open(self._engine), self._secrets)
        return self
