"""The master key from a local file, created on first start.

The file holds one hex-encoded 256-bit key per line, either numbered,
``v<N>:<hex>`` (what ``opentms keys rotate`` writes: the highest number
seals), or, as files written before versions existed, bare: the first line
seals and the lines count up from the last, version 1. Every key opens.
"""

from __future__ import annotations

import os
import stat
import tempfile
from pathlib import Path

from opentms.adapters.private_files import make_private_directory
from opentms.crypto.keys import MasterKey


class MasterKeyFileError(Exception):
    """The master key file is unreadable, malformed or too widely readable."""


def load_or_create_master_keys(path: Path) -> list[MasterKey]:
    """The keys of ``path``, newest first (the file is created when missing)."""
    return [key for _, key in sorted(load_or_create_versions(path), reverse=True)]


def load_or_create_versions(path: Path) -> list[tuple[int, MasterKey]]:
    """The numbered keys of ``path`` (created with one key when missing)."""
    if not path.exists():
        _create(path)
    return read_versions(path)


def read_versions(path: Path) -> list[tuple[int, MasterKey]]:
    mode = path.stat().st_mode
    # Security: a master key others can read protects nothing; refuse to use it.
    if os.name == "posix" and mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise MasterKeyFileError(f"{path} is readable by other users; run: chmod 600 {path}")
    numbered: list[tuple[int, MasterKey]] = []
    bare: list[MasterKey] = []
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        version, colon, material = line.partition(":")
        try:
            if colon:
                if not (version.startswith("v") and version[1:].isdigit() and int(version[1:])):
                    raise ValueError
                numbered.append((int(version[1:]), MasterKey(bytes.fromhex(material))))
            else:
                bare.append(MasterKey(bytes.fromhex(line)))
        except ValueError:
            raise MasterKeyFileError(
                f"{path}, line {number}: expected 64 hexadecimal characters, "
                "or v<N>:<64 hexadecimal characters>"
            ) from None
    if numbered and bare:
        raise MasterKeyFileError(
            f"{path} mixes numbered (v<N>:<hex>) and bare lines; number every line"
        )
    if bare:
        numbered = [(len(bare) - index, key) for index, key in enumerate(bare)]
    if not numbered:
        raise MasterKeyFileError(f"{path} holds no key")
    numbers = [version for version, _ in numbered]
    if len(set(numbers)) != len(numbers):
        raise MasterKeyFileError(f"{path} gives a version number twice")
    return numbered


def write_versions(path: Path, keys: list[tuple[int, MasterKey]]) -> None:
    """Replace ``path`` with ``keys``, numbered, newest first: all at once
    (a reader sees the old file or the new one), 0600, on disk before it returns."""
    text = "# opentms master keys (v<N>:<hex>, the highest seals): keep secret, keep backed up.\n"
    text += "".join(f"v{n}:{key.reveal().hex()}\n" for n, key in sorted(keys, reverse=True))
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(name, path)
    except BaseException:
        Path(name).unlink(missing_ok=True)
        raise
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)


def _create(path: Path) -> None:
    make_private_directory(path.parent)
    key = MasterKey.generate()
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    temporary = Path(name)
    os.fchmod(fd, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write("# opentms master key: keep secret, keep backed up.\n")
        handle.write(key.reveal().hex() + "\n")
        handle.flush()
        os.fsync(handle.fileno())
    # A hard link appears complete or not at all, and never replaces a key
    # another process created first.
    try:
        os.link(temporary, path)
    except FileExistsError:
        pass
    finally:
        temporary.unlink()
