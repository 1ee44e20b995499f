"""Wire schemas of customers and their shipping addresses (TMS v2)."""

from __future__ import annotations

from pydantic import AliasChoices, Field, StrictBool, field_validator

from opentms.adapters.http.schemas.common import Address, IdRef, WireModel

MDD_NAMES = frozenset({f"data{i}" for i in range(1, 5)} | {f"sensitive{i}" for i in range(1, 5)})


class CustomerBuyerInformation(WireModel):
    merchant_customer_id: str | None = Field(
        default=None,
        max_length=100,
        validation_alias=AliasChoices("merchantCustomerID", "merchantCustomerId"),
        serialization_alias="merchantCustomerID",
    )
    email: str | None = Field(None, max_length=255)


class ClientReferenceInformation(WireModel):
    code: str | None = Field(None, max_length=50)


class MerchantDefinedField(WireModel):
    name: str | None = Field(None, max_length=60)
    value: str | None = Field(None, max_length=100)

    @field_validator("name")
    @classmethod
    def _known_name(cls, name: str | None) -> str | None:
        if name is not None and name not in MDD_NAMES:
            raise ValueError("must be one of data1..data4 or sensitive1..sensitive4")
        return name


class ObjectInformation(WireModel):
    title: str | None = Field(None, max_length=60)
    comment: str | None = Field(None, max_length=150)


class CustomerCreate(WireModel):
    """PostCustomerRequest / PatchCustomerRequest."""

    object_information: ObjectInformation | None = None
    buyer_information: CustomerBuyerInformation | None = None
    client_reference_information: ClientReferenceInformation | None = None
    merchant_defined_information: list[MerchantDefinedField | None] | None = Field(
        default=None, max_length=8
    )
    default_payment_instrument: IdRef | None = None
    default_shipping_address: IdRef | None = None


CustomerUpdate = CustomerCreate

STORED_FIELDS = frozenset(
    {
        "object_information",
        "buyer_information",
        "client_reference_information",
        "merchant_defined_information",
    }
)


class ShippingAddressCreate(WireModel):
    """PostCustomerShippingAddressRequest / Patch..."""

    default: StrictBool | None = None
    ship_to: Address | None = None


ShippingAddressUpdate = ShippingAddressCreate
