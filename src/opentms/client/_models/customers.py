"""Customers and their shipping addresses."""

from pydantic import AliasChoices, Field

from opentms.client._models.base import Address, IdRef, Links, Metadata, TMSModel, TMSResponse
from opentms.client._models.payment_instruments import PaymentInstrument


class CustomerBuyerInformation(TMSModel):
    """``buyerInformation`` of a customer."""

    merchant_customer_id: str | None = Field(
        default=None,
        validation_alias=AliasChoices(
            "merchantCustomerID", "merchantCustomerId", "merchant_customer_id"
        ),
        serialization_alias="merchantCustomerID",
    )
    email: str | None = None


class ClientReferenceInformation(TMSModel):
    """``clientReferenceInformation.code``: your reference for the customer."""

    code: str | None = None


class MerchantDefinedInformation(TMSModel):
    """One merchant-defined field: ``name`` ``data1``..``data4`` or
    ``sensitive1``..``sensitive4``, and its ``value``."""

    name: str | None = None
    value: str | None = None


class ObjectInformation(TMSModel):
    """``objectInformation``: a title and comment for the customer."""

    title: str | None = None
    comment: str | None = None


class CustomerRequest(TMSModel):
    """The body of ``customers.create`` and ``customers.update``
    (PostCustomerRequest / PatchCustomerRequest). On update,
    ``default_payment_instrument`` and ``default_shipping_address`` choose the defaults.

    ```python
    CustomerRequest(
        buyer_information=CustomerBuyerInformation(merchant_customer_id="c-42"),
        client_reference_information=ClientReferenceInformation(code="signup"),
    )
    ```
    """

    object_information: ObjectInformation | None = None
    buyer_information: CustomerBuyerInformation | None = None
    client_reference_information: ClientReferenceInformation | None = None
    merchant_defined_information: list[MerchantDefinedInformation] | None = None
    default_payment_instrument: IdRef | None = None
    default_shipping_address: IdRef | None = None


class ShippingAddressRequest(TMSModel):
    """The body that creates or updates a shipping address; ``default=True``
    makes it the customer's default."""

    default: bool | None = None
    ship_to: Address | None = None


class ShippingAddress(TMSResponse):
    """A customer's shipping address."""

    links: Links | None = Field(default=None, alias="_links")
    id: str
    default: bool | None = None
    ship_to: Address | None = None
    metadata: Metadata | None = None


class ShippingAddressListEmbedded(TMSModel):
    """``_embedded`` of a shipping-address list."""

    shipping_addresses: list[ShippingAddress] | None = None


class ShippingAddressList(TMSResponse):
    """A page of shipping addresses: ``offset``, ``limit``, ``count``, ``total``, ``items``."""

    links: Links | None = Field(default=None, alias="_links")
    offset: int | None = None
    limit: int | None = None
    count: int | None = None
    total: int | None = None
    embedded: ShippingAddressListEmbedded | None = Field(default=None, alias="_embedded")

    @property
    def items(self) -> list[ShippingAddress]:
        """The shipping addresses on this page (the default one first)."""
        if self.embedded is None or self.embedded.shipping_addresses is None:
            return []
        return self.embedded.shipping_addresses


class CustomerEmbedded(TMSModel):
    """``_embedded`` of a customer: its default payment instrument and address."""

    default_payment_instrument: PaymentInstrument | None = None
    default_shipping_address: ShippingAddress | None = None


class Customer(TMSResponse):
    """A customer; ``embedded`` holds its default payment instrument and
    shipping address in full."""

    links: Links | None = Field(default=None, alias="_links")
    id: str
    object_information: ObjectInformation | None = None
    buyer_information: CustomerBuyerInformation | None = None
    client_reference_information: ClientReferenceInformation | None = None
    merchant_defined_information: list[MerchantDefinedInformation] | None = None
    default_payment_instrument: IdRef | None = None
    default_shipping_address: IdRef | None = None
    metadata: Metadata | None = None
    embedded: CustomerEmbedded | None = Field(default=None, alias="_embedded")


__all__ = [
    "ClientReferenceInformation",
    "Customer",
    "CustomerBuyerInformation",
    "CustomerEmbedded",
    "CustomerRequest",
    "MerchantDefinedInformation",
    "ObjectInformation",
    "ShippingAddress",
    "ShippingAddressList",
    "ShippingAddressListEmbedded",
    "ShippingAddressRequest",
]
