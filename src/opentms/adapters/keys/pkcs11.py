"""The ``pkcs11`` master key provider: the master key's versions are AES-256
keys generated inside an HSM (or SoftHSM2), never extractable; sealing and
opening are AES-GCM operations the HSM performs (CKM_AES_GCM), so the master
key's material never enters this process.

A version is a secret key object labelled ``opentms-master-v<N>`` whose
CKA_ID is the 4-byte key id the sealed values carry. PKCS#11 sessions are not
thread-safe and do not survive a fork: each process opens its own, lazily,
and one lock serialises its use (the HSM is called only for master-level
values: a merchant's opened keys are cached by the keyring).
"""

from __future__ import annotations

import os
import secrets
import threading
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from opentms.crypto.providers import KEY_ID_BYTES, KeyProviderError, KeyVersion
from opentms.domain.errors import DecryptionFailed

LABEL_PREFIX = "opentms-master-v"
_T = TypeVar("_T")


class Pkcs11KeyProvider:
    name = "pkcs11"

    def __init__(self, module: str, token_label: str, pin: str) -> None:
        try:
            import pkcs11  # noqa: F401 - checked here for a clear message
        except ImportError:
            raise KeyProviderError(
                "OPENTMS_KEY_PROVIDER=pkcs11 needs python-pkcs11: pip install 'opentms[hsm]'"
            ) from None
        self._module, self._token_label, self._pin = module, token_label, pin
        self._lock = threading.RLock()
        self._pid: int | None = None
        self._session: Any = None
        self._keys: dict[KeyVersion, Any] = {}

    def versions(self) -> Sequence[KeyVersion]:
        return self._run(self._scan)

    def encrypt(self, version: KeyVersion, nonce: bytes, plaintext: bytes, aad: bytes) -> bytes:
        from pkcs11 import Mechanism
        from pkcs11.mechanisms import GCMParams

        def encrypt() -> bytes:
            result: bytes = self._key(version).encrypt(
                plaintext, mechanism=Mechanism.AES_GCM, mechanism_param=GCMParams(nonce, aad, 128)
            )
            return result

        return self._run(encrypt)

    def decrypt(self, version: KeyVersion, nonce: bytes, ciphertext: bytes, aad: bytes) -> bytes:
        from pkcs11 import Mechanism
        from pkcs11.exceptions import PKCS11Error
        from pkcs11.mechanisms import GCMParams

        def decrypt() -> bytes:
            key = self._key(version)
            try:
                result: bytes = key.decrypt(
                    ciphertext,
                    mechanism=Mechanism.AES_GCM,
                    mechanism_param=GCMParams(nonce, aad, 128),
                )
            except PKCS11Error:
                # A tag that does not verify (SoftHSM2 says CKR_GENERAL_ERROR,
                # others CKR_ENCRYPTED_DATA_INVALID): one answer for all.
                raise DecryptionFailed() from None
            return result

        return self._run(decrypt)

    def rotate(self) -> KeyVersion:
        return self._run(self._rotate)

    def _rotate(self) -> KeyVersion:
        from pkcs11 import Attribute, KeyType

        current = self._scan()
        number = max((v.version for v in current), default=0) + 1
        taken = {v.key_id for v in current}
        key_id = secrets.token_bytes(KEY_ID_BYTES)
        while key_id in taken:
            key_id = secrets.token_bytes(KEY_ID_BYTES)
        self._session.generate_key(
            KeyType.AES,
            256,
            label=f"{LABEL_PREFIX}{number}",
            id=key_id,
            store=True,
            template={
                Attribute.TOKEN: True,
                Attribute.PRIVATE: True,
                Attribute.SENSITIVE: True,
                Attribute.EXTRACTABLE: False,
                Attribute.ENCRYPT: True,
                Attribute.DECRYPT: True,
                Attribute.WRAP: False,
                Attribute.UNWRAP: False,
            },
        )
        version = KeyVersion(number, key_id)
        if [v for v in self._scan() if v.version == number] != [version]:
            # Another process rotated at the same moment: keep its version.
            self._key(version).destroy()
            self._scan()
            raise KeyProviderError(
                "Another rotation created the same version at the same time; "
                "run `opentms keys status`, then rotate again if needed."
            )
        return version

    def retire(self, version: KeyVersion) -> None:
        def retire() -> None:
            self._scan()
            if version in self._keys:
                self._keys[version].destroy()
                self._scan()

        self._run(retire)

    def _scan(self) -> list[KeyVersion]:
        from pkcs11 import Attribute, KeyType, ObjectClass

        found: dict[KeyVersion, Any] = {}
        for key in self._session.get_objects(
            {Attribute.CLASS: ObjectClass.SECRET_KEY, Attribute.KEY_TYPE: KeyType.AES}
        ):
            label, key_id = key[Attribute.LABEL], bytes(key[Attribute.ID] or b"")
            number = label.removeprefix(LABEL_PREFIX)
            if label.startswith(LABEL_PREFIX) and number.isdigit() and len(key_id) == 4:
                found[KeyVersion(int(number), key_id)] = key
        self._keys = found
        return sorted(found)

    def _key(self, version: KeyVersion) -> Any:
        key = self._keys.get(version)
        if key is None:
            self._scan()
            key = self._keys.get(version)
        if key is None:
            raise DecryptionFailed()
        return key

    def _run(self, operation: Callable[[], _T]) -> _T:
        """``operation`` on this process's session (opened on first use, and
        again in a forked child, whose parent's session is not its own)."""
        from pkcs11.exceptions import PKCS11Error

        with self._lock:
            try:
                if self._pid != os.getpid():
                    self._open()
                return operation()
            except PKCS11Error as exc:
                raise KeyProviderError(
                    f"PKCS#11 ({self._module}, token {self._token_label!r}): "
                    f"{type(exc).__name__} {exc}".rstrip()
                ) from None

    def _open(self) -> None:
        import pkcs11
        from pkcs11.exceptions import NoSuchToken, UserAlreadyLoggedIn

        library = pkcs11.lib(self._module)
        try:
            token = library.get_token(token_label=self._token_label)
        except NoSuchToken:
            raise KeyProviderError(
                f"No PKCS#11 token labelled {self._token_label!r} in {self._module} "
                "(OPENTMS_PKCS11_TOKEN_LABEL)"
            ) from None
        try:
            self._session = token.open(rw=True, user_pin=self._pin)
        except UserAlreadyLoggedIn:
            # A login holds for the whole process: another provider of this
            # process logged in first, and this session shares its login.
            self._session = token.open(rw=True)
        self._pid = os.getpid()
        if not self._scan():
            # A token without a master key yet: make version 1 in it (as the
            # file provider creates its file on first start).
            self._rotate()

    def __repr__(self) -> str:
        return f"Pkcs11KeyProvider({self._module!r}, {self._token_label!r}, '**********')"
