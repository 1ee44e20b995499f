"""Network tokens (tokenized cards): a card network's substitute number for a
card, with its lifecycle and its application transaction counter (ATC)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from opentms.domain.card import PAN, Brand
from opentms.domain.errors import Conflict

MAX_ATC = 0xFFFF  # the ATC is two bytes: a token whose counter is spent needs replacing


def token_expired(expiration_month: str | None, expiration_year: str | None, now: datetime) -> bool:
    """Whether a token's own expiry (good through the end of its month) has
    passed at ``now``; a token without one never expires."""
    if not (expiration_month and expiration_year):
        return False
    return (int(expiration_year), int(expiration_month)) < (now.year, now.month)


class TokenState(StrEnum):
    ACTIVE = "ACTIVE"
    SUSPENDED = "SUSPENDED"  # may return to ACTIVE
    DELETED = "DELETED"  # final
    UNPROVISIONED = "UNPROVISIONED"  # provisioning failed, or a previous token


class ProvisioningFailure(StrEnum):
    """Why a network refused to provision (``tokenizedCard.reason``)."""

    INVALID_REQUEST = "INVALID_REQUEST"
    CARD_VERIFICATION_FAILED = "CARD_VERIFICATION_FAILED"
    CARD_NOT_ELIGIBLE = "CARD_NOT_ELIGIBLE"
    CARD_NOT_ALLOWED = "CARD_NOT_ALLOWED"
    DECLINED = "DECLINED"
    SERVICE_UNAVAILABLE = "SERVICE_UNAVAILABLE"
    SYSTEM_ERROR = "SYSTEM_ERROR"


class TokenNetwork(StrEnum):
    """The simulated token service providers; values are ``tokenizedCard.type``."""

    VISA = "visa"
    MASTERCARD = "mastercard"
    AMEX = "americanexpress"
    DISCOVER = "discover"

    @classmethod
    def for_brand(cls, brand: Brand) -> TokenNetwork | None:
        return _BRAND_NETWORKS.get(brand)

    @property
    def brand(self) -> Brand:
        return {v: k for k, v in _BRAND_NETWORKS.items()}[self]

    @property
    def provider(self) -> str:
        """The card-art ``tokenProvider`` path segment."""
        return {"visa": "vts", "mastercard": "mdes", "americanexpress": "amex", "discover": "dts"}[
            self.value
        ]


_BRAND_NETWORKS = {
    Brand.VISA: TokenNetwork.VISA,
    Brand.MASTERCARD: TokenNetwork.MASTERCARD,
    Brand.AMEX: TokenNetwork.AMEX,
    Brand.DISCOVER: TokenNetwork.DISCOVER,
}

# Moves the issuer life-cycle simulation may make: SUSPENDED can come back,
# DELETED is final (and so is a token that never provisioned).
ALLOWED_MOVES: dict[TokenState, frozenset[TokenState]] = {
    TokenState.ACTIVE: frozenset({TokenState.SUSPENDED, TokenState.DELETED}),
    TokenState.SUSPENDED: frozenset({TokenState.ACTIVE, TokenState.DELETED}),
    TokenState.DELETED: frozenset(),
    TokenState.UNPROVISIONED: frozenset(),
}


@dataclass(frozen=True)
class CardDetails:
    """What the network knows of the card behind the token."""

    suffix: str
    expiration_month: str | None
    expiration_year: str | None


@dataclass(frozen=True)
class NetworkToken:
    id: str
    merchant_id: str
    instrument_identifier_id: str | None
    network: TokenNetwork
    state: TokenState
    source: str
    card: CardDetails
    created_at: datetime
    number: PAN | None = None
    expiration_month: str | None = None
    expiration_year: str | None = None
    token_reference_id: str | None = None
    enrollment_id: str | None = None
    payment_account_reference: str | None = None
    requestor_id: str | None = None
    reason: ProvisioningFailure | None = None
    master_key: bytes | None = field(default=None, repr=False)
    card_art_revision: int = 0
    atc: int = 0
    version: int = 1
    metadata: Mapping[str, Any] = field(default_factory=dict)

    def move_to(self, state: TokenState) -> TokenState:
        """Check a life-cycle move; raise :class:`Conflict` if the networks
        would refuse it."""
        if state == self.state:
            return state
        if state not in ALLOWED_MOVES[self.state]:
            raise Conflict(f"A {self.state.value} network token cannot become {state.value}.")
        return state


class CredentialKind(StrEnum):
    """What a payment-credentials call issued against an ATC."""

    CRYPTOGRAM = "CRYPTOGRAM"
    SECURITY_CODE = "SECURITY_CODE"
    NETWORK_TOKEN = "NETWORK_TOKEN"  # noqa: S105 - a credential type, not a secret


@dataclass(frozen=True)
class TokenTransaction:
    """One issued credential: the ATC it used and what it was bound to (never
    the cryptogram or code itself)."""

    token_id: str
    atc: int
    credential: CredentialKind
    amount: int
    currency: str
    merchant_reference: bytes
    transaction_type: str
    eci: str
    issued_at: datetime
    used_at: datetime | None = None


@dataclass(frozen=True)
class NetworkView:
    """A token as the card network sees it at authorisation.

    ``merchant_id`` is the token's domain: a network token is provisioned for
    one merchant (token requestor) and is valid with no other.
    ``failed_code_verifications`` counts the wrong security codes presented
    since the token's last payment credentials were issued.
    """

    id: str
    merchant_id: str
    network: TokenNetwork
    state: TokenState
    expiration_month: str | None
    expiration_year: str | None
    master_key: bytes | None = field(default=None, repr=False)
    failed_code_verifications: int = 0


@dataclass(frozen=True)
class ProvisioningRequest:
    pan: PAN
    card_expiration_month: str | None
    card_expiration_year: str | None
    merchant_id: str
    now: datetime


@dataclass(frozen=True)
class ProvisionedToken:
    """What a token service provider answers when it provisions."""

    number: PAN
    expiration_month: str
    expiration_year: str
    token_reference_id: str
    enrollment_id: str
    payment_account_reference: str
    requestor_id: str
    master_key: bytes = field(repr=False)
    metadata: Mapping[str, Any] = field(default_factory=dict)
