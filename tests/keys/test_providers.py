"""The master key providers (file, env) and the keyring over them."""

from __future__ import annotations

import base64
import os
import secrets
import stat
from pathlib import Path

import pytest

from opentms.adapters.keys.env import EnvKeyProvider, parse_master_keys
from opentms.adapters.keys.file import FileKeyProvider
from opentms.adapters.keys.local import load_or_create_master_keys
from opentms.crypto.envelope import seal, sealed_key_id
from opentms.crypto.keyring import Keyring
from opentms.crypto.keys import MasterKey
from opentms.crypto.providers import KeyProviderError, KeyVersion
from opentms.domain.errors import DecryptionFailed

KEY_1, KEY_2 = MasterKey(bytes(range(32))), MasterKey(bytes(range(32, 64)))


def _b64(key: MasterKey) -> str:
    return base64.b64encode(key.reveal()).decode()


def _write(path: Path, text: str) -> None:
    path.write_text(text)
    path.chmod(0o600)


class _Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


# --- file -------------------------------------------------------------------


def test_a_legacy_key_file_keeps_opening_what_it_sealed(tmp_path: Path) -> None:
    """A file of bare hex lines (before versions): the first seals, the
    lines count up from the last, and values sealed by the old keyring open."""
    path = tmp_path / "master.key"
    _write(path, f"{KEY_2.reveal().hex()}\n{KEY_1.reveal().hex()}\n")
    old = seal(KEY_1, b"secret", b"opentms/server\x00server-key\x00x")
    keyring = Keyring(FileKeyProvider(path))
    assert keyring.versions() == (KeyVersion(1, KEY_1.key_id), KeyVersion(2, KEY_2.key_id))
    assert keyring.master_key_id == KEY_2.key_id
    assert keyring.unseal(old, "server-key\x00x") == b"secret"
    # What the keyring seals, the envelope module opens with the same key.
    assert sealed_key_id(keyring.seal(b"new", "c")) == KEY_2.key_id


def test_rotate_writes_numbered_lines_atomically_and_privately(tmp_path: Path) -> None:
    path = tmp_path / "master.key"
    _write(path, f"{KEY_1.reveal().hex()}\n")
    provider = FileKeyProvider(path)
    version = provider.rotate()
    assert version.version == 2
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    lines = [line for line in path.read_text().splitlines() if not line.startswith("#")]
    assert lines[0].startswith("v2:")
    assert lines[1] == f"v1:{KEY_1.reveal().hex()}"
    # The old load path reads the new format, newest first.
    assert load_or_create_master_keys(path)[1].key_id == KEY_1.key_id
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".master.key.")] == [
        ".master.key.lock"
    ]


def test_retire_removes_the_line_and_the_version_opens_nothing(tmp_path: Path) -> None:
    path = tmp_path / "master.key"
    _write(path, f"v1:{KEY_1.reveal().hex()}\n")
    keyring = Keyring(FileKeyProvider(path), refresh_seconds=0)
    sealed = keyring.seal(b"secret", "c")
    keyring.provider.rotate()
    keyring.provider.retire(KeyVersion(1, KEY_1.key_id))
    assert KEY_1.reveal().hex() not in path.read_text()
    with pytest.raises(DecryptionFailed):
        keyring.unseal(sealed, "c")


def test_another_process_rotating_is_seen_by_a_running_keyring(tmp_path: Path) -> None:
    path = tmp_path / "master.key"
    _write(path, f"v1:{KEY_1.reveal().hex()}\n")
    clock = _Clock()
    server = Keyring(FileKeyProvider(path), refresh_seconds=2, now=clock)
    operator = Keyring(FileKeyProvider(path))
    version = operator.provider.rotate()
    operator.refresh()
    # Sealed by the operator under v2: the server re-reads at once to open it.
    assert server.unseal(operator.seal(b"x", "c"), "c") == b"x"
    clock.now = 1.0
    assert sealed_key_id(server.seal(b"y", "c")) == version.key_id


def test_a_running_keyring_seals_with_the_new_version_after_its_interval(tmp_path: Path) -> None:
    path = tmp_path / "master.key"
    _write(path, f"v1:{KEY_1.reveal().hex()}\n")
    clock = _Clock()
    server = Keyring(FileKeyProvider(path), refresh_seconds=2, now=clock)
    version = FileKeyProvider(path).rotate()
    clock.now = 1.0
    assert sealed_key_id(server.seal(b"y", "c")) == KEY_1.key_id
    clock.now = 2.0
    assert sealed_key_id(server.seal(b"y", "c")) == version.key_id


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (f"v1:{'00' * 31}\n", "line 1: expected 64 hexadecimal"),
        (f"vx:{'00' * 32}\n", "line 1: expected"),
        (f"v0:{'00' * 32}\n", "line 1: expected"),
        (f"v1:{'00' * 32}\n{'11' * 32}\n", "mixes numbered"),
        (f"v1:{'00' * 32}\nv1:{'11' * 32}\n", "version number twice"),
    ],
)
def test_a_malformed_key_file_is_refused_with_its_line(
    tmp_path: Path, text: str, message: str
) -> None:
    path = tmp_path / "master.key"
    _write(path, text)
    with pytest.raises(KeyProviderError, match=message):
        FileKeyProvider(path)


@pytest.mark.skipif(os.name != "posix", reason="file modes are POSIX")
def test_a_readable_key_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "master.key"
    _write(path, f"v1:{KEY_1.reveal().hex()}\n")
    path.chmod(0o640)
    with pytest.raises(KeyProviderError, match="chmod 600"):
        FileKeyProvider(path)


# --- env --------------------------------------------------------------------


def test_env_keys_the_highest_version_seals() -> None:
    keyring = Keyring(EnvKeyProvider(f"v2:{_b64(KEY_2)}, v1:{_b64(KEY_1)}"))
    assert keyring.newest == KeyVersion(2, KEY_2.key_id)
    sealed = seal(KEY_1, b"old", b"opentms/server\x00c")
    assert keyring.unseal(sealed, "c") == b"old"


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("v1:not*base64", "v1: not base64"),
        (f"v1:{base64.b64encode(bytes(16)).decode()}", "v1: 16 bytes"),
        (f"v1:{_b64(KEY_1)},v1:{_b64(KEY_2)}", "v1 is given twice"),
        (f"v1:{_b64(KEY_1)},v2:{_b64(KEY_1)}", "same master key is given twice"),
        (_b64(KEY_1), "item 1: expected v<N>:"),
        (f"v1:{_b64(KEY_1)},", "item 2: expected v<N>:"),
        (f"v0:{_b64(KEY_1)}", "versions count from v1"),
    ],
)
def test_env_keys_are_parsed_strictly(value: str, message: str) -> None:
    with pytest.raises(KeyProviderError, match=message) as caught:
        parse_master_keys(value)
    # The error never shows key material.
    assert _b64(KEY_1) not in str(caught.value)


def test_env_rotate_and_retire_tell_the_operator_what_to_set() -> None:
    provider = EnvKeyProvider(f"v1:{_b64(KEY_1)}")
    with pytest.raises(KeyProviderError, match=r"Append ',v2:'.*OPENTMS_MASTER_KEYS"):
        provider.rotate()
    with pytest.raises(KeyProviderError, match="Remove v1 from OPENTMS_MASTER_KEYS"):
        provider.retire(KeyVersion(1, KEY_1.key_id))
    with pytest.raises(KeyProviderError, match="needs OPENTMS_MASTER_KEYS"):
        EnvKeyProvider("")


# --- the keyring over any provider -----------------------------------------------


@pytest.mark.parametrize(
    "mutate",
    [
        pytest.param(lambda b: b[:-1] + bytes([b[-1] ^ 1]), id="tag"),
        pytest.param(lambda b: b[:1] + secrets.token_bytes(4) + b[5:], id="unknown-key-id"),
        pytest.param(lambda b: b[:10], id="truncated"),
        pytest.param(lambda b: b"\x02" + b[1:], id="envelope-version"),
    ],
)
def test_a_tampered_value_fails_cleanly(tmp_path: Path, mutate: object) -> None:
    path = tmp_path / "master.key"
    _write(path, f"v1:{KEY_1.reveal().hex()}\n")
    keyring = Keyring(FileKeyProvider(path))
    sealed = keyring.seal(b"secret", "c")
    with pytest.raises(DecryptionFailed):
        keyring.unseal(mutate(sealed), "c")  # type: ignore[operator]


def test_reseal_moves_only_values_not_under_the_newest() -> None:
    keyring = Keyring([KEY_2, KEY_1])
    old = Keyring([KEY_1]).seal(b"secret", "c")
    moved = keyring.reseal(old, "c")
    assert moved is not None
    assert sealed_key_id(moved) == KEY_2.key_id
    assert keyring.unseal(moved, "c") == b"secret"
    assert keyring.reseal(moved, "c") is None
