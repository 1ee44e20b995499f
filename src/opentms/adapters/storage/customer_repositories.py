"""SQL repositories of customers and their shipping addresses."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Row, update

from opentms.adapters.storage.repositories import MerchantScopedTable
from opentms.adapters.storage.tables import customers, shipping_addresses
from opentms.domain.resources import Customer, Page, ShippingAddress


class SQLCustomerRepository(MerchantScopedTable):
    table = customers
    label = "customer"

    def add(self, customer: Customer) -> None:
        self._conn.execute(
            self.table.insert(),
            {
                "id": customer.id,
                "merchant_id": customer.merchant_id,
                "attributes_sealed": self._seal(customer.id, customer.attributes),
                "default_payment_instrument_id": customer.default_payment_instrument_id,
                "default_shipping_address_id": customer.default_shipping_address_id,
                "version": customer.version,
                "created_at": customer.created_at,
                "updated_at": customer.created_at,
            },
        )

    def get(self, customer_id: str) -> Customer:
        row = self._row(customer_id)
        return Customer(
            id=row.id,
            merchant_id=row.merchant_id,
            attributes=self._unseal(row.id, row.attributes_sealed),
            created_at=row.created_at,
            default_payment_instrument_id=row.default_payment_instrument_id,
            default_shipping_address_id=row.default_shipping_address_id,
            version=row.version,
        )

    def update(self, customer: Customer, expected_version: int) -> None:
        self._update(
            customer.id,
            expected_version,
            {
                "attributes_sealed": self._seal(customer.id, customer.attributes),
                "default_payment_instrument_id": customer.default_payment_instrument_id,
                "default_shipping_address_id": customer.default_shipping_address_id,
            },
        )

    def remove(self, customer_id: str, now: datetime) -> None:
        self._tombstone(
            customer_id,
            now,
            default_payment_instrument_id=None,
            default_shipping_address_id=None,
        )


class SQLShippingAddressRepository(MerchantScopedTable):
    table = shipping_addresses
    label = "shippingAddress"
    default_column = "default_shipping_address_id"

    def add(self, address: ShippingAddress) -> None:
        self._conn.execute(
            self.table.insert(),
            {
                "id": address.id,
                "merchant_id": address.merchant_id,
                "customer_id": address.customer_id,
                "attributes_sealed": self._seal(address.id, address.attributes),
                "version": address.version,
                "created_at": address.created_at,
                "updated_at": address.created_at,
            },
        )

    def get(self, address_id: str) -> ShippingAddress:
        return self._to_domain(self._row(address_id, with_default=True))

    def update(self, address: ShippingAddress, expected_version: int) -> None:
        self._update(
            address.id,
            expected_version,
            {"attributes_sealed": self._seal(address.id, address.attributes)},
        )

    def remove(self, address_id: str, now: datetime) -> None:
        self._tombstone(address_id, now)

    def count_for_customer(self, customer_id: str) -> int:
        return self._count(self.table.c.customer_id == customer_id)

    def list_for_customer(
        self, customer_id: str, default_id: str | None, offset: int, limit: int
    ) -> Page:
        return self._list(self.table.c.customer_id == customer_id, default_id, offset, limit)

    def remove_for_customer(self, customer_id: str, now: datetime) -> list[str]:
        """Remove a customer's live addresses; their ids (in id order)."""
        ids = self._conn.execute(
            update(self.table)
            .where(self._live(), self.table.c.customer_id == customer_id)
            .values(
                attributes_sealed=None,
                deleted_at=now,
                updated_at=now,
            )
            .returning(self.table.c.id)
        ).scalars()
        return sorted(ids)

    def _to_domain(self, row: Row[Any]) -> ShippingAddress:
        return ShippingAddress(
            id=row.id,
            merchant_id=row.merchant_id,
            customer_id=row.customer_id,
            attributes=self._unseal(row.id, row.attributes_sealed),
            created_at=row.created_at,
            is_default=bool(row.is_default),
            version=row.version,
        )
