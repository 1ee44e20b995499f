"""The ``file`` master key provider: the versions of the key file
(adapters/keys/local.py), re-read when the file changes, rotated and
retired by rewriting it whole."""

from __future__ import annotations

import fcntl
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from opentms.adapters.keys.local import (
    MasterKeyFileError,
    load_or_create_versions,
    read_versions,
    write_versions,
)
from opentms.crypto.keys import MasterKey
from opentms.crypto.providers import KeyProviderError, KeyVersion, LocalKeys


class FileKeyProvider:
    name = "file"

    def __init__(self, path: Path) -> None:
        self._path = path
        self._lock = threading.Lock()
        try:
            self._keys = LocalKeys(load_or_create_versions(path))
        except MasterKeyFileError as exc:
            raise KeyProviderError(str(exc)) from None
        self._seen = self._signature()

    def versions(self) -> Sequence[KeyVersion]:
        with self._lock:
            signature = self._signature()
            if signature != self._seen:
                self._keys = self._read()
                self._seen = signature
            return self._keys.versions()

    def encrypt(self, version: KeyVersion, nonce: bytes, plaintext: bytes, aad: bytes) -> bytes:
        return self._keys.encrypt(version, nonce, plaintext, aad)

    def decrypt(self, version: KeyVersion, nonce: bytes, ciphertext: bytes, aad: bytes) -> bytes:
        return self._keys.decrypt(version, nonce, ciphertext, aad)

    def rotate(self) -> KeyVersion:
        with self._exclusive():
            keys = read_versions(self._path)
            number = max(n for n, _ in keys) + 1
            write_versions(self._path, [*keys, (number, MasterKey.generate())])
        versions = self.versions()
        return next(v for v in versions if v.version == number)

    def retire(self, version: KeyVersion) -> None:
        with self._exclusive():
            keys = read_versions(self._path)
            kept = [(n, key) for n, key in keys if n != version.version]
            if len(kept) == len(keys):
                return
            write_versions(self._path, kept)
        self.versions()

    def _read(self) -> LocalKeys:
        try:
            return LocalKeys(read_versions(self._path))
        except (MasterKeyFileError, OSError) as exc:
            raise KeyProviderError(str(exc)) from None

    def _signature(self) -> tuple[int, int, int]:
        try:
            stat = self._path.stat()
        except OSError as exc:
            raise KeyProviderError(f"{self._path}: {exc.strerror}") from None
        return stat.st_ino, stat.st_mtime_ns, stat.st_size

    @contextmanager
    def _exclusive(self) -> Iterator[None]:
        """One rotation or retirement at a time, across processes (a lock file
        beside the key file: the key file itself is replaced, not edited)."""
        lock = self._path.with_name(f".{self._path.name}.lock")
        with open(lock, "a") as handle:
            lock.chmod(0o600)
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            except MasterKeyFileError as exc:
                raise KeyProviderError(str(exc)) from None
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def __repr__(self) -> str:
        return f"FileKeyProvider({str(self._path)!r})"
