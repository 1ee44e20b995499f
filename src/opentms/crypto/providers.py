"""The port of the master key's provider, and the one that holds its keys in memory.

A provider keeps the versions of the master key (a file, the environment, an
HSM) and encrypts with them; the :class:`~opentms.crypto.keyring.Keyring`
frames what it returns as the envelope of :mod:`opentms.crypto.envelope`, so a
value sealed under any provider has the same layout and a file's keys read
what they sealed before providers existed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from opentms.crypto.keys import MasterKey
from opentms.domain.errors import DecryptionFailed

KEY_ID_BYTES = 4


@dataclass(frozen=True, order=True)
class KeyVersion:
    """One version of the master key: its number (1, 2, ...; the highest
    seals) and the four bytes that name it inside sealed values."""

    version: int
    key_id: bytes

    def __post_init__(self) -> None:
        if self.version < 1:
            raise ValueError("A master key version is a positive number.")
        if len(self.key_id) != KEY_ID_BYTES:
            raise ValueError("A master key id is 4 bytes.")


class KeyProviderError(Exception):
    """The provider cannot do what was asked: its message tells the operator why
    and what to do (an unreadable key file, a refused rotation, an HSM down)."""


class MasterKeyProvider(Protocol):
    """Where the master key's versions live, and the only code that touches
    their material (an HSM's never leaves it)."""

    @property
    def name(self) -> str:
        """``file``, ``env`` or ``pkcs11`` (recorded with each version)."""

    def versions(self) -> Sequence[KeyVersion]:
        """Every version the provider holds now, read afresh (another
        process may have rotated or retired since)."""

    def encrypt(self, version: KeyVersion, nonce: bytes, plaintext: bytes, aad: bytes) -> bytes:
        """AES-256-GCM of ``plaintext`` under ``version``: ciphertext then
        its 16-byte tag."""

    def decrypt(self, version: KeyVersion, nonce: bytes, ciphertext: bytes, aad: bytes) -> bytes:
        """The inverse of :meth:`encrypt`; raises DecryptionFailed when the
        tag does not verify."""

    def rotate(self) -> KeyVersion:
        """Create the next version (it seals from now on); raises
        KeyProviderError when this provider cannot (its message says what to set)."""

    def retire(self, version: KeyVersion) -> None:
        """Destroy ``version``'s material for good (a retired version opens
        nothing again, backups included)."""


class LocalKeys:
    """Master keys held in this process's memory (read from a file or the
    environment), numbered: the base of the ``file`` and ``env`` providers,
    and a keyring's provider when it is given keys directly."""

    name = "memory"

    def __init__(self, keys: Sequence[tuple[int, MasterKey]]) -> None:
        self._load(keys)

    def _load(self, keys: Sequence[tuple[int, MasterKey]]) -> None:
        numbers = [number for number, _ in keys]
        if len(set(numbers)) != len(numbers):
            raise KeyProviderError("Two master keys have the same version number.")
        ids = [key.key_id for _, key in keys]
        if len(set(ids)) != len(ids):
            raise KeyProviderError("The same master key is given twice.")
        self._keys = {KeyVersion(number, key.key_id): key for number, key in keys}

    @classmethod
    def newest_first(cls, keys: Sequence[MasterKey]) -> LocalKeys:
        """Keys listed newest first (the first seals), numbered from the last, 1."""
        return cls([(len(keys) - index, key) for index, key in enumerate(keys)])

    def versions(self) -> Sequence[KeyVersion]:
        return sorted(self._keys)

    def encrypt(self, version: KeyVersion, nonce: bytes, plaintext: bytes, aad: bytes) -> bytes:
        return AESGCM(self._material(version)).encrypt(nonce, plaintext, aad)

    def decrypt(self, version: KeyVersion, nonce: bytes, ciphertext: bytes, aad: bytes) -> bytes:
        try:
            return AESGCM(self._material(version)).decrypt(nonce, ciphertext, aad)
        except InvalidTag:
            raise DecryptionFailed() from None

    def rotate(self) -> KeyVersion:
        number = max((v.version for v in self._keys), default=0) + 1
        self._load([*self._numbered(), (number, MasterKey.generate())])
        return self._newest()

    def retire(self, version: KeyVersion) -> None:
        self._load([(v.version, key) for v, key in self._keys.items() if v != version])

    def _numbered(self) -> list[tuple[int, MasterKey]]:
        return [(v.version, key) for v, key in self._keys.items()]

    def _newest(self) -> KeyVersion:
        return max(self._keys)

    def _material(self, version: KeyVersion) -> bytes:
        key = self._keys.get(version)
        if key is None:
            raise DecryptionFailed()
        return key.reveal()

    def __repr__(self) -> str:
        return f"{type(self).__name__}(versions={len(self._keys)}, '**********')"
