"""Merchant credential rotation: add HTTP Signature keys and JWT certificates
beside the ones in use, revoke one, list them, re-export a bundle.

Several keys of one kind authenticate at once, so a merchant rotates without
an outage: add a new key, deploy it, revoke the old one. Each change commits
with its audit entry and moves the registry epoch in the same transaction, and
every process compares that epoch at each authentication (``MerchantService.
refresh``): a revoked key fails its next request everywhere, whatever a
process had cached.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from datetime import datetime

from opentms.crypto import certificates
from opentms.crypto.keyring import Keyring
from opentms.domain import randomness
from opentms.domain.audit import AuditEntry
from opentms.domain.merchant import (
    CredentialSummary,
    KeyKind,
    KeyRecord,
    MerchantStatus,
    ProfileSummary,
)
from opentms.domain.ports import Clock, MerchantStore
from opentms.services.merchants import (
    _KEY_ID,
    InvalidRegistration,
    Registration,
    _decode_secret,
    _jwt_kid_of,
    _new_uuid,
)
from opentms.services.server_keys import ServerKeys

RESOURCE_TYPE = "credential"


class CredentialRefused(ValueError):
    """A credential change the registry refuses; the message says why and
    what to do instead."""


class NoSuchCredential(CredentialRefused):
    """The merchant has no key with that id (another merchant's key is no
    key of this one: the message is the same, so nothing about it leaks)."""


class LastCredential(CredentialRefused):
    """Revoking this key would leave the merchant nothing to authenticate with."""


@dataclass(frozen=True)
class NewHttpSignatureKey:
    """An HTTP Signature key just added; ``shared_secret`` is shown once."""

    merchant_id: str
    key_id: str
    shared_secret: str = field(repr=False)


@dataclass(frozen=True)
class NewJwtCertificate:
    """A JWT certificate just added; with the PKCS#12 file (and its password,
    shown once) when the server generated the key pair."""

    merchant_id: str
    kid: str
    certificate_pem: bytes = field(repr=False)
    p12: bytes | None = field(default=None, repr=False)
    p12_password: str | None = field(default=None, repr=False)


@dataclass(frozen=True)
class MerchantDetails:
    """What ``opentms merchants show`` prints: the registry row, its profiles
    and every credential with its state, never a secret."""

    status: MerchantStatus
    profiles: list[ProfileSummary]
    credentials: list[CredentialSummary]


class CredentialService:
    def __init__(
        self,
        merchant_store: MerchantStore,
        keyring: Keyring,
        server_keys: ServerKeys,
        clock: Clock,
    ) -> None:
        self._store = merchant_store
        self._keyring = keyring
        self._server_keys = server_keys
        self._clock = clock

    # Reading -----------------------------------------------------------------------

    def details(self, merchant_id: str) -> MerchantDetails:
        """The merchant as registered, shredded ones included (their tombstone)."""
        status = self._store.merchant_status(merchant_id)
        if status is None:
            raise InvalidRegistration(f"No merchant {merchant_id!r} is registered.")
        profiles = [] if status.shredded_at else self._store.profile_summaries(merchant_id)
        return MerchantDetails(status, profiles, self._store.credentials_of(merchant_id))

    # Adding ------------------------------------------------------------------------

    def add_http_signature_key(
        self,
        merchant_id: str,
        actor: str,
        key_id: str | None = None,
        shared_secret: str | None = None,
    ) -> NewHttpSignatureKey:
        """A new HTTP Signature key (also the HS256 JWT key) beside the
        merchant's others; a secret is generated unless given (base64, at
        least 32 bytes)."""
        self._require_live(merchant_id)
        key_id = key_id or _new_uuid("key id")
        if not _KEY_ID.fullmatch(key_id):
            raise InvalidRegistration("A key id is 1 to 128 printable ASCII characters.")
        if shared_secret is None:
            shared_secret = base64.b64encode(randomness.token_bytes("shared secret", 32)).decode()
        key = self._http_signature_record(merchant_id, key_id, shared_secret)
        now = self._clock.now()
        self._store.add_keys(merchant_id, [key], now, [_added(now, actor, key)])
        return NewHttpSignatureKey(merchant_id, key_id, shared_secret)

    def add_jwt_certificate(
        self, merchant_id: str, actor: str, certificate_pem: bytes | None = None
    ) -> NewJwtCertificate:
        """A new JWT (RS256) certificate beside the merchant's others: the one
        given (CN the merchant id, subject serialNumber the kid), or a new key
        pair and certificate packed in a PKCS#12 file as ``register`` makes."""
        self._require_live(merchant_id)
        added = self._jwt_certificate(merchant_id, certificate_pem)
        key = KeyRecord(KeyKind.JWT_CERTIFICATE, added.kid, merchant_id, added.certificate_pem)
        now = self._clock.now()
        self._store.add_keys(merchant_id, [key], now, [_added(now, actor, key)])
        return added

    def bundle(self, merchant_id: str, actor: str) -> Registration:
        """A new credentials bundle for a registered merchant: a new HTTP
        Signature key and a new JWT key pair (both added; the earlier ones
        stay valid until revoked) and the current payment-credentials public
        key, whose private key the server never had (it is not in the bundle)."""
        self._require_live(merchant_id)
        status = self._store.merchant_status(merchant_id)
        assert status is not None  # noqa: S101 - checked live above
        key_id = _new_uuid("key id")
        shared_secret = base64.b64encode(randomness.token_bytes("shared secret", 32)).decode()
        signature = self._http_signature_record(merchant_id, key_id, shared_secret)
        jwt = self._jwt_certificate(merchant_id, None)
        certificate = KeyRecord(KeyKind.JWT_CERTIFICATE, jwt.kid, merchant_id, jwt.certificate_pem)
        credentials = self._store.keys_of(merchant_id, KeyKind.PAYMENT_CREDENTIALS)
        now = self._clock.now()
        audit = [
            _added(now, actor, signature, bundle=True),
            _added(now, actor, certificate, bundle=True),
            AuditEntry(
                at=now,
                actor=actor,
                action="merchant.bundle",
                resource_type="merchant",
                resource_ids=(merchant_id,),
                details={"keyId": key_id, "jwtKid": jwt.kid},
            ),
        ]
        self._store.add_keys(merchant_id, [signature, certificate], now, audit)
        return Registration(
            merchant_id=merchant_id,
            default_profile_id=status.default_profile_id,
            key_id=key_id,
            shared_secret=shared_secret,
            jwt_kid=jwt.kid,
            jwt_certificate_pem=jwt.certificate_pem,
            p12=jwt.p12,
            p12_password=jwt.p12_password,
            credentials_kid=credentials[0].key_id if credentials else "",
            credentials_public_key_pem=credentials[0].material if credentials else b"",
            credentials_private_key_pem=None,
        )

    # Revoking ----------------------------------------------------------------------

    def revoke(
        self,
        merchant_id: str,
        key_id: str,
        actor: str,
        *,
        kind: KeyKind | None = None,
        force: bool = False,
    ) -> CredentialSummary:
        """Revoke the merchant's HTTP Signature key or JWT certificate
        ``key_id`` (of ``kind`` when the id names both). Refused for an id the
        merchant does not have, one already revoked, its payment-credentials
        key, and its last active authentication credential unless ``force``."""
        self._require_live(merchant_id)
        now = self._clock.now()

        def choose(credentials: list[CredentialSummary]) -> tuple[CredentialSummary, AuditEntry]:
            target = _revocable(merchant_id, key_id, kind, credentials)
            others = [c for c in credentials if c.authenticates and c.active and c != target]
            if not others and not force:
                raise LastCredential(
                    f"{_describe(target)} is the last active authentication credential of "
                    f"merchant {merchant_id!r}: without it no request of that merchant "
                    "authenticates. Add its replacement first, or force the revocation to "
                    "lock the merchant out."
                )
            entry = AuditEntry(
                at=now,
                actor=actor,
                action="credential.revoke",
                resource_type=RESOURCE_TYPE,
                resource_ids=(merchant_id, target.key_id),
                details={"kind": target.kind.value, "forced": force and not others},
            )
            return target, entry

        return self._store.revoke_key(merchant_id, choose, now)

    # Helpers -----------------------------------------------------------------------

    def _require_live(self, merchant_id: str) -> None:
        status = self._store.merchant_status(merchant_id)
        if status is None:
            raise InvalidRegistration(f"No merchant {merchant_id!r} is registered.")
        if status.shredded_at is not None:
            raise InvalidRegistration(
                f"Merchant {merchant_id!r} was shredded at {_when(status.shredded_at)}: "
                "it has no credentials to change."
            )

    def _http_signature_record(
        self, merchant_id: str, key_id: str, shared_secret: str
    ) -> KeyRecord:
        secret = _decode_secret(shared_secret)
        sealed = self._keyring.seal(secret, f"shared-secret\x00{key_id}")
        return KeyRecord(KeyKind.HTTP_SIGNATURE, key_id, merchant_id, sealed)

    def _jwt_certificate(
        self, merchant_id: str, certificate_pem: bytes | None
    ) -> NewJwtCertificate:
        if certificate_pem is None:
            made = certificates.build_merchant_p12(merchant_id, self._server_keys.request_mle()[1])
            return NewJwtCertificate(
                merchant_id, made.kid, made.certificate_pem, made.p12, made.password
            )
        kid = _jwt_kid_of(merchant_id, certificate_pem)
        try:
            # RS256 verification needs RSA of at least 2048 bits: refuse now
            # what could never authenticate.
            certificates.load_public_key_pem(certificate_pem)
        except certificates.InvalidKeyMaterial as exc:
            raise InvalidRegistration(f"JWT certificate: {exc}") from None
        if not _KEY_ID.fullmatch(kid):
            raise InvalidRegistration(
                "The JWT certificate's serialNumber (the kid) must be 1 to 128 printable "
                "ASCII characters."
            )
        return NewJwtCertificate(merchant_id, kid, certificate_pem)


def _revocable(
    merchant_id: str,
    key_id: str,
    kind: KeyKind | None,
    credentials: list[CredentialSummary],
) -> CredentialSummary:
    """The credential ``key_id`` names among the merchant's, or why none can
    be revoked."""
    matches = [c for c in credentials if c.key_id == key_id and kind in (None, c.kind)]
    if not matches:
        raise NoSuchCredential(
            f"No such key: merchant {merchant_id!r} has no credential {key_id!r}."
        )
    usable = [c for c in matches if c.authenticates]
    if not usable:
        raise CredentialRefused(
            f"{key_id!r} is merchant {merchant_id!r}'s payment-credentials encryption key, "
            "not an authentication credential: payment credentials are encrypted to it, "
            "so it is not revoked."
        )
    if len(usable) > 1:
        raise CredentialRefused(
            f"Merchant {merchant_id!r} has both an HTTP Signature key and a JWT certificate "
            f"{key_id!r}: say which one to revoke."
        )
    target = usable[0]
    if target.revoked_at is not None:
        raise CredentialRefused(
            f"{_describe(target)} of merchant {merchant_id!r} was already revoked at "
            f"{_when(target.revoked_at)}."
        )
    return target


def _added(now: datetime, actor: str, key: KeyRecord, bundle: bool = False) -> AuditEntry:
    details: dict[str, str | int | bool | None] = {"kind": key.kind.value}
    if bundle:
        details["bundle"] = True
    return AuditEntry(
        at=now,
        actor=actor,
        action="credential.add",
        resource_type=RESOURCE_TYPE,
        resource_ids=(key.merchant_id, key.key_id),
        details=details,
    )


def _describe(credential: CredentialSummary) -> str:
    what = {
        KeyKind.HTTP_SIGNATURE: "HTTP Signature key",
        KeyKind.JWT_CERTIFICATE: "JWT certificate",
        KeyKind.PAYMENT_CREDENTIALS: "payment-credentials key",
    }[credential.kind]
    return f"{what} {credential.key_id!r}"


def _when(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds").replace("+00:00", "Z")
