"""Tokenize: a customer, its payment instrument, the instrument identifier, a
shipping address and a network token in one call (TMS ``POST /tms/v2/tokenize``).

Each wanted token is made in a fixed order, by the service that owns it; a
token whose prerequisite was wanted but not made is not attempted, and a
failure is recorded beside the others rather than raised, so the answer says
what became of each one.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, TypeAlias, TypeVar

from opentms.domain.card import PAN, BankAccount
from opentms.domain.errors import FieldError, InvalidFields, VaultError
from opentms.services.customers import CustomerService, ShippingAddressService
from opentms.services.instrument_identifiers import CardExpiry, InstrumentIdentifierService
from opentms.services.payment_instruments import InstrumentIdentifierRef, PaymentInstrumentService
from opentms.services.tenancy import Tenant


class TokenKind(StrEnum):
    """The tokens one call can make, in the order they are made."""

    CUSTOMER = "customer"
    INSTRUMENT_IDENTIFIER = "instrumentIdentifier"
    PAYMENT_INSTRUMENT = "paymentInstrument"
    SHIPPING_ADDRESS = "shippingAddress"
    TOKENIZED_CARD = "tokenizedCard"


@dataclass(frozen=True)
class NewCustomer:
    attributes: Mapping[str, Any]


@dataclass(frozen=True)
class NewInstrumentIdentifier:
    instrument: PAN | BankAccount
    attributes: Mapping[str, Any]
    expiry: CardExpiry = field(default_factory=CardExpiry)


@dataclass(frozen=True)
class NewPaymentInstrument:
    """``instrument_identifier`` is replaced by the one this call makes, if any."""

    instrument_identifier: InstrumentIdentifierRef | None
    attributes: Mapping[str, Any]
    default: bool = False


@dataclass(frozen=True)
class NewShippingAddress:
    attributes: Mapping[str, Any]
    default: bool = False


_T = TypeVar("_T")
# What the request said about a token, or why it could not be read: the error
# is the token's outcome if it is attempted, and nothing if it is not.
Parsed: TypeAlias = _T | VaultError


@dataclass(frozen=True)
class TokenizeRequest:
    wanted: Collection[TokenKind]
    customer: Parsed[NewCustomer] | None = None
    instrument_identifier: Parsed[NewInstrumentIdentifier] | None = None
    payment_instrument: Parsed[NewPaymentInstrument] | None = None
    shipping_address: Parsed[NewShippingAddress] | None = None


@dataclass(frozen=True, slots=True)
class Created:
    kind: TokenKind
    id: str
    new: bool = True  # False: the card was stored already (an instrument identifier)


@dataclass(frozen=True, slots=True)
class Failed:
    kind: TokenKind
    error: VaultError


@dataclass(frozen=True, slots=True)
class NotAttempted:
    kind: TokenKind
    missing: TokenKind  # the wanted token it needed, which was not made


Outcome: TypeAlias = Created | Failed | NotAttempted

NEEDS: dict[TokenKind, tuple[TokenKind, ...]] = {
    TokenKind.PAYMENT_INSTRUMENT: (TokenKind.CUSTOMER, TokenKind.INSTRUMENT_IDENTIFIER),
    TokenKind.SHIPPING_ADDRESS: (TokenKind.CUSTOMER,),
    TokenKind.TOKENIZED_CARD: (TokenKind.INSTRUMENT_IDENTIFIER,),
}


class TokenizeService:
    def __init__(
        self,
        customers: CustomerService,
        instrument_identifiers: InstrumentIdentifierService,
        payment_instruments: PaymentInstrumentService,
        shipping_addresses: ShippingAddressService,
    ) -> None:
        self._customers = customers
        self._instrument_identifiers = instrument_identifiers
        self._payment_instruments = payment_instruments
        self._shipping_addresses = shipping_addresses

    def tokenize(self, tenant: Tenant, request: TokenizeRequest) -> list[Outcome]:
        """One outcome per wanted token, in the order of :class:`TokenKind`;
        :class:`InvalidFields` when a wanted token needs one that is not wanted."""
        _check_wanted(request.wanted)
        made: dict[TokenKind, str] = {}
        steps: dict[TokenKind, Callable[[], tuple[str, bool]]] = {
            TokenKind.CUSTOMER: lambda: self._customer(tenant, request),
            TokenKind.INSTRUMENT_IDENTIFIER: lambda: self._instrument_identifier(tenant, request),
            TokenKind.PAYMENT_INSTRUMENT: lambda: self._payment_instrument(tenant, request, made),
            TokenKind.SHIPPING_ADDRESS: lambda: self._shipping_address(tenant, request, made),
            TokenKind.TOKENIZED_CARD: lambda: self._tokenized_card(tenant, request, made),
        }
        outcomes: list[Outcome] = []
        for kind in TokenKind:
            if kind not in request.wanted:
                continue
            needs = NEEDS.get(kind, ())
            missing = [need for need in needs if need in request.wanted and need not in made]
            if missing:
                outcomes.append(NotAttempted(kind, missing[0]))
                continue
            try:
                token_id, new = steps[kind]()
            except VaultError as exc:
                outcomes.append(Failed(kind, exc))
                continue
            made[kind] = token_id
            outcomes.append(Created(kind, token_id, new))
        return outcomes

    def _customer(self, tenant: Tenant, request: TokenizeRequest) -> tuple[str, bool]:
        new = _given(request.customer)
        return self._customers.create(tenant, new.attributes).customer.id, True

    def _instrument_identifier(self, tenant: Tenant, request: TokenizeRequest) -> tuple[str, bool]:
        new = _given(request.instrument_identifier)
        view, created = self._instrument_identifiers.create(
            tenant, new.instrument, new.attributes, new.expiry
        )
        return view.instrument_identifier.id, created

    def _payment_instrument(
        self, tenant: Tenant, request: TokenizeRequest, made: Mapping[TokenKind, str]
    ) -> tuple[str, bool]:
        new = _given(request.payment_instrument)
        ref = new.instrument_identifier
        if TokenKind.INSTRUMENT_IDENTIFIER in made:
            ref = InstrumentIdentifierRef(id=made[TokenKind.INSTRUMENT_IDENTIFIER])
        view = self._payment_instruments.create(
            tenant,
            ref or InstrumentIdentifierRef(),
            new.attributes,
            made.get(TokenKind.CUSTOMER),
            new.default,
        )
        return view.payment_instrument.id, True

    def _shipping_address(
        self, tenant: Tenant, request: TokenizeRequest, made: Mapping[TokenKind, str]
    ) -> tuple[str, bool]:
        new = _given(request.shipping_address)
        address = self._shipping_addresses.create(
            tenant, made[TokenKind.CUSTOMER], new.attributes, new.default
        )
        return address.id, True

    def _tokenized_card(
        self, tenant: Tenant, request: TokenizeRequest, made: Mapping[TokenKind, str]
    ) -> tuple[str, bool]:
        ii_id = made[TokenKind.INSTRUMENT_IDENTIFIER]
        self._instrument_identifiers.enroll(
            tenant, ii_id, _given(request.instrument_identifier).expiry
        )
        token = self._instrument_identifiers.retrieve(tenant, ii_id).token
        if token is None or token.reason is not None:
            reason = token.reason.value if token and token.reason else None
            raise InvalidFields(
                f"The network did not provision a token: {reason or 'CARD_NOT_ALLOWED'}.",
                (FieldError("tokenInformation.instrumentIdentifier.card.number"),),
            )
        return token.id, True


def _check_wanted(wanted: Collection[TokenKind]) -> None:
    if TokenKind.SHIPPING_ADDRESS in wanted and TokenKind.CUSTOMER not in wanted:
        raise InvalidFields(
            "A shipping address is created for a customer: add customer to actionTokenTypes.",
            (FieldError("processingInformation.actionTokenTypes"),),
        )
    if TokenKind.TOKENIZED_CARD in wanted and TokenKind.INSTRUMENT_IDENTIFIER not in wanted:
        raise InvalidFields(
            "A tokenized card is provisioned for an instrument identifier: add "
            "instrumentIdentifier to actionTokenTypes.",
            (FieldError("processingInformation.actionTokenTypes"),),
        )


def _given(parsed: Parsed[_T] | None) -> _T:
    """A wanted token's input, or the error met reading it, raised."""
    if isinstance(parsed, VaultError):
        raise parsed
    if parsed is None:
        raise ValueError("A wanted token needs its input in the TokenizeRequest.")
    return parsed
