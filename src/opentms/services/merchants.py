"""Merchants: registration with their credentials, the lookups authentication
needs, and the tenant (keys + profile) every request runs as."""

from __future__ import annotations

import base64
import binascii
import logging
import re
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar

from opentms.crypto import certificates
from opentms.crypto.keyring import Keyring
from opentms.domain import randomness
from opentms.domain.errors import DecryptionFailed, Forbidden, ProfileNotFound
from opentms.domain.merchant import (
    KeyKind,
    KeyRecord,
    MerchantRecord,
    MerchantSummary,
    Profile,
    ProfileSummary,
)
from opentms.domain.ports import Clock, MerchantStore
from opentms.services.server_keys import ServerKeys
from opentms.services.tenancy import Tenant

if TYPE_CHECKING:
    from opentms.services.credentials import CredentialService

MERCHANT_ID = re.compile(r"^[A-Za-z0-9_\-]{1,64}$")
# Key ids and profile ids as they can be stored: anything else is unknown
# without asking the database (which may refuse e.g. NUL bytes).
_KEY_ID = re.compile(r"[\x21-\x7e]{1,128}")
_T = TypeVar("_T")

_log = logging.getLogger(__name__)


class InvalidRegistration(ValueError):
    """The merchant id or the key material given to ``register`` is unusable."""


class AlreadyRegistered(InvalidRegistration):
    """A merchant, profile or key with one of the given ids is already
    registered: the :class:`MerchantStore` raises it, the CLI shows it."""


@dataclass(frozen=True)
class Registration:
    """What ``register`` created; the secrets here are shown to the operator
    once and are the only copy of the private keys."""

    merchant_id: str
    default_profile_id: str
    key_id: str
    shared_secret: str
    jwt_kid: str
    jwt_certificate_pem: bytes
    p12: bytes | None
    p12_password: str | None
    credentials_kid: str
    credentials_public_key_pem: bytes
    credentials_private_key_pem: bytes | None


class _TTLCache:
    """Positive lookups kept for a few seconds, so a hot path does not hit the
    database for keys on every request, yet new registrations show up."""

    def __init__(self, seconds: float) -> None:
        self._seconds = seconds
        self._items: dict[object, tuple[float, object]] = {}

    def get(self, key: object, load: Callable[[], _T | None]) -> _T | None:
        now = time.monotonic()
        hit = self._items.get(key)
        if hit is not None and hit[0] > now:
            return hit[1]  # type: ignore[return-value]
        value = load()
        if value is not None:
            if len(self._items) > 10_000:
                self._items.clear()
            self._items[key] = (now + self._seconds, value)
        return value

    def clear(self) -> None:
        self._items.clear()


class MerchantService:
    def __init__(
        self,
        merchant_store: MerchantStore,
        keyring: Keyring,
        server_keys: ServerKeys,
        clock: Clock,
    ) -> None:
        self._merchant_store = merchant_store
        self._keyring = keyring
        self._server_keys = server_keys
        self._clock = clock
        self._cache = _TTLCache(30.0)
        self._epoch: int | None = None

    def forget_cached(self) -> None:
        """Drop what this process cached of merchants, profiles and their keys
        (the sandbox does, when a reset, restore or seed changed them)."""
        self._cache.clear()
        self._keyring.forget()

    def refresh(self) -> None:
        """Drop the cache if the registry epoch moved since it was filled: a
        revocation, rotation or shredding in any process is seen by the next
        authentication here (one indexed read of one row)."""
        epoch = self._merchant_store.registry_epoch()
        if epoch != self._epoch:
            self.forget_cached()
            self._epoch = epoch

    # Registration ---------------------------------------------------------------

    def register(
        self,
        merchant_id: str,
        key_id: str | None = None,
        shared_secret: str | None = None,
        jwt_certificate_pem: bytes | None = None,
        credentials_public_key_pem: bytes | None = None,
        default_profile_id: str | None = None,
    ) -> Registration:
        """Register a merchant with a default profile and its credentials,
        generating whatever was not given."""
        if not MERCHANT_ID.match(merchant_id):
            raise InvalidRegistration("A merchant id is 1 to 64 letters, digits, '_' or '-'.")
        key_id = key_id or _new_uuid("key id")
        if shared_secret is None:
            shared_secret = base64.b64encode(randomness.token_bytes("shared secret", 32)).decode()
        secret = _decode_secret(shared_secret)

        p12 = p12_password = None
        if jwt_certificate_pem is None:
            bundle = certificates.build_merchant_p12(merchant_id, self.request_mle_certificate())
            p12, p12_password = bundle.p12, bundle.password
            jwt_kid, jwt_certificate_pem = bundle.kid, bundle.certificate_pem
        else:
            jwt_kid = _jwt_kid_of(merchant_id, jwt_certificate_pem)

        if credentials_public_key_pem is None:
            credentials = certificates.new_credentials_key()
        else:
            try:
                credentials = certificates.credentials_key_from_pem(credentials_public_key_pem)
            except certificates.InvalidKeyMaterial as exc:
                raise InvalidRegistration(f"credentials public key: {exc}") from None

        profile_id = (default_profile_id or _new_uuid("profile id")).upper()
        keys = [
            KeyRecord(
                KeyKind.HTTP_SIGNATURE,
                key_id,
                merchant_id,
                self._keyring.seal(secret, f"shared-secret\x00{key_id}"),
            ),
            KeyRecord(KeyKind.JWT_CERTIFICATE, jwt_kid, merchant_id, jwt_certificate_pem),
            KeyRecord(
                KeyKind.PAYMENT_CREDENTIALS,
                credentials.kid,
                merchant_id,
                credentials.public_key_pem,
            ),
        ]
        self._merchant_store.add_merchant(
            MerchantRecord(merchant_id, self._keyring.new_merchant_keys(merchant_id), profile_id),
            Profile(profile_id, merchant_id, "default", True),
            keys,
            self._clock.now(),
        )
        return Registration(
            merchant_id=merchant_id,
            default_profile_id=profile_id,
            key_id=key_id,
            shared_secret=shared_secret,
            jwt_kid=jwt_kid,
            jwt_certificate_pem=jwt_certificate_pem,
            p12=p12,
            p12_password=p12_password,
            credentials_kid=credentials.kid,
            credentials_public_key_pem=credentials.public_key_pem,
            credentials_private_key_pem=credentials.private_key_pem,
        )

    def add_profile(
        self,
        merchant_id: str,
        name: str,
        network_tokens_enabled: bool,
        profile_id: str | None = None,
    ) -> Profile:
        if self._merchant_store.find_merchant(merchant_id) is None:
            raise InvalidRegistration(f"No merchant {merchant_id!r} is registered.")
        new_id = (profile_id or _new_uuid("profile id")).upper()
        profile = Profile(new_id, merchant_id, name, network_tokens_enabled)
        self._merchant_store.add_profile(profile, self._clock.now())
        return profile

    def list_merchants(self) -> list[str]:
        return self._merchant_store.list_merchants()

    def merchant_summaries(self) -> list[MerchantSummary]:
        """Every registered merchant, by id, for ``opentms merchants list``."""
        return self._merchant_store.merchant_summaries()

    def profile_summaries(self, merchant_id: str) -> list[ProfileSummary]:
        """The profiles of ``merchant_id``, the default one first."""
        if self._merchant_store.find_merchant(merchant_id) is None:
            raise InvalidRegistration(f"No merchant {merchant_id!r} is registered.")
        return self._merchant_store.profile_summaries(merchant_id)

    def request_mle_certificate(self) -> certificates.Certificate:
        """The certificate clients encrypt requests to (CN ``CyberSource_SJC_US``)."""
        return self._server_keys.request_mle()[1]

    def credential_service(self) -> CredentialService:
        """Adding, revoking and listing merchants' credentials (rotation),
        over this registry."""
        from opentms.services.credentials import CredentialService

        store, keyring = self._merchant_store, self._keyring
        return CredentialService(store, keyring, self._server_keys, self._clock)

    # Authentication lookups (CredentialDirectory) --------------------------------

    def shared_secret(self, key_id: str) -> tuple[str, bytes] | None:
        if not _KEY_ID.fullmatch(key_id):
            return None
        self.refresh()

        def load() -> tuple[str, bytes] | None:
            record = self._merchant_store.find_key(KeyKind.HTTP_SIGNATURE, key_id)
            if record is None:
                return None
            try:
                secret = self._keyring.unseal(record.material, f"shared-secret\x00{key_id}")
            except DecryptionFailed:
                # Tampered with, or sealed under a retired master key version:
                # this key authenticates no one (401), and the operator is told.
                _log.error(
                    "The shared secret of key id %s does not open (tampered with, or under "
                    "a retired master key version); requests signed with it are refused",
                    key_id,
                )
                return None
            return record.merchant_id, secret

        return self._cache.get(("secret", key_id), load)

    def jwt_certificate(self, kid: str) -> tuple[str, bytes] | None:
        if not _KEY_ID.fullmatch(kid):
            return None
        self.refresh()

        def load() -> tuple[str, bytes] | None:
            record = self._merchant_store.find_key(KeyKind.JWT_CERTIFICATE, kid)
            return None if record is None else (record.merchant_id, record.material)

        return self._cache.get(("jwt", kid), load)

    def jwt_certificates_of(self, merchant_id: str) -> list[bytes]:
        if not MERCHANT_ID.match(merchant_id):
            return []
        # Not cached, but the request goes on to the cached tenant: a legacy
        # x5c token must see the registry's changes as the other lookups do.
        self.refresh()
        records = self._merchant_store.keys_of(merchant_id, KeyKind.JWT_CERTIFICATE)
        return [record.material for record in records]

    def credentials_key(self, merchant_id: str) -> tuple[str, bytes]:
        """``(kid, PEM public key)`` the merchant's payment credentials are encrypted to."""

        def load() -> tuple[str, bytes] | None:
            records = self._merchant_store.keys_of(merchant_id, KeyKind.PAYMENT_CREDENTIALS)
            return (records[0].key_id, records[0].material) if records else None

        found = self._cache.get(("credentials", merchant_id), load)
        if found is None:
            raise Forbidden("The merchant has no payment-credentials encryption key registered.")
        return found

    def response_key(self, merchant_id: str, kid: str) -> bytes | None:
        """The merchant's public key (or certificate) registered under ``kid``,
        to encrypt responses to when a JWT asks for response MLE."""
        if not _KEY_ID.fullmatch(kid):
            return None
        for kind in (KeyKind.PAYMENT_CREDENTIALS, KeyKind.JWT_CERTIFICATE):
            record = self._merchant_store.find_key(kind, kid)
            if record is not None and record.merchant_id == merchant_id:
                return record.material
        return None

    # Tenancy ----------------------------------------------------------------------

    def tenant(self, merchant_id: str, profile_id: str | None) -> Tenant:
        """The merchant's open keys and the profile the request selects."""
        merchant = self._cache.get(
            ("merchant", merchant_id), lambda: self._merchant_store.find_merchant(merchant_id)
        )
        if merchant is None:
            raise ProfileNotFound("Merchant not found")
        wanted = (profile_id or merchant.default_profile_id).upper()
        if not _KEY_ID.fullmatch(wanted):
            raise ProfileNotFound()
        profile = self._cache.get(
            ("profile", merchant_id, wanted),
            lambda: self._merchant_store.find_profile(merchant_id, wanted),
        )
        if profile is None:
            raise ProfileNotFound()
        return Tenant(self._keyring.open(merchant.id, merchant.wrapped_keys), profile)


def _new_uuid(purpose: str) -> str:
    """A version 4 UUID from the process's source of randomness (reproducible
    in a sandbox's deterministic mode)."""
    return str(uuid.UUID(bytes=randomness.token_bytes(purpose, 16), version=4))


def _decode_secret(shared_secret: str) -> bytes:
    try:
        secret = base64.b64decode(shared_secret, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidRegistration("The shared secret must be base64.") from None
    # HS256 JWTs use the same secret, and need a key of at least 256 bits.
    if len(secret) < 32:
        raise InvalidRegistration("The shared secret must decode to at least 32 bytes.")
    return secret


def _jwt_kid_of(merchant_id: str, pem: bytes) -> str:
    try:
        subject = certificates.certificate_subject(pem)
    except certificates.InvalidKeyMaterial as exc:
        raise InvalidRegistration(f"JWT certificate: {exc}") from None
    common_name = subject.common_name
    if common_name is None or common_name.lower() != merchant_id.lower():
        raise InvalidRegistration(
            "The JWT certificate's subject CN must be the merchant id (the SDKs "
            "look the certificate up by it)."
        )
    kid = subject.serial_number
    if not kid:
        raise InvalidRegistration(
            "The JWT certificate needs a subject serialNumber attribute: it is the kid."
        )
    return kid
