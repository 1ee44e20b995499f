"""Merchants, their TMS profiles and their registered keys."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class KeyKind(StrEnum):
    HTTP_SIGNATURE = "http_signature"  # sealed shared secret; also the HS256 JWT key
    JWT_CERTIFICATE = "jwt_certificate"  # PEM certificate; key id = subject serialNumber
    PAYMENT_CREDENTIALS = "payment_credentials"  # PEM public key for credential JWEs


@dataclass(frozen=True)
class WrappedKeys:
    """A merchant's data and fingerprint keys, sealed under the master key.

    ``previous_data_keys``: while a data-key rotation is under way, the
    earlier data keys (newest first); they open values not yet sealed again,
    and never seal."""

    data_key: bytes
    fingerprint_key: bytes
    previous_data_keys: tuple[bytes, ...] = ()


@dataclass(frozen=True)
class MerchantRecord:
    id: str
    wrapped_keys: WrappedKeys
    default_profile_id: str


@dataclass(frozen=True)
class Profile:
    """A merchant's TMS profile: a request selects one (``profile-id``), and
    it says whether instrument identifiers get network tokens."""

    id: str
    merchant_id: str
    name: str
    network_tokens_enabled: bool


@dataclass(frozen=True)
class MerchantSummary:
    """A merchant as an operator lists it: the ids it authenticates with
    (newest first) and how many profiles it has."""

    id: str
    default_profile_id: str
    key_ids: tuple[str, ...]
    jwt_kids: tuple[str, ...]
    profiles: int
    created_at: datetime
    # Crypto-shredded (``opentms merchants delete --shred``): only its tombstone is left.
    shredded_at: datetime | None = None


@dataclass(frozen=True)
class ProfileSummary:
    """A profile as an operator lists it."""

    id: str
    name: str
    network_tokens_enabled: bool
    default: bool
    created_at: datetime


@dataclass(frozen=True)
class KeyRecord:
    kind: KeyKind
    key_id: str
    merchant_id: str
    material: bytes


@dataclass(frozen=True)
class ServerKeyRecord:
    name: str
    secret_sealed: bytes
    certificate_pem: str | None


@dataclass(frozen=True)
class CredentialSummary:
    """A registered key as an operator lists it (``opentms merchants show``):
    what it is and when it changed, never its material."""

    kind: KeyKind
    key_id: str
    created_at: datetime
    revoked_at: datetime | None = None

    @property
    def active(self) -> bool:
        return self.revoked_at is None

    @property
    def authenticates(self) -> bool:
        """Whether it signs requests (the payment-credentials key only
        receives encrypted credentials)."""
        return self.kind in (KeyKind.HTTP_SIGNATURE, KeyKind.JWT_CERTIFICATE)


@dataclass(frozen=True)
class MerchantStatus:
    """A merchant's registry row as ``opentms merchants show`` reports it,
    shredded ones included (their row is a tombstone)."""

    id: str
    default_profile_id: str
    created_at: datetime
    shredded_at: datetime | None = None
    data_key_rotated_at: datetime | None = None
