"""Files only the server's user can read: a data directory opentms creates is
0700, and the files it creates (database, SQLite's WAL and shared-memory files,
the writers' lock, keys) are 0600, whatever the umask.

SQLite gives its WAL and shared-memory files the mode of the database file, so
creating the database 0600 before SQLite opens it is enough for all three.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

PRIVATE_DIRECTORY = 0o700
PRIVATE_FILE = 0o600


def make_private_directory(path: Path) -> None:
    """Create ``path`` (and missing parents) 0700; an existing directory is
    left as it is (:func:`shared_directory_warning` tells about it)."""
    try:
        path.mkdir(parents=True, mode=PRIVATE_DIRECTORY)
    except FileExistsError:
        return
    # mkdir's mode passes through the umask, which may also take the owner's bits.
    os.chmod(path, PRIVATE_DIRECTORY)


def open_private(path: str, flags: int) -> int:
    """``os.open(path, flags)``, creating the file 0600 when it is missing."""
    try:
        fd = os.open(path, flags | os.O_CREAT | os.O_EXCL, PRIVATE_FILE)
    except FileExistsError:
        return os.open(path, flags)
    os.fchmod(fd, PRIVATE_FILE)
    return fd


def create_private_file(path: str) -> None:
    """Create an empty ``path`` 0600 unless it exists."""
    os.close(open_private(path, os.O_RDONLY))


def shared_directory_warning(path: Path) -> str | None:
    """A sentence for the operator when other users can list, read or write
    the directory ``path`` (which holds the database and the master key)."""
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
    except FileNotFoundError:
        return None
    if os.name != "posix" or not mode & (stat.S_IRWXG | stat.S_IRWXO):
        return None
    return (
        f"The data directory {path} has mode {mode:04o}, which lets other users reach "
        f"the database and keys in it; run: chmod 700 {path}"
    )
