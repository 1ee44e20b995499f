"""Use cases of payment instruments, standalone and customer-scoped."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from opentms.domain import ids
from opentms.domain.card import PAN, BankAccount
from opentms.domain.errors import (
    DefaultInUse,
    FieldError,
    InvalidCombination,
    MissingFields,
    NotAvailable,
    NotFound,
    invalid_field,
)
from opentms.domain.ports import Clock, UnitOfWork, UnitOfWorkFactory
from opentms.domain.resources import (
    InstrumentIdentifier,
    Page,
    PaymentInstrument,
    check_if_match,
    merge_attributes,
)
from opentms.domain.webhook_events import TokenChange, resource_event
from opentms.services.instrument_identifiers import (
    II,
    CardExpiry,
    InstrumentIdentifierView,
    InstrumentIntake,
    ii_view,
)
from opentms.services.tenancy import Tenant, VaultService

PI = "paymentInstrument"


@dataclass(frozen=True)
class InstrumentIdentifierRef:
    """How a request names the card of a payment instrument: the id of a
    stored instrument identifier, or the card itself (stored or reused)."""

    id: str | None = None
    instrument: PAN | BankAccount | None = None
    attributes: Mapping[str, Any] | None = None
    expiry: CardExpiry = field(default_factory=CardExpiry)


@dataclass(frozen=True)
class PaymentInstrumentView:
    payment_instrument: PaymentInstrument
    instrument_identifier: InstrumentIdentifierView


def pi_view(uow: UnitOfWork, pi: PaymentInstrument) -> PaymentInstrumentView:
    ii = uow.instrument_identifiers.get(pi.instrument_identifier_id)
    return PaymentInstrumentView(pi, ii_view(uow, ii))


def with_instrument_identifiers(uow: UnitOfWork, page: Page) -> Page:
    return replace(page, items=tuple(pi_view(uow, pi) for pi in page.items))


class PaymentInstrumentService(VaultService):
    def __init__(self, uow: UnitOfWorkFactory, intake: InstrumentIntake, clock: Clock) -> None:
        super().__init__(uow)
        self._intake = intake
        self._clock = clock

    def create(
        self,
        tenant: Tenant,
        ref: InstrumentIdentifierRef,
        attributes: Mapping[str, Any],
        customer_id: str | None = None,
        make_default: bool = False,
    ) -> PaymentInstrumentView:
        with self._writing(tenant) as uow:
            customer = uow.customers.get(customer_id) if customer_id else None
            ii = self._resolve(uow, tenant, ref)
            pi = PaymentInstrument(
                id=ids.new_token_id(),
                merchant_id=tenant.merchant_id,
                instrument_identifier_id=ii.id,
                attributes=dict(attributes),
                created_at=self._clock.now(),
                customer_id=customer_id,
            )
            uow.payment_instruments.add(pi)
            uow.audit.record("paymentInstrument.create", PI, pi.id, customer=customer_id)
            uow.outbox.publish(resource_event(pi, TokenChange.CREATED, pi.created_at))
            if customer is not None and (
                make_default or customer.default_payment_instrument_id is None
            ):
                set_default = replace(customer, default_payment_instrument_id=pi.id)
                uow.customers.update(set_default, customer.version)
                uow.outbox.publish(resource_event(set_default, TokenChange.UPDATED, pi.created_at))
                pi = replace(pi, is_default=True)
            view = PaymentInstrumentView(pi, ii_view(uow, ii))
            uow.commit()
        return view

    def retrieve(
        self, tenant: Tenant, pi_id: str, customer_id: str | None = None
    ) -> PaymentInstrumentView:
        with self._reading(tenant) as uow:
            uow.audit.record("paymentInstrument.read", PI, pi_id, customer=customer_id)
            return pi_view(uow, self._get(uow, pi_id, customer_id))

    def update(
        self,
        tenant: Tenant,
        pi_id: str,
        ref: InstrumentIdentifierRef | None,
        patch: Mapping[str, Any],
        if_match: str | None,
        customer_id: str | None = None,
        make_default: bool = False,
    ) -> PaymentInstrumentView:
        with self._writing(tenant) as uow:
            uow.audit.record("paymentInstrument.update", PI, pi_id, customer=customer_id)
            current = self._get(uow, pi_id, customer_id)
            check_if_match(if_match, current.version)
            ii_id = current.instrument_identifier_id
            if ref is not None:
                ii_id = self._resolve(uow, tenant, ref).id
            updated = replace(
                current,
                instrument_identifier_id=ii_id,
                attributes=merge_attributes(current.attributes, patch),
                version=current.version + 1,
            )
            uow.payment_instruments.update(updated, current.version)
            now = self._clock.now()
            # Another card: the payment instrument's PAN changed.
            change = (
                TokenChange.PAN_UPDATED
                if ii_id != current.instrument_identifier_id
                else TokenChange.UPDATED
            )
            uow.outbox.publish(resource_event(updated, change, now))
            if make_default and current.customer_id and not current.is_default:
                customer = uow.customers.get(current.customer_id)
                set_default = replace(customer, default_payment_instrument_id=pi_id)
                uow.customers.update(set_default, customer.version)
                uow.outbox.publish(resource_event(set_default, TokenChange.UPDATED, now))
                updated = replace(updated, is_default=True)
            view = pi_view(uow, updated)
            uow.commit()
        return view

    def delete(self, tenant: Tenant, pi_id: str, customer_id: str | None = None) -> None:
        with self._writing(tenant) as uow:
            uow.audit.record("paymentInstrument.delete", PI, pi_id, customer=customer_id)
            pi = self._get(uow, pi_id, customer_id)
            now = self._clock.now()
            if pi.customer_id is not None and pi.is_default:
                customer = uow.customers.get(pi.customer_id)
                if len(uow.payment_instruments.ids_for_customer(pi.customer_id)) > 1:
                    raise DefaultInUse(
                        "Action cannot be performed as the PaymentInstrument is the "
                        "customers default"
                    )
                cleared = replace(customer, default_payment_instrument_id=None)
                uow.customers.update(cleared, customer.version)
                uow.outbox.publish(resource_event(cleared, TokenChange.UPDATED, now))
            uow.payment_instruments.remove(pi_id, now)
            uow.outbox.publish(resource_event(pi, TokenChange.DELETED, now))
            uow.commit()

    def list_for_instrument_identifier(
        self, tenant: Tenant, ii_id: str, offset: int, limit: int
    ) -> Page:
        with self._reading(tenant) as uow:
            uow.audit.record("instrumentIdentifier.listPaymentInstruments", II, ii_id)
            uow.instrument_identifiers.get(ii_id)
            page = uow.payment_instruments.list_for_instrument_identifier(ii_id, offset, limit)
            return with_instrument_identifiers(uow, page)

    def list_for_customer(self, tenant: Tenant, customer_id: str, offset: int, limit: int) -> Page:
        with self._reading(tenant) as uow:
            uow.audit.record("paymentInstrument.list", PI, (), customer=customer_id)
            customer = uow.customers.get(customer_id)
            page = uow.payment_instruments.list_for_customer(
                customer_id, customer.default_payment_instrument_id, offset, limit
            )
            return with_instrument_identifiers(uow, page)

    @staticmethod
    def _get(uow: UnitOfWork, pi_id: str, customer_id: str | None) -> PaymentInstrument:
        if customer_id is not None:
            uow.customers.get(customer_id)
        pi = uow.payment_instruments.get(pi_id)
        if customer_id is not None and pi.customer_id != customer_id:
            raise NotFound()
        return pi

    def _resolve(
        self, uow: UnitOfWork, tenant: Tenant, ref: InstrumentIdentifierRef
    ) -> InstrumentIdentifier:
        if ref.id is not None and ref.instrument is not None:
            raise InvalidCombination(
                "Send either instrumentIdentifier.id or the card, not both.",
                (
                    FieldError("instrumentIdentifier.id"),
                    FieldError("instrumentIdentifier.card"),
                ),
            )
        if ref.id is not None:
            try:
                return uow.instrument_identifiers.get(ref.id)
            except (NotFound, NotAvailable):
                raise invalid_field(
                    "instrumentIdentifier.id",
                    f"Instrument identifier {ref.id} does not exist.",
                ) from None
        if ref.instrument is None:
            raise MissingFields(
                "A payment instrument needs instrumentIdentifier.id or a card number.",
                (FieldError("instrumentIdentifier"),),
            )
        ii, created = self._intake.store(
            uow, tenant, ref.instrument, ref.attributes or {}, ref.expiry
        )
        uow.audit.record("instrumentIdentifier.create", II, ii.id, created=created)
        return ii
