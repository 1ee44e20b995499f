"""Use cases of customers and their shipping addresses."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from opentms.domain import ids
from opentms.domain.errors import (
    DefaultInUse,
    NotAvailable,
    NotFound,
    invalid_field,
)
from opentms.domain.ports import Clock, UnitOfWork, UnitOfWorkFactory
from opentms.domain.resources import (
    Customer,
    Page,
    ShippingAddress,
    check_if_match,
    merge_attributes,
)
from opentms.domain.webhook_events import TokenChange, TokenType, resource_event, token_event
from opentms.services.instrument_identifiers import II, delete_card
from opentms.services.payment_instruments import PaymentInstrumentView, pi_view
from opentms.services.tenancy import Tenant, VaultService

ADDRESS = "shippingAddress"


@dataclass(frozen=True)
class CustomerView:
    customer: Customer
    default_payment_instrument: PaymentInstrumentView | None
    default_shipping_address: ShippingAddress | None


class CustomerService(VaultService):
    def __init__(self, uow: UnitOfWorkFactory, clock: Clock) -> None:
        super().__init__(uow)
        self._clock = clock

    def create(self, tenant: Tenant, attributes: Mapping[str, Any]) -> CustomerView:
        customer = Customer(
            id=ids.new_token_id(),
            merchant_id=tenant.merchant_id,
            attributes=dict(attributes),
            created_at=self._clock.now(),
        )
        with self._writing(tenant) as uow:
            uow.audit.record("customer.create", "customer", customer.id)
            uow.customers.add(customer)
            uow.outbox.publish(resource_event(customer, TokenChange.CREATED, customer.created_at))
            uow.commit()
        return CustomerView(customer, None, None)

    def retrieve(self, tenant: Tenant, customer_id: str) -> CustomerView:
        with self._reading(tenant) as uow:
            uow.audit.record("customer.read", "customer", customer_id)
            return self._view(uow, uow.customers.get(customer_id))

    def update(
        self,
        tenant: Tenant,
        customer_id: str,
        patch: Mapping[str, Any],
        if_match: str | None,
        default_payment_instrument_id: str | None = None,
        default_shipping_address_id: str | None = None,
    ) -> CustomerView:
        with self._writing(tenant) as uow:
            uow.audit.record("customer.update", "customer", customer_id)
            current = uow.customers.get(customer_id)
            check_if_match(if_match, current.version)
            updated = replace(
                current,
                attributes=merge_attributes(current.attributes, patch),
                version=current.version + 1,
            )
            if default_payment_instrument_id is not None:
                _require_child(
                    "defaultPaymentInstrument.id",
                    customer_id,
                    lambda: uow.payment_instruments.get(default_payment_instrument_id).customer_id,
                )
                updated = replace(
                    updated, default_payment_instrument_id=default_payment_instrument_id
                )
            if default_shipping_address_id is not None:
                _require_child(
                    "defaultShippingAddress.id",
                    customer_id,
                    lambda: uow.shipping_addresses.get(default_shipping_address_id).customer_id,
                )
                updated = replace(updated, default_shipping_address_id=default_shipping_address_id)
            uow.customers.update(updated, current.version)
            uow.outbox.publish(resource_event(updated, TokenChange.UPDATED, self._clock.now()))
            view = self._view(uow, updated)
            uow.commit()
        return view

    def delete(self, tenant: Tenant, customer_id: str) -> None:
        """Remove the customer, its payment instruments and shipping addresses,
        and the instrument identifiers no other payment instrument uses."""
        now = self._clock.now()
        with self._writing(tenant) as uow:
            uow.audit.record("customer.delete", "customer", customer_id)
            customer = uow.customers.get(customer_id)
            merchant = tenant.merchant_id
            linked = uow.payment_instruments.ids_for_customer(customer_id)
            for pi_id, ii_id in linked:
                uow.payment_instruments.remove(pi_id, now)
                uow.audit.record(
                    "paymentInstrument.delete", "paymentInstrument", pi_id, cascade=True
                )
                uow.outbox.publish(
                    token_event(
                        TokenType.PAYMENT_INSTRUMENT,
                        merchant,
                        pi_id,
                        TokenChange.DELETED,
                        now,
                        customer_id=customer_id,
                        instrument_identifier_id=ii_id,
                    )
                )
            for ii_id in sorted({ii_id for _, ii_id in linked}):
                if not uow.payment_instruments.count_for_instrument_identifier(ii_id):
                    uow.audit.record("instrumentIdentifier.delete", II, ii_id, cascade=True)
                    delete_card(uow, uow.instrument_identifiers.get(ii_id), now)
            for address_id in uow.shipping_addresses.remove_for_customer(customer_id, now):
                uow.audit.record("shippingAddress.delete", ADDRESS, address_id, cascade=True)
                uow.outbox.publish(
                    token_event(
                        TokenType.SHIPPING_ADDRESS,
                        merchant,
                        address_id,
                        TokenChange.DELETED,
                        now,
                        customer_id=customer_id,
                    )
                )
            uow.customers.remove(customer_id, now)
            uow.outbox.publish(resource_event(customer, TokenChange.DELETED, now))
            uow.commit()

    @staticmethod
    def _view(uow: UnitOfWork, customer: Customer) -> CustomerView:
        default_pi = None
        if customer.default_payment_instrument_id:
            pi = uow.payment_instruments.get(customer.default_payment_instrument_id)
            default_pi = pi_view(uow, pi)
        default_address = None
        if customer.default_shipping_address_id:
            default_address = uow.shipping_addresses.get(customer.default_shipping_address_id)
        return CustomerView(customer, default_pi, default_address)


def _require_child(field: str, customer_id: str, owner: Any) -> None:
    try:
        belongs = owner() == customer_id
    except (NotFound, NotAvailable):
        belongs = False
    if not belongs:
        raise invalid_field(field, f"{field} must name one of this customer's own tokens.")


class ShippingAddressService(VaultService):
    def __init__(self, uow: UnitOfWorkFactory, clock: Clock) -> None:
        super().__init__(uow)
        self._clock = clock

    def create(
        self,
        tenant: Tenant,
        customer_id: str,
        attributes: Mapping[str, Any],
        make_default: bool = False,
    ) -> ShippingAddress:
        with self._writing(tenant) as uow:
            customer = uow.customers.get(customer_id)
            address = ShippingAddress(
                id=ids.new_token_id(),
                merchant_id=tenant.merchant_id,
                customer_id=customer_id,
                attributes=dict(attributes),
                created_at=self._clock.now(),
            )
            uow.shipping_addresses.add(address)
            uow.audit.record("shippingAddress.create", ADDRESS, address.id, customer=customer_id)
            now = address.created_at
            uow.outbox.publish(resource_event(address, TokenChange.CREATED, now))
            if make_default or customer.default_shipping_address_id is None:
                set_default = replace(customer, default_shipping_address_id=address.id)
                uow.customers.update(set_default, customer.version)
                uow.outbox.publish(resource_event(set_default, TokenChange.UPDATED, now))
                address = replace(address, is_default=True)
            uow.commit()
        return address

    def retrieve(self, tenant: Tenant, customer_id: str, address_id: str) -> ShippingAddress:
        with self._reading(tenant) as uow:
            uow.audit.record("shippingAddress.read", ADDRESS, address_id, customer=customer_id)
            return self._get(uow, customer_id, address_id)

    def update(
        self,
        tenant: Tenant,
        customer_id: str,
        address_id: str,
        patch: Mapping[str, Any],
        if_match: str | None,
        make_default: bool = False,
    ) -> ShippingAddress:
        with self._writing(tenant) as uow:
            uow.audit.record("shippingAddress.update", ADDRESS, address_id, customer=customer_id)
            current = self._get(uow, customer_id, address_id)
            check_if_match(if_match, current.version)
            updated = replace(
                current,
                attributes=merge_attributes(current.attributes, patch),
                version=current.version + 1,
            )
            uow.shipping_addresses.update(updated, current.version)
            now = self._clock.now()
            uow.outbox.publish(resource_event(updated, TokenChange.UPDATED, now))
            if make_default and not current.is_default:
                customer = uow.customers.get(customer_id)
                set_default = replace(customer, default_shipping_address_id=address_id)
                uow.customers.update(set_default, customer.version)
                uow.outbox.publish(resource_event(set_default, TokenChange.UPDATED, now))
                updated = replace(updated, is_default=True)
            uow.commit()
        return updated

    def delete(self, tenant: Tenant, customer_id: str, address_id: str) -> None:
        with self._writing(tenant) as uow:
            uow.audit.record("shippingAddress.delete", ADDRESS, address_id, customer=customer_id)
            address = self._get(uow, customer_id, address_id)
            now = self._clock.now()
            if address.is_default:
                if uow.shipping_addresses.count_for_customer(customer_id) > 1:
                    raise DefaultInUse(
                        "Action cannot be performed as the ShippingAddress is the customers default"
                    )
                customer = uow.customers.get(customer_id)
                cleared = replace(customer, default_shipping_address_id=None)
                uow.customers.update(cleared, customer.version)
                uow.outbox.publish(resource_event(cleared, TokenChange.UPDATED, now))
            uow.shipping_addresses.remove(address_id, now)
            uow.outbox.publish(resource_event(address, TokenChange.DELETED, now))
            uow.commit()

    def list_for_customer(self, tenant: Tenant, customer_id: str, offset: int, limit: int) -> Page:
        with self._reading(tenant) as uow:
            uow.audit.record("shippingAddress.list", ADDRESS, (), customer=customer_id)
            customer = uow.customers.get(customer_id)
            return uow.shipping_addresses.list_for_customer(
                customer_id, customer.default_shipping_address_id, offset, limit
            )

    @staticmethod
    def _get(uow: UnitOfWork, customer_id: str, address_id: str) -> ShippingAddress:
        uow.customers.get(customer_id)
        address = uow.shipping_addresses.get(address_id)
        if address.customer_id != customer_id:
            raise NotFound()
        return address
