"""The modes of what a real ``opentms serve`` writes to its data directory
(docs/security.md): the database, SQLite's WAL and shared-memory files, the
writers' lock and the master key 0600, a new data directory 0700, whatever the
umask; and a warning at start when the directory is open to other users."""

from __future__ import annotations

import contextlib
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.robustness.support import environment, start_server
from tests.support import postgresql_backend

pytestmark = pytest.mark.skipif(
    postgresql_backend(), reason="the files are SQLite's; the PostgreSQL pass has none"
)

PRIVATE_FILES = [
    "opentms.db",
    "opentms.db-wal",
    "opentms.db-shm",
    "opentms.db-writers",
    "admin-token",
    "master.key",
]


@contextlib.contextmanager
def umask(mask: int) -> Iterator[None]:
    """Run the block (and the processes it starts) under ``mask``."""
    previous = os.umask(mask)
    try:
        yield
    finally:
        os.umask(previous)


def modes_after_serving(data_dir: Path, log_file: Path, mask: int) -> dict[str, int]:
    """Start ``opentms serve`` on ``data_dir`` under ``mask``, make it open
    the database, stop it; the modes of the directory ('.') and its files, read
    while it was serving (SQLite removes its WAL and shared-memory files at
    the last close)."""
    with umask(mask):
        server = start_server(log_file, environment(data_dir=str(data_dir)))
    try:
        assert httpx.get(f"{server.url}/readyz", timeout=10).status_code == 200
        modes = {
            path.name: stat.S_IMODE(path.stat().st_mode)
            for path in data_dir.iterdir()
            if not path.name.startswith(".")
        }
        modes["."] = stat.S_IMODE(data_dir.stat().st_mode)
    finally:
        server.stop()
    return modes


def test_files_are_private_in_an_existing_open_directory(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    data_dir.chmod(0o755)
    log_file = tmp_path / "server.log"
    modes = modes_after_serving(data_dir, log_file, 0o022)
    private = {name: oct(modes.get(name, 0)) for name in PRIVATE_FILES}
    assert private == dict.fromkeys(PRIVATE_FILES, "0o600")
    assert modes["."] == 0o755  # the operator's directory is left as it is, and named:
    warnings = [line for line in log_file.read_text().splitlines() if " WARNING " in line]
    assert len(warnings) == 1, warnings
    assert str(data_dir) in warnings[0]
    assert "0755" in warnings[0]
    assert f"chmod 700 {data_dir}" in warnings[0]


@pytest.mark.parametrize("mask", [0o022, 0o277], ids=["umask-022", "umask-277"])
def test_a_new_data_directory_is_private(tmp_path: Path, mask: int) -> None:
    data_dir = tmp_path / "data"
    log_file = tmp_path / "server.log"
    modes = modes_after_serving(data_dir, log_file, mask)
    assert modes == {".": 0o700, **dict.fromkeys(PRIVATE_FILES, 0o600)}
    assert " WARNING " not in log_file.read_text()
