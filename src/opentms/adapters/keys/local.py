"""The master key from a local file, created on first start.

The file holds one hex-encoded 256-bit key per line: the first seals, all of
them open (so an operator can rotate by putting a new key on top).
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
    if not path.exists():
        _create(path)
    mode = path.stat().st_mode
    # Security: a master key others can read protects nothing; refuse to use it.
    if os.name == "posix" and mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise MasterKeyFileError(f"{path} is readable by other users; run: chmod 600 {path}")
    keys = []
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        try:
            keys.append(MasterKey(bytes.fromhex(line)))
        except ValueError:
            raise MasterKeyFileError(
                f"{path}, line {number}: expected 64 hexadecimal characters"
            ) from None
    if not keys:
        raise MasterKeyFileError(f"{path} holds no key")
    return keys


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
