"""The key hierarchy: master key versions → per-merchant data and fingerprint keys.

A :class:`Keyring` seals server-level values through the master key's
provider (the newest version seals; every version the provider still holds
opens, so values sealed before a rotation stay readable until ``opentms keys
rewrap`` moves them) and opens merchants' wrapped keys, caching the result
per process.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from functools import lru_cache

from opentms.crypto.envelope import frame, header, new_nonce, parts, seal, sealed_key_id, unseal
from opentms.crypto.fingerprint import fingerprint
from opentms.crypto.keys import DataKey, FingerprintKey, MasterKey
from opentms.crypto.providers import KeyProviderError, KeyVersion, LocalKeys, MasterKeyProvider
from opentms.domain.errors import DecryptionFailed
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
    """The master key's versions, through their provider, plus a cache of
    opened merchant keys.

    The newest version seals; every version the provider holds opens. The
    versions are re-read at most every ``refresh_seconds`` when sealing (so
    a long-running server seals under a new version soon after ``opentms
    keys rotate``) and at once when a value names a version not seen yet
    (another process rotated and sealed with it)."""

    def __init__(
        self,
        masters: Sequence[MasterKey] | MasterKeyProvider,
        refresh_seconds: float = 2.0,
        now: Callable[[], float] = time.monotonic,
    ) -> None:
        if isinstance(masters, Sequence):
            if not masters:
                raise ValueError("A keyring needs at least one master key.")
            masters = LocalKeys.newest_first(masters)
        self._provider = masters
        self._refresh_seconds = refresh_seconds
        self._now = now
        self._lock = threading.Lock()
        self._state = self._read()
        self._open = lru_cache(maxsize=4096)(self._open_uncached)

    @property
    def provider(self) -> MasterKeyProvider:
        return self._provider

    @property
    def master_key_id(self) -> bytes:
        """The key id of the version that seals now."""
        return self._current().newest.key_id

    @property
    def newest(self) -> KeyVersion:
        return self._current().newest

    def versions(self) -> tuple[KeyVersion, ...]:
        """The provider's versions, oldest first, as this keyring last read them."""
        return self._current().versions

    def refresh(self) -> tuple[KeyVersion, ...]:
        """Re-read the provider's versions now."""
        with self._lock:
            self._state = self._read()
        return self._state.versions

    def seal(self, plaintext: bytes, context: str) -> bytes:
        """Seal a server-level secret (a shared secret, a server private key)."""
        version = self._current().newest
        nonce = new_nonce()
        aad = header(version.key_id) + _SERVER + context.encode()
        return frame(version.key_id, nonce, self._provider.encrypt(version, nonce, plaintext, aad))

    def unseal(self, sealed: bytes, context: str) -> bytes:
        key_id, nonce, ciphertext = parts(sealed)
        version = self._version_of(key_id)
        if version is None:
            raise DecryptionFailed()
        aad = header(key_id) + _SERVER + context.encode()
        return self._provider.decrypt(version, nonce, ciphertext, aad)

    def sealed_under_newest(self, sealed: bytes) -> bool:
        return sealed_key_id(sealed) == self._current().newest.key_id

    def reseal(self, sealed: bytes, context: str) -> bytes | None:
        """``sealed`` sealed again under the newest version, or None when it
        already is (master-key rewrap)."""
        if self.sealed_under_newest(sealed):
            return None
        return self.seal(self.unseal(sealed, context), context)

    def _current(self) -> _Versions:
        state = self._state
        if self._now() - state.read_at >= self._refresh_seconds:
            with self._lock:
                if self._now() - self._state.read_at >= self._refresh_seconds:
                    try:
                        self._state = self._read()
                    except KeyProviderError:
                        # Keep sealing with what was read last; try again next interval.
                        _log.exception("Could not re-read the master key versions")
                        self._state = replace(self._state, read_at=self._now())
                state = self._state
        return state

    def _version_of(self, key_id: bytes) -> KeyVersion | None:
        version = self._current().by_id.get(key_id)
        if version is None:
            # Another process may have rotated since: read the versions once more.
            version = self._refresh_for(key_id)
        return version

    def _refresh_for(self, key_id: bytes) -> KeyVersion | None:
        with self._lock:
            version = self._state.by_id.get(key_id)
            if version is None:
                self._state = self._read()
                version = self._state.by_id.get(key_id)
        return version

    def _read(self) -> _Versions:
        versions = tuple(sorted(self._provider.versions()))
        if not versions:
            raise KeyProviderError(f"The {self._provider.name} key provider holds no master key.")
        return _Versions(versions, versions[-1], {v.key_id: v for v in versions}, self._now())

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
        return f"Keyring(masters={len(self._state.versions)}, '**********')"


_SERVER = b"opentms/server\x00"
_log = logging.getLogger(__name__)


@dataclass(frozen=True)
class _Versions:
    """The versions as last read, the one that seals, and when they were read."""

    versions: tuple[KeyVersion, ...]
    newest: KeyVersion
    by_id: dict[bytes, KeyVersion]
    read_at: float
