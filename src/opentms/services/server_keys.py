"""The server's own secrets, created on first use and kept sealed under the
master key: the request-MLE key pair and the simulated networks' keys."""

from __future__ import annotations

from collections.abc import Callable

from opentms.crypto import certificates
from opentms.crypto.keyring import Keyring
from opentms.domain import randomness
from opentms.domain.merchant import ServerKeyRecord
from opentms.domain.ports import Clock, ServerKeyStore

REQUEST_MLE_KEY = "request_mle"


class ServerKeys:
    def __init__(self, key_store: ServerKeyStore, keyring: Keyring, clock: Clock) -> None:
        self._key_store = key_store
        self._keyring = keyring
        self._clock = clock
        self._cache: dict[str, tuple[bytes, str | None]] = {}

    def _get_or_create(
        self, name: str, make: Callable[[], tuple[bytes, str | None]]
    ) -> tuple[bytes, str | None]:
        hit = self._cache.get(name)
        if hit is not None:
            return hit
        record = self._key_store.find_server_key(name)
        if record is None:
            secret, certificate = make()
            record = self._key_store.add_server_key(
                ServerKeyRecord(
                    name, self._keyring.seal(secret, f"server-key\x00{name}"), certificate
                ),
                self._clock.now(),
            )
        value = (
            self._keyring.unseal(record.secret_sealed, f"server-key\x00{name}"),
            record.certificate_pem,
        )
        self._cache[name] = value
        return value

    def secret(self, name: str, size: int) -> bytes:
        """A random secret of ``size`` bytes named ``name``, the same in every
        process. Drawn by name (:func:`randomness.named_bytes`): in
        deterministic mode the workers that create it at once agree."""
        secret, _ = self._get_or_create(
            name, lambda: (randomness.named_bytes(f"server-key:{name}", size), None)
        )
        return secret

    def request_mle(self) -> tuple[certificates.PrivateKey, certificates.Certificate]:
        """The key pair clients encrypt requests to (certificate CN
        ``CyberSource_SJC_US``, the alias the SDKs look for)."""

        def make() -> tuple[bytes, str | None]:
            private_pem, certificate_pem = certificates.new_request_mle_keys()
            return private_pem, certificate_pem.decode()

        pem, certificate_pem = self._get_or_create(REQUEST_MLE_KEY, make)
        assert certificate_pem is not None  # noqa: S101 - created with a certificate
        return certificates.load_key_pair(pem, certificate_pem.encode())
