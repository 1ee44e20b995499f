"""Ports of the vault: a repository per resource, the credential chain, and
the unit of work that holds them for one merchant's transaction."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from types import TracebackType
from typing import Protocol

from opentms.domain.audit import AuditRecorder
from opentms.domain.network_token import NetworkToken, TokenTransaction
from opentms.domain.ports.webhooks import Outbox
from opentms.domain.resources import (
    Customer,
    InstrumentIdentifier,
    Page,
    PaymentInstrument,
    ShippingAddress,
)


class SealingKeys(Protocol):
    """A merchant's open keys, as a unit of work needs them (implemented by
    :class:`opentms.crypto.keyring.MerchantKeys`)."""

    @property
    def merchant_id(self) -> str: ...

    def seal(self, plaintext: bytes, context: str) -> bytes: ...

    def unseal(self, sealed: bytes, context: str) -> bytes: ...

    def fingerprint(self, kind: str, value: str) -> bytes: ...


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

    def remove_for_customer(self, customer_id: str, now: datetime) -> Sequence[str]:
        """Remove a customer's live addresses; their ids."""


class NetworkTokenRepository(Protocol):
    def add(self, token: NetworkToken) -> None: ...

    def get(self, token_id: str) -> NetworkToken: ...

    def current_for(self, ii_id: str) -> NetworkToken | None: ...

    def update(self, token: NetworkToken, expected_version: int, now: datetime) -> None: ...

    def delete_for(self, ii_id: str, now: datetime) -> Sequence[NetworkToken]:
        """Delete the live tokens of an instrument identifier; those tokens,
        as they are now (DELETED)."""

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
    def audit(self) -> AuditRecorder:
        """Where the services note what they do (written with the unit of work)."""
        ...

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

    @property
    def outbox(self) -> Outbox:
        """Webhook events, committed with the change (docs/webhooks.md)."""
        ...

    def __enter__(self) -> UnitOfWork: ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...

    def commit(self) -> None: ...


class UnitOfWorkFactory(Protocol):
    def __call__(
        self, keys: SealingKeys, readonly: bool, *, single_statement: bool = False
    ) -> UnitOfWork:
        """A unit of work over ``keys``' merchant. ``single_statement``: its one
        write is a single atomic statement, which may then commit by itself
        (PostgreSQL saves the BEGIN and COMMIT round trips)."""
        ...
