"""The ``env`` master key provider: ``OPENTMS_MASTER_KEYS``, for containers
that get their secrets from the environment.

The variable holds comma-separated ``v<N>:<base64 of 32 bytes>``; the highest
number seals, all open. opentms cannot change a process's environment, so
rotating and retiring are the operator's: the errors say what to set.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence

from opentms.crypto.keys import KEY_BYTES, MasterKey
from opentms.crypto.providers import KeyProviderError, KeyVersion, LocalKeys

VARIABLE = "OPENTMS_MASTER_KEYS"


def parse_master_keys(value: str) -> list[tuple[int, MasterKey]]:
    """The numbered keys of ``value``; KeyProviderError naming the first
    item that is not ``v<N>:<base64 of 32 bytes>``."""
    keys: list[tuple[int, MasterKey]] = []
    for position, item in enumerate(value.split(","), start=1):
        item = item.strip()
        version, colon, encoded = item.partition(":")
        if not (colon and version.startswith("v") and version[1:].isdigit()):
            raise KeyProviderError(
                f"{VARIABLE}, item {position}: expected v<N>:<base64 of 32 bytes>"
            )
        number = int(version[1:])
        if number < 1:
            raise KeyProviderError(f"{VARIABLE}, item {position}: versions count from v1")
        try:
            material = base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError):
            raise KeyProviderError(
                f"{VARIABLE}, v{number}: not base64 (make one with: openssl rand -base64 32)"
            ) from None
        if len(material) != KEY_BYTES:
            raise KeyProviderError(
                f"{VARIABLE}, v{number}: {len(material)} bytes; a master key is {KEY_BYTES} "
                "(make one with: openssl rand -base64 32)"
            )
        if any(number == n for n, _ in keys):
            raise KeyProviderError(f"{VARIABLE}: v{number} is given twice")
        keys.append((number, MasterKey(material)))
    try:
        LocalKeys(keys)
    except KeyProviderError as exc:
        raise KeyProviderError(f"{VARIABLE}: {exc}") from None
    return keys


class EnvKeyProvider:
    name = "env"

    def __init__(self, value: str) -> None:
        if not value.strip():
            raise KeyProviderError(
                f"OPENTMS_KEY_PROVIDER=env needs {VARIABLE}=v1:<base64 of 32 bytes> "
                "(make one with: openssl rand -base64 32)"
            )
        self._keys = LocalKeys(parse_master_keys(value))

    def versions(self) -> Sequence[KeyVersion]:
        return self._keys.versions()

    def encrypt(self, version: KeyVersion, nonce: bytes, plaintext: bytes, aad: bytes) -> bytes:
        return self._keys.encrypt(version, nonce, plaintext, aad)

    def decrypt(self, version: KeyVersion, nonce: bytes, ciphertext: bytes, aad: bytes) -> bytes:
        return self._keys.decrypt(version, nonce, ciphertext, aad)

    def rotate(self) -> KeyVersion:
        following = max(v.version for v in self.versions()) + 1
        raise KeyProviderError(
            f"The env provider's keys are {VARIABLE}, which opentms cannot change. "
            f"Append ',v{following}:'\"$(openssl rand -base64 32)\" to {VARIABLE} in the "
            "environment of every opentms process (servers and commands), restart the "
            "servers, then run `opentms keys rewrap`."
        )

    def retire(self, version: KeyVersion) -> None:
        raise KeyProviderError(
            f"The env provider's keys are {VARIABLE}, which opentms cannot change. "
            f"Remove v{version.version} from {VARIABLE} in the environment of every opentms "
            f"process, restart the servers, then run `opentms keys retire {version.version}` "
            "again to record it."
        )

    def __repr__(self) -> str:
        return f"EnvKeyProvider(versions={len(self._keys.versions())}, '**********')"
