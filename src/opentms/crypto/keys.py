"""Symmetric key material as types that never print themselves."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from typing import Self

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
        return cls(secrets.token_bytes(KEY_BYTES))

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


class DataKey(SymmetricKey):
    """A merchant's data encryption key (DEK): seals card data and attributes."""


class FingerprintKey(SymmetricKey):
    """A merchant's key for the keyed card fingerprint used to deduplicate."""
