"""The vault resources of :class:`AsyncClient`: the twins of ``_resources``,
with the same methods, parameters and results, as coroutines. Each runs the
same operation of ``_operations``; the docstrings are the sync twin's (copied
by ``twin_of``)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from opentms.client import _operations as ops
from opentms.client import _resources as sync

if TYPE_CHECKING:
    from opentms.client._client import AsyncClient
    from opentms.client._models import (
        Customer,
        CustomerRequest,
        InstrumentIdentifier,
        InstrumentIdentifierRequest,
        PaymentInstrument,
        PaymentInstrumentList,
        PaymentInstrumentRequest,
        ShippingAddress,
        ShippingAddressList,
        ShippingAddressRequest,
    )

Wire = Mapping[str, Any]
_C = TypeVar("_C", bound=type)


def twin_of(sync_class: type) -> Callable[[_C], _C]:
    """Give the async class the sync twin's docstrings."""

    def decorate(cls: _C) -> _C:
        cls.__doc__ = f"The async twin of :class:`{sync_class.__name__}`.\n\n{sync_class.__doc__}"
        for name, member in vars(cls).items():
            twin = getattr(sync_class, name, None)
            if callable(member) and not name.startswith("_") and twin is not None:
                member.__doc__ = twin.__doc__
        return cls

    return decorate


class AsyncResource:
    def __init__(self, client: AsyncClient) -> None:
        self._client = client


@twin_of(sync.InstrumentIdentifiers)
class AsyncInstrumentIdentifiers(AsyncResource):
    async def create(
        self,
        request: InstrumentIdentifierRequest | Wire,
        *,
        retrieve_bin_details: bool = False,
        profile_id: str | None = None,
    ) -> InstrumentIdentifier:
        operation = ops.post_instrument_identifier(request, retrieve_bin_details, profile_id)
        return await self._client._run(operation)

    async def get(
        self,
        instrument_identifier_id: str,
        *,
        retrieve_bin_details: bool = False,
        profile_id: str | None = None,
    ) -> InstrumentIdentifier:
        return await self._client._run(
            ops.get_instrument_identifier(
                instrument_identifier_id, retrieve_bin_details, profile_id
            )
        )

    async def update(
        self,
        instrument_identifier_id: str,
        request: InstrumentIdentifierRequest | Wire,
        *,
        if_match: str | None = None,
        retrieve_bin_details: bool = False,
        profile_id: str | None = None,
    ) -> InstrumentIdentifier:
        return await self._client._run(
            ops.patch_instrument_identifier(
                instrument_identifier_id, request, if_match, retrieve_bin_details, profile_id
            )
        )

    async def delete(self, instrument_identifier_id: str, *, profile_id: str | None = None) -> None:
        await self._client._run(
            ops.delete_instrument_identifier(instrument_identifier_id, profile_id)
        )

    async def list_payment_instruments(
        self,
        instrument_identifier_id: str,
        *,
        offset: int = 0,
        limit: int = 20,
        retrieve_bin_details: bool = False,
        profile_id: str | None = None,
    ) -> PaymentInstrumentList:
        return await self._client._run(
            ops.get_instrument_identifier_payment_instruments_list(
                instrument_identifier_id, offset, limit, retrieve_bin_details, profile_id
            )
        )

    async def enroll(
        self,
        instrument_identifier_id: str,
        request: InstrumentIdentifierRequest | Wire | None = None,
        *,
        profile_id: str | None = None,
    ) -> bool:
        return await self._client._run(
            ops.post_instrument_identifier_enrollment(instrument_identifier_id, request, profile_id)
        )


@twin_of(sync.PaymentInstruments)
class AsyncPaymentInstruments(AsyncResource):
    async def create(
        self,
        request: PaymentInstrumentRequest | Wire,
        *,
        retrieve_bin_details: bool = False,
        profile_id: str | None = None,
    ) -> PaymentInstrument:
        operation = ops.post_payment_instrument(request, retrieve_bin_details, profile_id)
        return await self._client._run(operation)

    async def get(
        self,
        payment_instrument_id: str,
        *,
        retrieve_bin_details: bool = False,
        profile_id: str | None = None,
    ) -> PaymentInstrument:
        operation = ops.get_payment_instrument(
            payment_instrument_id, retrieve_bin_details, profile_id
        )
        return await self._client._run(operation)

    async def update(
        self,
        payment_instrument_id: str,
        request: PaymentInstrumentRequest | Wire,
        *,
        if_match: str | None = None,
        retrieve_bin_details: bool = False,
        profile_id: str | None = None,
    ) -> PaymentInstrument:
        return await self._client._run(
            ops.patch_payment_instrument(
                payment_instrument_id, request, if_match, retrieve_bin_details, profile_id
            )
        )

    async def delete(self, payment_instrument_id: str, *, profile_id: str | None = None) -> None:
        await self._client._run(ops.delete_payment_instrument(payment_instrument_id, profile_id))


@twin_of(sync.CustomerPaymentInstruments)
class AsyncCustomerPaymentInstruments(AsyncResource):
    async def create(
        self,
        customer_id: str,
        request: PaymentInstrumentRequest | Wire,
        *,
        profile_id: str | None = None,
    ) -> PaymentInstrument:
        operation = ops.post_customer_payment_instrument(customer_id, request, profile_id)
        return await self._client._run(operation)

    async def list(
        self, customer_id: str, *, offset: int = 0, limit: int = 20, profile_id: str | None = None
    ) -> PaymentInstrumentList:
        operation = ops.get_customer_payment_instruments_list(
            customer_id, offset, limit, profile_id
        )
        return await self._client._run(operation)

    async def get(
        self, customer_id: str, payment_instrument_id: str, *, profile_id: str | None = None
    ) -> PaymentInstrument:
        operation = ops.get_customer_payment_instrument(
            customer_id, payment_instrument_id, profile_id
        )
        return await self._client._run(operation)

    async def update(
        self,
        customer_id: str,
        payment_instrument_id: str,
        request: PaymentInstrumentRequest | Wire,
        *,
        if_match: str | None = None,
        profile_id: str | None = None,
    ) -> PaymentInstrument:
        return await self._client._run(
            ops.patch_customers_payment_instrument(
                customer_id, payment_instrument_id, request, if_match, profile_id
            )
        )

    async def delete(
        self, customer_id: str, payment_instrument_id: str, *, profile_id: str | None = None
    ) -> None:
        await self._client._run(
            ops.delete_customer_payment_instrument(customer_id, payment_instrument_id, profile_id)
        )


@twin_of(sync.CustomerShippingAddresses)
class AsyncCustomerShippingAddresses(AsyncResource):
    async def create(
        self,
        customer_id: str,
        request: ShippingAddressRequest | Wire,
        *,
        profile_id: str | None = None,
    ) -> ShippingAddress:
        operation = ops.post_customer_shipping_address(customer_id, request, profile_id)
        return await self._client._run(operation)

    async def list(
        self, customer_id: str, *, offset: int = 0, limit: int = 20, profile_id: str | None = None
    ) -> ShippingAddressList:
        operation = ops.get_customer_shipping_addresses_list(customer_id, offset, limit, profile_id)
        return await self._client._run(operation)

    async def get(
        self, customer_id: str, shipping_address_id: str, *, profile_id: str | None = None
    ) -> ShippingAddress:
        operation = ops.get_customer_shipping_address(customer_id, shipping_address_id, profile_id)
        return await self._client._run(operation)

    async def update(
        self,
        customer_id: str,
        shipping_address_id: str,
        request: ShippingAddressRequest | Wire,
        *,
        if_match: str | None = None,
        profile_id: str | None = None,
    ) -> ShippingAddress:
        return await self._client._run(
            ops.patch_customers_shipping_address(
                customer_id, shipping_address_id, request, if_match, profile_id
            )
        )

    async def delete(
        self, customer_id: str, shipping_address_id: str, *, profile_id: str | None = None
    ) -> None:
        await self._client._run(
            ops.delete_customer_shipping_address(customer_id, shipping_address_id, profile_id)
        )


@twin_of(sync.Customers)
class AsyncCustomers(AsyncResource):
    def __init__(self, client: AsyncClient) -> None:
        super().__init__(client)
        self.payment_instruments = AsyncCustomerPaymentInstruments(client)
        self.shipping_addresses = AsyncCustomerShippingAddresses(client)

    async def create(
        self, request: CustomerRequest | Wire, *, profile_id: str | None = None
    ) -> Customer:
        return await self._client._run(ops.post_customer(request, profile_id))

    async def get(self, customer_id: str, *, profile_id: str | None = None) -> Customer:
        return await self._client._run(ops.get_customer(customer_id, profile_id))

    async def update(
        self,
        customer_id: str,
        request: CustomerRequest | Wire,
        *,
        if_match: str | None = None,
        profile_id: str | None = None,
    ) -> Customer:
        return await self._client._run(
            ops.patch_customer(customer_id, request, if_match, profile_id)
        )

    async def delete(self, customer_id: str, *, profile_id: str | None = None) -> None:
        await self._client._run(ops.delete_customer(customer_id, profile_id))
