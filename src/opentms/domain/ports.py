"""The ports the services depend on. Adapters implement them."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from types import TracebackType
from typing import Protocol

from opentms.domain.network_token import (
    CredentialKind,
    NetworkToken,
    NetworkView,
    ProvisionedToken,
    ProvisioningFailure,
    ProvisioningRequest,
    TokenNetwork,
    TokenTransaction,
)
from opentms.domain.resources import (
    Customer,
    InstrumentIdentifier,
    Page,
    PaymentInstrument,
    ShippingAddress,
)


class Clock(Protocol):
    def now(self) -> datetime: ...


class ReadinessProbe(Protocol):
    """Whether the service can answer requests (``GET /readyz``)."""

    def unready_reason(self) -> str | None:
        """None when the database answers at the schema the code expects;
        otherwise why not, in a sentence for the operator."""


class InstrumentIdentifierRepository(Protocol):
    def add(self, ii: InstrumentIdentifier) -> bool:
        """Insert; False (and no write) when the card is already stored."""

    def get(self, ii_id: str) -> InstrumentIdentifier: ...

    def find_by_fingerprint(self, fingerprint: bytes) -> InstrumentIdentifier | None: ...

    def update(self, ii: InstrumentIdentifier, expected_version: int) -> None: ...

    def remove(self, ii_id: str, now: datetime) -> None: ...


class PaymentInstrumentRepository(Protocol):
    def add(self, pi: PaymentInstrument) -> None: ...

    def get(self, pi_id: str) -> PaymentInstrument: ...

    def update(self, pi: PaymentInstrument, expected_version: int) -> None: ...

    def remove(self, pi_id: str, now: datetime) -> None: ...

    def count_for_instrument_identifier(self, ii_id: str) -> int: ...

    def list_for_instrument_identifier(self, ii_id: str, offset: int, limit: int) -> Page: ...

    def list_for_customer(
        self, customer_id: str, default_id: str | None, offset: int, limit: int
    ) -> Page: ...

    def ids_for_customer(self, customer_id: str) -> Sequence[tuple[str, str]]:
        """``(payment instrument id, instrument identifier id)`` of live PIs."""


class CustomerRepository(Protocol):
    def add(self, customer: Customer) -> None: ...

    def get(self, customer_id: str) -> Customer: ...

    def update(self, customer: Customer, expected_version: int) -> None: ...

    def remove(self, customer_id: str, now: datetime) -> None: ...


class ShippingAddressRepository(Protocol):
    def add(self, address: ShippingAddress) -> None: ...

    def get(self, address_id: str) -> ShippingAddress: ...

    def update(self, address: ShippingAddress, expected_version: int) -> None: ...

    def remove(self, address_id: str, now: datetime) -> None: ...

    def count_for_customer(self, customer_id: str) -> int: ...

    def list_for_customer(
        self, customer_id: str, default_id: str | None, offset: int, limit: int
    ) -> Page: ...

    def remove_for_customer(self, customer_id: str, now: datetime) -> None: ...


class NetworkTokenRepository(Protocol):
    def add(self, token: NetworkToken) -> None: ...

    def get(self, token_id: str) -> NetworkToken: ...

    def current_for(self, ii_id: str) -> NetworkToken | None: ...

    def update(self, token: NetworkToken, expected_version: int, now: datetime) -> None: ...

    def delete_for(self, ii_id: str, now: datetime) -> None:
        """Delete the live tokens of an instrument identifier."""

    def next_atc(self, token_id: str) -> int | None:
        """Increment an ACTIVE token's ATC atomically and return the new value
        (None if the token is not active)."""

    def record(self, transaction: TokenTransaction) -> None: ...

    def issue(self, transaction: TokenTransaction) -> int | None:
        """Take an ACTIVE token's next ATC and record ``transaction`` against it;
        the ATC, or None if the token is not active."""

    def number_taken(self, number: str) -> bool:
        """Whether a number is any token's or any stored card's, all merchants."""


@dataclass(frozen=True)
class Chain:
    """A token's path to the card: payment instrument, instrument identifier,
    newest network token (each None where the path has none)."""

    payment_instrument: PaymentInstrument | None
    instrument_identifier: InstrumentIdentifier | None
    token: NetworkToken | None


class CredentialChain(Protocol):
    def resolve(self, kind: str, token_id: str) -> Chain | None:
        """``kind`` is customer, paymentInstrument, instrumentIdentifier or tokenizedCard."""


class UnitOfWork(Protocol):
    """One transaction over one merchant's data. Leaving the block without
    :meth:`commit` rolls everything back."""

    @property
    def instrument_identifiers(self) -> InstrumentIdentifierRepository: ...

    @property
    def payment_instruments(self) -> PaymentInstrumentRepository: ...

    @property
    def customers(self) -> CustomerRepository: ...

    @property
    def shipping_addresses(self) -> ShippingAddressRepository: ...

    @property
    def network_tokens(self) -> NetworkTokenRepository: ...

    @property
    def credential_chain(self) -> CredentialChain: ...

    def __enter__(self) -> UnitOfWork: ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...

    def commit(self) -> None: ...


class TokenProvider(Protocol):
    """A card network's token service (VTS, MDES, ...), real or simulated."""

    @property
    def network(self) -> TokenNetwork: ...

    def provision(
        self, request: ProvisioningRequest, taken: Callable[[str], bool]
    ) -> ProvisionedToken | ProvisioningFailure:
        """A token for the card, or why not; ``taken`` says whether a number is in use."""

    def card_art(self, token: NetworkToken) -> bytes:
        """The combined card art image (PNG) of a token."""


class NetworkDirectory(Protocol):
    """The card network's view: tokens by number across merchants."""

    def find_by_number(self, number: str) -> NetworkView | None:
        """The token with this number, locked until the unit of work ends: the
        authorisations of one token run one after the other, so its count of
        failed security codes is read and raised without a race."""

    def transaction(self, token_id: str, atc: int) -> TokenTransaction | None: ...

    def recent(
        self, token_id: str, credential: CredentialKind, count: int
    ) -> Sequence[TokenTransaction]: ...

    def mark_used(self, token_id: str, atc: int, now: datetime) -> bool:
        """Record an authorisation; False if the ATC was already used."""

    def record_code_failure(self, token_id: str) -> int:
        """Count one more wrong security code for the token (in the database,
        atomically); the new count."""


class NetworkUnitOfWork(Protocol):
    @property
    def directory(self) -> NetworkDirectory: ...

    def __enter__(self) -> NetworkUnitOfWork: ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...

    def commit(self) -> None: ...
