"""The ports the services depend on. Adapters implement them."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from types import TracebackType
from typing import Protocol

from opentms.domain.resources import (
    Customer,
    InstrumentIdentifier,
    Page,
    PaymentInstrument,
    ShippingAddress,
)


class Clock(Protocol):
    def now(self) -> datetime: ...


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

    def __enter__(self) -> UnitOfWork: ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...

    def commit(self) -> None: ...
