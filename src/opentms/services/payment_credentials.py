"""Payment credentials: the network token, its expiry and a one-time
cryptogram or dynamic security code, sealed in a JWE for the merchant.

Rules (TMS ``paymentCredentialType``): absent → the token with a cryptogram
(Visa, Mastercard, Discover) or a dynamic security code (Amex);
``NETWORK_TOKEN`` → the token alone; ``SECURITY_CODE`` → Amex DCSC or Visa
DTVV; ``CRYPTOGRAM`` → not for Amex. ``transactionType`` AFT only for Visa with
CRYPTOGRAM. Every call takes the token's next ATC from the database.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from opentms.crypto import cryptograms
from opentms.crypto.cryptograms import TransactionData, TransactionType
from opentms.domain import ids
from opentms.domain.card import PAN
from opentms.domain.errors import (
    Declined,
    FieldError,
    Forbidden,
    InvalidFields,
    NotAvailable,
    NotFound,
    invalid_field,
)
from opentms.domain.network_token import (
    MAX_ATC,
    CredentialKind,
    NetworkToken,
    TokenNetwork,
    TokenState,
    TokenTransaction,
    token_expired,
)
from opentms.domain.ports import Clock, UnitOfWork, UnitOfWorkFactory
from opentms.domain.resources import InstrumentIdentifier, PaymentInstrument
from opentms.services.instrument_identifiers import II
from opentms.services.provisioning import Provisioner
from opentms.services.tenancy import Tenant, VaultService

ISSUE = "paymentCredentials.issue"
PASSKEY_PROVIDER = "VISA_PAYMENT_PASSKEY"


class CredentialType(StrEnum):
    NETWORK_TOKEN = "NETWORK_TOKEN"  # noqa: S105 - a credential type, not a secret
    SECURITY_CODE = "SECURITY_CODE"
    CRYPTOGRAM = "CRYPTOGRAM"


@dataclass(frozen=True)
class CredentialsRequest:
    version: int  # 2 or 3
    credential_type: CredentialType | None = None
    transaction_type: TransactionType = TransactionType.ECOM
    amount: str | None = None
    currency: str | None = None
    authenticated_by_passkey: bool = False


@dataclass(frozen=True, slots=True)
class CredentialLinks:
    """What an answer links to: the token the credentials were asked for
    (under ``/tms/v{version}``) and, on v3, the resources it led to."""

    token_id: str
    version: int
    customer_id: str | None = None
    payment_instrument: PaymentInstrument | None = None
    instrument_identifier_id: str | None = None
    tokenized_card_id: str | None = None


@dataclass(frozen=True, slots=True)
class CardOnFile:
    """The card behind a token: its number, brand code (TMS ``card.type``)
    and the expiry on file. Shown masked beside a network token, in clear in
    the v3 answer without one."""

    number: PAN
    type: str
    expiration_month: str | None
    expiration_year: str | None


@dataclass(frozen=True, slots=True)
class NetworkTokenCredentials:
    """The network token issued for one payment: its application transaction
    counter, ECI and commerce indicator, and a cryptogram or a dynamic
    security code (neither for ``NETWORK_TOKEN``)."""

    links: CredentialLinks
    token: NetworkToken
    atc: int
    eci: str
    commerce_indicator: str
    card: CardOnFile | None
    cryptogram: str | None = field(default=None, repr=False)
    security_code: str | None = field(default=None, repr=False)


@dataclass(frozen=True, slots=True)
class CardCredentials:
    """v3 for a token with no network token: the card itself."""

    links: CredentialLinks
    card: CardOnFile


PaymentCredentials = NetworkTokenCredentials | CardCredentials


@dataclass(frozen=True)
class Resolved:
    """What a token id led to."""

    kind: str  # customer | paymentInstrument | instrumentIdentifier | tokenizedCard
    token_id: str
    instrument_identifier: InstrumentIdentifier | None
    payment_instrument: PaymentInstrument | None = None
    customer_id: str | None = None
    token: NetworkToken | None = None  # asked for by its own id (a tokenized card)
    found_token: NetworkToken | None = None  # the instrument identifier's newest token


class PaymentCredentialService(VaultService):
    def __init__(self, uow: UnitOfWorkFactory, provisioner: Provisioner, clock: Clock) -> None:
        super().__init__(uow)
        self._provisioner = provisioner
        self._clock = clock

    def issue(
        self, tenant: Tenant, token_id: str, request: CredentialsRequest
    ) -> PaymentCredentials:
        """The payment credentials (clear token, cryptogram or code; on v3
        without a network token, the card).

        Short units of work rather than one long one: the token is looked up
        in a read transaction, the ATC is taken and the credential recorded in
        a write of its own (two statements in one transaction on SQLite, one
        statement on PostgreSQL), and the cryptography runs after it, so a database
        write lock (all of SQLite's, or the token's row on PostgreSQL) is held
        for as little time as possible.
        """
        data = _transaction_data(tenant, request)
        with self._reading(tenant) as uow:
            resolved = _resolve(uow, token_id)
        token = resolved.token or resolved.found_token
        if token is None and self._may_provision(tenant, resolved):
            token = self._provision(tenant, resolved)
        if token is None or token.state == TokenState.UNPROVISIONED:
            # The card itself may be answered (v3): recorded like any credential.
            with self._reading(tenant) as uow:
                uow.audit.record(ISSUE, resolved.kind, token_id, credential="card")
                return self._without_token(resolved, request)
        _check_usable(token, self._clock.now())
        credential = _credential_kind(token.network, request)
        authenticated = request.authenticated_by_passkey and token.network == TokenNetwork.VISA
        eci = cryptograms.eci_for(token.network, authenticated)
        issued = TokenTransaction(
            token_id=token.id,
            atc=0,
            credential=credential,
            amount=data.amount,
            currency=data.currency,
            merchant_reference=data.merchant_reference,
            transaction_type=data.transaction_type.value,
            eci=eci,
            issued_at=self._clock.now(),
        )
        _check_forced(tenant)
        with self._writing(tenant, single_statement=True) as uow:
            uow.audit.record(ISSUE, resolved.kind, token_id, credential=credential.value)
            atc = uow.network_tokens.issue(issued)
            if atc is None:
                # Suspended, deleted or spent since it was read: say which.
                current = uow.network_tokens.get(token.id)
                _check_usable(current, self._clock.now())
                if current.atc >= MAX_ATC:
                    raise Declined(
                        "The network token's application transaction counter is exhausted "
                        f"(ATC {MAX_ATC}); enroll the card again for a new token."
                    )
                raise NotAvailable("The network token is not active.")
            uow.commit()
        cryptogram, security_code = _credential_values(token, credential, atc, data)
        return NetworkTokenCredentials(
            links=_links(resolved, token, request.version),
            token=token,
            atc=atc,
            eci=eci,
            commerce_indicator=cryptograms.commerce_indicator(token.network, authenticated),
            card=_card_on_file(resolved),
            cryptogram=cryptogram,
            security_code=security_code,
        )

    @staticmethod
    def _may_provision(tenant: Tenant, resolved: Resolved) -> bool:
        ii = resolved.instrument_identifier
        return (
            resolved.kind != "tokenizedCard"
            and ii is not None
            and isinstance(ii.instrument, PAN)
            and tenant.profile.network_tokens_enabled
        )

    def _provision(self, tenant: Tenant, resolved: Resolved) -> NetworkToken | None:
        ii = resolved.instrument_identifier
        if ii is None or not isinstance(ii.instrument, PAN):
            return None
        with self._writing(tenant) as uow:
            # Looked at again under the write lock: one token per request race.
            token = uow.network_tokens.current_for(ii.id)
            if token is None:
                uow.audit.record("instrumentIdentifier.provisionNetworkToken", II, ii.id)
                month, year = _card_expiry(resolved)
                token = self._provisioner.provision(uow, tenant, ii.instrument, month, year, ii.id)
            uow.commit()
        return token

    def _without_token(self, resolved: Resolved, request: CredentialsRequest) -> CardCredentials:
        if request.version == 2:
            raise NotFound(
                "No network token exists for this token; the v3 endpoint answers with "
                "the card details instead."
            )
        card = _card_on_file(resolved)
        if card is None:
            raise NotFound("No network token or card exists for this token.")
        return CardCredentials(_links(resolved, None, request.version), card)


def _transaction_data(tenant: Tenant, request: CredentialsRequest) -> TransactionData:
    return transaction_data(
        tenant.merchant_id,
        request.amount,
        request.currency,
        request.transaction_type,
        "orderInformation.amountDetails.totalAmount",
        "orderInformation.amountDetails.currency",
    )


def transaction_data(
    merchant_id: str,
    amount: str | None,
    currency: str | None,
    transaction_type: TransactionType,
    amount_field: str,
    currency_field: str,
) -> TransactionData:
    """What a cryptogram binds, from a request's decimal amount and currency
    code; a 400 naming ``amount_field`` or ``currency_field`` when they are bad."""
    numeric = "000"
    minor = 0
    if currency is not None:
        try:
            numeric = cryptograms.currency_numeric(currency)
        except ValueError:
            raise invalid_field(
                currency_field, f"{currency_field} must be an ISO 4217 code (e.g. USD or 840)."
            ) from None
    if amount is not None:
        if currency is None:
            raise InvalidFields("An amount needs its currency.", (FieldError(currency_field),))
        try:
            minor = cryptograms.amount_minor_units(amount, numeric)
        except ValueError:
            raise invalid_field(
                amount_field,
                f"{amount_field} must be a positive decimal amount with no more decimals "
                "than the currency has.",
            ) from None
    return TransactionData(
        amount=minor,
        currency=numeric,
        merchant_reference=cryptograms.merchant_reference(merchant_id),
        transaction_type=transaction_type,
    )


def _resolve(uow: UnitOfWork, token_id: str) -> Resolved:
    """Customer → default payment instrument → instrument identifier; payment
    instrument → instrument identifier; instrument identifier; tokenized card."""
    if ids.is_instrument_identifier_id(token_id) and not ids.is_token_id(token_id):
        kinds: tuple[str, ...] = ("instrumentIdentifier",)
    elif ids.is_token_id(token_id):
        kinds = ("customer", "paymentInstrument", "tokenizedCard")
    else:
        raise NotFound()
    for kind in kinds:
        chain = uow.credential_chain.resolve(kind, token_id)
        if chain is None:
            continue
        pi = chain.payment_instrument
        if kind == "tokenizedCard":
            return Resolved(kind, token_id, chain.instrument_identifier, token=chain.token)
        return Resolved(
            kind,
            token_id,
            chain.instrument_identifier,
            pi,
            token_id if kind == "customer" else (pi.customer_id if pi else None),
            found_token=chain.token,
        )
    raise NotFound()


def _card_expiry(resolved: Resolved) -> tuple[str | None, str | None]:
    pi = resolved.payment_instrument
    if pi is not None:
        card = pi.attributes.get("card") or {}
        return card.get("expirationMonth"), card.get("expirationYear")
    if resolved.token is not None:
        return resolved.token.card.expiration_month, resolved.token.card.expiration_year
    return None, None


def _check_usable(token: NetworkToken, now: datetime) -> None:
    if token.state == TokenState.DELETED:
        raise NotAvailable("The network token was deleted by the network or the issuer.")
    if token.state == TokenState.SUSPENDED:
        raise Forbidden("The network token is suspended; the network issues no credentials for it.")
    if token_expired(token.expiration_month, token.expiration_year, now):
        # The service clock decides (a sandbox may have moved it past the expiry).
        raise Forbidden(
            f"The network token expired at the end of {token.expiration_month}/"
            f"{token.expiration_year}; the network issues no credentials for an expired token."
        )


def _check_forced(tenant: Tenant) -> None:
    """A refusal forced by the request (sandbox only): answered as the code
    answers a token in that state, before an ATC is taken."""
    refusal = tenant.outcome.credentials if tenant.outcome else None
    if refusal is None:
        return
    if refusal == "SUSPENDED":
        raise Forbidden("The network token is suspended; the network issues no credentials for it.")
    if refusal == "DELETED":
        raise NotAvailable("The network token was deleted by the network or the issuer.")
    raise Declined("The network declined to issue credentials for the network token.")


def _credential_kind(network: TokenNetwork, request: CredentialsRequest) -> CredentialKind:
    kind = request.credential_type
    name = "paymentCredentialType"
    if kind == CredentialType.CRYPTOGRAM and network == TokenNetwork.AMEX:
        raise invalid_field(
            name,
            "American Express tokens have no cryptogram; ask for "
            "SECURITY_CODE (a dynamic card security code).",
        )
    if kind == CredentialType.SECURITY_CODE and network not in (
        TokenNetwork.AMEX,
        TokenNetwork.VISA,
    ):
        raise invalid_field(
            name, f"{network.value} tokens have no dynamic security code; ask for CRYPTOGRAM."
        )
    if request.transaction_type == TransactionType.AFT and (
        network != TokenNetwork.VISA or kind != CredentialType.CRYPTOGRAM
    ):
        raise invalid_field(
            "transactionType", "AFT is only for Visa tokens with paymentCredentialType CRYPTOGRAM."
        )
    if kind == CredentialType.NETWORK_TOKEN:
        return CredentialKind.NETWORK_TOKEN
    if kind == CredentialType.SECURITY_CODE or (kind is None and network == TokenNetwork.AMEX):
        return CredentialKind.SECURITY_CODE
    return CredentialKind.CRYPTOGRAM


def _credential_values(
    token: NetworkToken, credential: CredentialKind, atc: int, data: TransactionData
) -> tuple[str | None, str | None]:
    """(cryptogram, dynamic security code): at most one of them."""
    if token.master_key is None or token.number is None:
        raise NotAvailable("The network token has no keys.")
    if credential == CredentialKind.CRYPTOGRAM:
        value = cryptograms.generate_cryptogram(
            token.master_key, token.network, atc, secrets.token_bytes(4), data, bound=True
        )
        return value, None
    if credential == CredentialKind.SECURITY_CODE:
        expiry = f"{(token.expiration_year or '00')[-2:]}{token.expiration_month or '00'}"
        code = cryptograms.generate_dynamic_code(
            token.master_key, token.network, token.number.reveal(), expiry, atc
        )
        return None, code
    return None, None


def _card_on_file(resolved: Resolved) -> CardOnFile | None:
    ii = resolved.instrument_identifier
    if ii is None or not isinstance(ii.instrument, PAN):
        return None
    month, year = _card_expiry(resolved)
    return CardOnFile(ii.instrument, ii.brand.code, month, year)


def _links(resolved: Resolved, token: NetworkToken | None, version: int) -> CredentialLinks:
    if version != 3:
        return CredentialLinks(resolved.token_id, version)
    ii = resolved.instrument_identifier
    return CredentialLinks(
        resolved.token_id,
        version,
        resolved.customer_id,
        resolved.payment_instrument,
        ii.id if ii is not None else None,
        token.id if token is not None else None,
    )
