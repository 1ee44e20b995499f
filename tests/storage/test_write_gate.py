"""SQLite writers queue on the write gate: held for exactly the write unit of
work, released however it ends, shared across processes, re-entrant."""

from __future__ import annotations

import fcntl
import multiprocessing
import os
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, text
from sqlalchemy.exc import OperationalError

from opentms.adapters.storage.database import SQLUnitOfWork, WriteGate, make_engine
from opentms.crypto.keyring import Keyring, MerchantKeys
from opentms.crypto.keys import MasterKey
from opentms.crypto.network_secrets import NetworkSecrets


def gate_is_free(path: Path) -> bool:
    """Whether another open file description could take the gate now."""
    fd = os.open(path, os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    finally:
        os.close(fd)  # closing drops a lock this probe took
    return True


@pytest.fixture
def keys() -> tuple[NetworkSecrets, MerchantKeys]:
    keyring = Keyring([MasterKey(bytes(32))])
    return NetworkSecrets(keyring, bytes(32)), keyring.open("m", keyring.new_merchant_keys("m"))


def test_a_write_holds_the_gate_and_a_read_does_not(
    tmp_path: Path, keys: tuple[NetworkSecrets, MerchantKeys]
) -> None:
    secrets, merchant = keys
    engine = make_engine(f"sqlite:///{tmp_path / 'x.db'}")
    gate = tmp_path / "x.db-writers"
    with SQLUnitOfWork(engine, secrets, merchant, readonly=True):
        assert gate_is_free(gate)
    with SQLUnitOfWork(engine, secrets, merchant) as uow:
        assert not gate_is_free(gate)
        uow.commit()
        assert gate_is_free(gate)  # released at the commit, before the block ends
    held_during_failed_write = []

    def failed_write() -> None:
        with SQLUnitOfWork(engine, secrets, merchant):
            held_during_failed_write.append(not gate_is_free(gate))
            raise RuntimeError("a failed request")

    with pytest.raises(RuntimeError):
        failed_write()
    assert held_during_failed_write == [True]
    assert gate_is_free(gate)


def test_a_failed_begin_releases_the_gate(
    tmp_path: Path, keys: tuple[NetworkSecrets, MerchantKeys]
) -> None:
    """Another program (outside the gate) holds SQLite's write lock longer
    than the busy timeout: the write fails, and the gate is not left taken."""
    secrets, merchant = keys
    url = f"sqlite:///{tmp_path / 'x.db'}"
    engine = make_engine(url)

    def short_busy_timeout(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.execute("PRAGMA busy_timeout=50")

    event.listen(engine, "connect", short_busy_timeout)
    with make_engine(url).connect() as holder:
        holder.exec_driver_sql("CREATE TABLE t (x INTEGER)")  # in BEGIN IMMEDIATE
        with pytest.raises(OperationalError, match="locked"):
            SQLUnitOfWork(engine, secrets, merchant).__enter__()
        assert gate_is_free(tmp_path / "x.db-writers")
        holder.rollback()
    with SQLUnitOfWork(engine, secrets, merchant) as uow:  # and the next write goes through
        uow._conn.execute(text("SELECT 1"))
        uow.commit()


def _hold(path: str, taken: object, release: object) -> None:
    gate = WriteGate(path)
    gate.acquire()
    taken.set()  # type: ignore[attr-defined]
    release.wait(10)  # type: ignore[attr-defined]
    gate.release()


def test_writers_in_two_processes_take_turns(tmp_path: Path) -> None:
    path = str(tmp_path / "db-writers")
    context = multiprocessing.get_context("spawn")
    taken, release = context.Event(), context.Event()
    child = context.Process(target=_hold, args=(path, taken, release))
    child.start()
    try:
        assert taken.wait(30)
        gate = WriteGate(path)
        entered = threading.Event()

        def write() -> None:
            gate.acquire()
            entered.set()
            gate.release()

        waiter = threading.Thread(target=write)
        waiter.start()
        assert not entered.wait(0.3)  # queued behind the other process
        release.set()
        assert entered.wait(10)  # and in as soon as it let go
        waiter.join(10)
    finally:
        release.set()
        child.join(10)
    assert child.exitcode == 0


def test_the_gate_is_reentrant_within_a_thread(tmp_path: Path) -> None:
    path = tmp_path / "db-writers"
    gate = WriteGate(str(path))
    gate.acquire()
    gate.acquire()  # a nested write does not deadlock on the gate
    gate.release()
    assert not gate_is_free(path)  # still held for the outer write
    gate.release()
    assert gate_is_free(path)


def test_threads_of_one_process_take_turns(tmp_path: Path) -> None:
    gate = WriteGate(str(tmp_path / "db-writers"))
    inside = 0
    most = 0
    lock = threading.Lock()

    def write() -> None:
        nonlocal inside, most
        for _ in range(50):
            gate.acquire()
            with lock:
                inside += 1
                most = max(most, inside)
            time.sleep(0.0005)
            with lock:
                inside -= 1
            gate.release()

    threads = [threading.Thread(target=write) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert most == 1
