"""The vault resources of the synchronous :class:`Client`: instrument
identifiers, payment instruments, customers and their payment instruments and
shipping addresses. Each method runs one operation of ``_operations``.

Every method also takes ``profile_id`` (keyword): the ``profile-id`` header,
default the client's profile; an unknown profile raises ``FailedDependency``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from opentms.client import _operations as ops

if TYPE_CHECKING:
    from opentms.client._client import Client
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


class SyncResource:
    def __init__(self, client: Client) -> None:
        self._client = client


class InstrumentIdentifiers(SyncResource):
    """``client.instrument_identifiers``: cards stored once per merchant
    (``/tms/v1/instrumentidentifiers``).

    ```python
    ii = client.instrument_identifiers.create({"card": {"number": "4111111111111111"}})
    ii = client.instrument_identifiers.update(ii.id, {...}, if_match=ii.etag)
    ```
    """

    def create(
        self,
        request: InstrumentIdentifierRequest | Wire,
        *,
        retrieve_bin_details: bool = False,
        profile_id: str | None = None,
    ) -> InstrumentIdentifier:
        """Store a card. A card the merchant already has answers its existing
        instrument identifier with ``status_code`` 200 (new ones: 201).

        **Parameters:**

        * **request** - an ``InstrumentIdentifierRequest``, or a dict in wire (camelCase) form.
        * **retrieve_bin_details** - add BIN details (``embedded.bin_lookup``).
        """
        return self._client._run(
            ops.post_instrument_identifier(request, retrieve_bin_details, profile_id)
        )

    def get(
        self,
        instrument_identifier_id: str,
        *,
        retrieve_bin_details: bool = False,
        profile_id: str | None = None,
    ) -> InstrumentIdentifier:
        """Retrieve an instrument identifier (its ``etag`` is set)."""
        return self._client._run(
            ops.get_instrument_identifier(
                instrument_identifier_id, retrieve_bin_details, profile_id
            )
        )

    def update(
        self,
        instrument_identifier_id: str,
        request: InstrumentIdentifierRequest | Wire,
        *,
        if_match: str | None = None,
        retrieve_bin_details: bool = False,
        profile_id: str | None = None,
    ) -> InstrumentIdentifier:
        """Update an instrument identifier (in practice its
        ``processing_information``). With ``if_match`` (an ``etag``), a
        concurrent change raises ``PreconditionFailed``."""
        return self._client._run(
            ops.patch_instrument_identifier(
                instrument_identifier_id, request, if_match, retrieve_bin_details, profile_id
            )
        )

    def delete(self, instrument_identifier_id: str, *, profile_id: str | None = None) -> None:
        """Delete an instrument identifier. ``Conflict`` while payment instruments use it."""
        self._client._run(ops.delete_instrument_identifier(instrument_identifier_id, profile_id))

    def list_payment_instruments(
        self,
        instrument_identifier_id: str,
        *,
        offset: int = 0,
        limit: int = 20,
        retrieve_bin_details: bool = False,
        profile_id: str | None = None,
    ) -> PaymentInstrumentList:
        """One page of the payment instruments that use this card.

        **Parameters:** **offset** - items to skip; **limit** - page size, 1 to 100.
        """
        return self._client._run(
            ops.get_instrument_identifier_payment_instruments_list(
                instrument_identifier_id, offset, limit, retrieve_bin_details, profile_id
            )
        )

    def enroll(
        self,
        instrument_identifier_id: str,
        request: InstrumentIdentifierRequest | Wire | None = None,
        *,
        profile_id: str | None = None,
    ) -> bool:
        """Ask the card network for a network token for this card. ``True``:
        provisioning was submitted (202); ``False``: the card already has a
        usable network token (204).

        **Parameters:** **request** - optional, e.g. ``{"type": "enrollable card",
        "card": {"expirationMonth": "12", "expirationYear": "2031"}}``.
        """
        return self._client._run(
            ops.post_instrument_identifier_enrollment(instrument_identifier_id, request, profile_id)
        )


class PaymentInstruments(SyncResource):
    """``client.payment_instruments``: standalone payment instruments
    (``/tms/v1/paymentinstruments``)."""

    def create(
        self,
        request: PaymentInstrumentRequest | Wire,
        *,
        retrieve_bin_details: bool = False,
        profile_id: str | None = None,
    ) -> PaymentInstrument:
        """Create a payment instrument around an instrument identifier (its
        ``id``, or a card to store).

        **Parameters:** **request** - a ``PaymentInstrumentRequest`` or its wire-form dict.
        """
        return self._client._run(
            ops.post_payment_instrument(request, retrieve_bin_details, profile_id)
        )

    def get(
        self,
        payment_instrument_id: str,
        *,
        retrieve_bin_details: bool = False,
        profile_id: str | None = None,
    ) -> PaymentInstrument:
        """Retrieve a payment instrument (its ``etag`` is set)."""
        return self._client._run(
            ops.get_payment_instrument(payment_instrument_id, retrieve_bin_details, profile_id)
        )

    def update(
        self,
        payment_instrument_id: str,
        request: PaymentInstrumentRequest | Wire,
        *,
        if_match: str | None = None,
        retrieve_bin_details: bool = False,
        profile_id: str | None = None,
    ) -> PaymentInstrument:
        """Update a payment instrument; only the fields sent change, and an
        explicit ``None`` removes one. ``if_match``: see ``PreconditionFailed``."""
        return self._client._run(
            ops.patch_payment_instrument(
                payment_instrument_id, request, if_match, retrieve_bin_details, profile_id
            )
        )

    def delete(self, payment_instrument_id: str, *, profile_id: str | None = None) -> None:
        """Delete a payment instrument."""
        self._client._run(ops.delete_payment_instrument(payment_instrument_id, profile_id))


class CustomerPaymentInstruments(SyncResource):
    """``client.customers.payment_instruments``: a customer's payment
    instruments (``/tms/v2/customers/{id}/payment-instruments``)."""

    def create(
        self,
        customer_id: str,
        request: PaymentInstrumentRequest | Wire,
        *,
        profile_id: str | None = None,
    ) -> PaymentInstrument:
        """Add a payment instrument to a customer; ``default=True`` (or being
        the first) makes it the default."""
        return self._client._run(
            ops.post_customer_payment_instrument(customer_id, request, profile_id)
        )

    def list(
        self,
        customer_id: str,
        *,
        offset: int = 0,
        limit: int = 20,
        profile_id: str | None = None,
    ) -> PaymentInstrumentList:
        """One page of the customer's payment instruments, the default first.

        **Parameters:** **offset** - items to skip; **limit** - page size, 1 to 100.
        """
        return self._client._run(
            ops.get_customer_payment_instruments_list(customer_id, offset, limit, profile_id)
        )

    def get(
        self, customer_id: str, payment_instrument_id: str, *, profile_id: str | None = None
    ) -> PaymentInstrument:
        """Retrieve one of the customer's payment instruments."""
        return self._client._run(
            ops.get_customer_payment_instrument(customer_id, payment_instrument_id, profile_id)
        )

    def update(
        self,
        customer_id: str,
        payment_instrument_id: str,
        request: PaymentInstrumentRequest | Wire,
        *,
        if_match: str | None = None,
        profile_id: str | None = None,
    ) -> PaymentInstrument:
        """Update one of the customer's payment instruments (``default=True``
        makes it the default)."""
        return self._client._run(
            ops.patch_customers_payment_instrument(
                customer_id, payment_instrument_id, request, if_match, profile_id
            )
        )

    def delete(
        self, customer_id: str, payment_instrument_id: str, *, profile_id: str | None = None
    ) -> None:
        """Delete one of the customer's payment instruments. ``Conflict`` for
        the default while the customer has others."""
        self._client._run(
            ops.delete_customer_payment_instrument(customer_id, payment_instrument_id, profile_id)
        )


class CustomerShippingAddresses(SyncResource):
    """``client.customers.shipping_addresses``: a customer's shipping
    addresses (``/tms/v2/customers/{id}/shipping-addresses``)."""

    def create(
        self,
        customer_id: str,
        request: ShippingAddressRequest | Wire,
        *,
        profile_id: str | None = None,
    ) -> ShippingAddress:
        """Add a shipping address to a customer (``default=True`` for the default)."""
        return self._client._run(
            ops.post_customer_shipping_address(customer_id, request, profile_id)
        )

    def list(
        self, customer_id: str, *, offset: int = 0, limit: int = 20, profile_id: str | None = None
    ) -> ShippingAddressList:
        """One page of the customer's shipping addresses, the default first."""
        return self._client._run(
            ops.get_customer_shipping_addresses_list(customer_id, offset, limit, profile_id)
        )

    def get(
        self, customer_id: str, shipping_address_id: str, *, profile_id: str | None = None
    ) -> ShippingAddress:
        """Retrieve one of the customer's shipping addresses."""
        return self._client._run(
            ops.get_customer_shipping_address(customer_id, shipping_address_id, profile_id)
        )

    def update(
        self,
        customer_id: str,
        shipping_address_id: str,
        request: ShippingAddressRequest | Wire,
        *,
        if_match: str | None = None,
        profile_id: str | None = None,
    ) -> ShippingAddress:
        """Update one of the customer's shipping addresses."""
        return self._client._run(
            ops.patch_customers_shipping_address(
                customer_id, shipping_address_id, request, if_match, profile_id
            )
        )

    def delete(
        self, customer_id: str, shipping_address_id: str, *, profile_id: str | None = None
    ) -> None:
        """Delete one of the customer's shipping addresses. ``Conflict`` for
        the default while the customer has others."""
        self._client._run(
            ops.delete_customer_shipping_address(customer_id, shipping_address_id, profile_id)
        )


class Customers(SyncResource):
    """``client.customers``: customers (``/tms/v2/customers``), with their
    ``payment_instruments`` and ``shipping_addresses``.

    ```python
    customer = client.customers.create({"buyerInformation": {"email": "ada@example.com"}})
    client.customers.payment_instruments.create(customer.id, {...})
    ```
    """

    def __init__(self, client: Client) -> None:
        super().__init__(client)
        self.payment_instruments = CustomerPaymentInstruments(client)
        self.shipping_addresses = CustomerShippingAddresses(client)

    def create(self, request: CustomerRequest | Wire, *, profile_id: str | None = None) -> Customer:
        """Create a customer.

        **Parameters:** **request** - a ``CustomerRequest`` or its wire-form dict.
        """
        return self._client._run(ops.post_customer(request, profile_id))

    def get(self, customer_id: str, *, profile_id: str | None = None) -> Customer:
        """Retrieve a customer, with its default payment instrument and
        shipping address in ``embedded`` (its ``etag`` is set)."""
        return self._client._run(ops.get_customer(customer_id, profile_id))

    def update(
        self,
        customer_id: str,
        request: CustomerRequest | Wire,
        *,
        if_match: str | None = None,
        profile_id: str | None = None,
    ) -> Customer:
        """Update a customer, or choose its defaults
        (``default_payment_instrument`` / ``default_shipping_address`` ids)."""
        return self._client._run(ops.patch_customer(customer_id, request, if_match, profile_id))

    def delete(self, customer_id: str, *, profile_id: str | None = None) -> None:
        """Delete a customer with its payment instruments and shipping addresses."""
        self._client._run(ops.delete_customer(customer_id, profile_id))
