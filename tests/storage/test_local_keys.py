"""The local master key file (adapters/keys/local.py)."""

from __future__ import annotations

import multiprocessing
import os
import stat
import threading
from multiprocessing import queues, synchronize
from pathlib import Path

import pytest

from opentms.adapters.keys.local import MasterKeyFileError, load_or_create_master_keys
from opentms.crypto.keys import MasterKey

pytestmark = pytest.mark.skipif(os.name != "posix", reason="file modes are POSIX")

KEY_1 = bytes(range(32)).hex()
KEY_2 = bytes(range(32, 64)).hex()


def _write(path: Path, text: str, mode: int = 0o600) -> None:
    path.write_text(text)
    path.chmod(mode)


def test_created_on_first_use_owner_only(tmp_path: Path) -> None:
    path = tmp_path / "keys" / "master.key"
    keys = load_or_create_master_keys(path)
    assert len(keys) == 1
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) & 0o077 == 0
    lines = [line for line in path.read_text().splitlines() if not line.startswith("#")]
    assert lines == [keys[0].reveal().hex()]
    assert [p.name for p in path.parent.iterdir()] == ["master.key"]


def test_the_created_key_is_kept(tmp_path: Path) -> None:
    path = tmp_path / "master.key"
    first = load_or_create_master_keys(path)
    again = load_or_create_master_keys(path)
    assert [k.reveal() for k in again] == [k.reveal() for k in first]


def test_every_key_is_loaded_in_order(tmp_path: Path) -> None:
    path = tmp_path / "master.key"
    _write(path, f"# rotated on 2026-11-24\n{KEY_2}\n\n  {KEY_1}  \n")
    keys = load_or_create_master_keys(path)
    assert [k.reveal().hex() for k in keys] == [KEY_2, KEY_1]
    assert keys[0].key_id == MasterKey(bytes.fromhex(KEY_2)).key_id


@pytest.mark.parametrize(
    "mode",
    [
        pytest.param(0o640, id="group-readable"),
        pytest.param(0o604, id="other-readable"),
        pytest.param(0o620, id="group-writable"),
        pytest.param(0o644, id="world-readable"),
        pytest.param(0o660, id="group-read-write"),
    ],
)
def test_refused_when_others_can_access_it(tmp_path: Path, mode: int) -> None:
    path = tmp_path / "master.key"
    _write(path, KEY_1 + "\n", mode)
    with pytest.raises(MasterKeyFileError) as caught:
        load_or_create_master_keys(path)
    assert "chmod 600" in str(caught.value)
    assert KEY_1 not in str(caught.value)


@pytest.mark.parametrize("mode", [pytest.param(0o600, id="600"), pytest.param(0o400, id="400")])
def test_owner_only_modes_are_accepted(tmp_path: Path, mode: int) -> None:
    path = tmp_path / "master.key"
    _write(path, KEY_1 + "\n", mode)
    assert load_or_create_master_keys(path)[0].reveal().hex() == KEY_1


@pytest.mark.parametrize(
    ("text", "line"),
    [
        pytest.param(f"{KEY_1}\nnot-hex-at-all\n", 2, id="not-hex"),
        pytest.param(f"# header\n{KEY_1[:-2]}\n", 2, id="31-bytes"),
        pytest.param(f"{KEY_1}00\n", 1, id="33-bytes"),
        pytest.param(f"{KEY_1[:-1]}\n", 1, id="odd-length"),
        pytest.param(f"{KEY_1}\n{KEY_2} trailing\n", 2, id="trailing-text"),
    ],
)
def test_malformed_line_is_named(tmp_path: Path, text: str, line: int) -> None:
    path = tmp_path / "master.key"
    _write(path, text)
    with pytest.raises(MasterKeyFileError) as caught:
        load_or_create_master_keys(path)
    message = str(caught.value)
    assert f"line {line}:" in message
    assert "64 hexadecimal characters" in message
    assert KEY_1[:16] not in message
    assert KEY_2[:16] not in message


@pytest.mark.parametrize(
    "text",
    [pytest.param("", id="empty"), pytest.param("# only a comment\n\n", id="comments-only")],
)
def test_a_file_without_keys_is_refused(tmp_path: Path, text: str) -> None:
    path = tmp_path / "master.key"
    _write(path, text)
    with pytest.raises(MasterKeyFileError, match="holds no key"):
        load_or_create_master_keys(path)


def _load_in_child(
    path: str, barrier: synchronize.Barrier, results: queues.Queue[list[str]]
) -> None:
    barrier.wait()
    keys = load_or_create_master_keys(Path(path))
    results.put([key.reveal().hex() for key in keys])


def test_concurrent_creation_yields_one_key(tmp_path: Path) -> None:
    context = multiprocessing.get_context("spawn")
    workers = 4
    for attempt in range(3):
        path = tmp_path / f"attempt-{attempt}" / "master.key"
        barrier = context.Barrier(workers)
        results: queues.Queue[list[str]] = context.Queue()
        processes = [
            context.Process(target=_load_in_child, args=(str(path), barrier, results))
            for _ in range(workers)
        ]
        for process in processes:
            process.start()
        seen = [results.get(timeout=60) for _ in processes]
        for process in processes:
            process.join(timeout=60)
            assert process.exitcode == 0
        assert len(seen) == workers
        assert all(keys == seen[0] for keys in seen), seen
        assert len(seen[0]) == 1
        assert [k.reveal().hex() for k in load_or_create_master_keys(path)] == seen[0]
        assert [p.name for p in path.parent.iterdir()] == ["master.key"]


def _load_in_thread(
    path: Path, barrier: threading.Barrier, seen: list[list[str]], errors: list[BaseException]
) -> None:
    barrier.wait()
    try:
        seen.append([k.reveal().hex() for k in load_or_create_master_keys(path)])
    except Exception as exc:
        errors.append(exc)


def test_concurrent_creation_by_threads_yields_one_key(tmp_path: Path) -> None:
    # Two parts of one process (e.g. two app instances built side by side)
    # starting at once must also agree on one key, and neither may crash.
    workers = 4
    for attempt in range(20):
        path = tmp_path / f"attempt-{attempt}" / "master.key"
        barrier = threading.Barrier(workers)
        seen: list[list[str]] = []
        errors: list[BaseException] = []
        threads = [
            threading.Thread(target=_load_in_thread, args=(path, barrier, seen, errors))
            for _ in range(workers)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == []
        assert len(seen) == workers
        assert all(keys == seen[0] for keys in seen)
        assert [p.name for p in path.parent.iterdir()] == ["master.key"]
