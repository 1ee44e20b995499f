"""The key hierarchy: master key(s) → per-merchant data and fingerprint keys.

A :class:`Keyring` holds the master keys (the first one seals; all of them
open, so a rotated-out key can still read old values) and opens merchants'
wrapped keys, caching the result per process.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from opentms.crypto.envelope import seal, sealed_key_id, unseal
from opentms.crypto.fingerprint import fingerprint
from opentms.crypto.keys import DataKey, FingerprintKey, MasterKey
from opentms.domain.merchant import WrappedKeys


@dataclass(frozen=True)
class MerchantKeys:
    """A merchant's open keys: seal, unseal and fingerprint its data."""

    merchant_id: str
    data_key: DataKey
    fingerprint_key: FingerprintKey
    # Earlier data keys of a rotation under way: they open, never seal.
    previous_data_keys: tuple[DataKey, ...] = ()

    def seal(self, plaintext: bytes, context: str) -> bytes:
        return seal(self.data_key, plaintext, self._context(context))

    def unseal(self, sealed: bytes, context: str) -> bytes:
        return unseal((self.data_key, *self.previous_data_keys), sealed, self._context(context))

    def sealed_by_current(self, sealed: bytes) -> bool:
        """Whether ``sealed`` names the current data key (a rotation moves the rest)."""
        return sealed_key_id(sealed) == self.data_key.key_id

    def fingerprint(self, kind: str, value: str) -> bytes:
        return fingerprint(self.fingerprint_key, kind, value)

    def _context(self, context: str) -> bytes:
        return f"{self.merchant_id}\x00{context}".encode()

    def __repr__(self) -> str:
        return f"MerchantKeys({self.merchant_id!r}, '**********')"


class Keyring:
    """Master keys plus a cache of opened merchant keys."""

    def __init__(self, masters: Sequence[MasterKey]) -> None:
        if not masters:
            raise ValueError("A keyring needs at least one master key.")
        self._masters = tuple(masters)
        self._open = lru_cache(maxsize=4096)(self._open_uncached)

    @property
    def master_key_id(self) -> bytes:
        return self._masters[0].key_id

    def seal(self, plaintext: bytes, context: str) -> bytes:
        """Seal a server-level secret (a shared secret, a server private key)."""
        return seal(self._masters[0], plaintext, b"opentms/server\x00" + context.encode())

    def unseal(self, sealed: bytes, context: str) -> bytes:
        return unseal(self._masters, sealed, b"opentms/server\x00" + context.encode())

    def new_merchant_keys(self, merchant_id: str) -> WrappedKeys:
        data_key, fingerprint_key = DataKey.generate(), FingerprintKey.generate()
        return WrappedKeys(
            self.seal(data_key.reveal(), f"data-key\x00{merchant_id}"),
            self.seal(fingerprint_key.reveal(), f"fingerprint-key\x00{merchant_id}"),
        )

    def open(self, merchant_id: str, wrapped: WrappedKeys) -> MerchantKeys:
        return self._open(merchant_id, wrapped)

    def _open_uncached(self, merchant_id: str, wrapped: WrappedKeys) -> MerchantKeys:
        context = f"data-key\x00{merchant_id}"
        return MerchantKeys(
            merchant_id,
            DataKey(self.unseal(wrapped.data_key, context)),
            FingerprintKey(
                self.unseal(wrapped.fingerprint_key, f"fingerprint-key\x00{merchant_id}")
            ),
            tuple(DataKey(self.unseal(old, context)) for old in wrapped.previous_data_keys),
        )

    def wrap_data_key(self, merchant_id: str, data_key: DataKey) -> bytes:
        """``data_key`` sealed under the master key, as merchants store it."""
        return self.seal(data_key.reveal(), f"data-key\x00{merchant_id}")

    def forget(self) -> None:
        """Drop every opened merchant key this process holds (after a
        rotation or a shredding: other processes learn of it by the
        registry epoch)."""
        self._open.cache_clear()

    def __repr__(self) -> str:
        return f"Keyring(masters={len(self._masters)}, '**********')"
