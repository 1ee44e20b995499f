"""Symmetric key material as types that never print themselves."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from typing import Self

from opentms.domain import randomness

KEY_BYTES = 32


@dataclass(frozen=True, slots=True)
class SymmetricKey:
    """256 bits of key material. ``repr`` shows only the key id."""

    _material: bytes

    def __post_init__(self) -> None:
        if len(self._material) != KEY_BYTES:
            raise ValueError("A key must be 32 bytes (256 bits).")

    @classmethod
    def generate(cls) -> Self:
        """A new key, from the process's source of randomness (reproducible in
        a sandbox's deterministic mode)."""
        return cls(randomness.token_bytes(f"key:{cls.__name__}", KEY_BYTES))

    def reveal(self) -> bytes:
        return self._material

    @property
    def key_id(self) -> bytes:
        """Four bytes that name this key inside ciphertexts (not secret)."""
        return hmac.new(self._material, b"opentms key id", hashlib.sha256).digest()[:4]

    def __repr__(self) -> str:
        return f"{type(self).__name__}(id={self.key_id.hex()}, '**********')"

    __str__ = __repr__


class MasterKey(SymmetricKey):
    """The root key: wraps every merchant's data keys."""

    @classmethod
    def generate(cls) -> Self:
        """Always from the operating system: whichever process creates the
        key file first draws it, so it must not take a deterministic
        stream's next value (and nothing seen outside depends on it)."""
        return cls(secrets.token_bytes(KEY_BYTES))


class DataKey(SymmetricKey):
    """A merchant's data encryption key (DEK): seals card data and attributes."""


class FingerprintKey(SymmetricKey):
    """A merchant's key for the keyed card fingerprint used to deduplicate."""
