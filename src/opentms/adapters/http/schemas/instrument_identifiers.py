"""Wire schemas of instrument identifiers (TMS v1)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, StrictBool

from opentms.adapters.http.schemas.common import Address, Digits, Month, WireModel, Year


class CardIn(WireModel):
    number: Digits | None = None
    expiration_month: Month | None = None
    expiration_year: Year | None = None
    security_code: str | None = Field(None, max_length=4, min_length=3, pattern=r"^[0-9]+$")


class BankAccountIn(WireModel):
    number: Digits | None = None
    routing_number: Digits | None = None


class TokenProvisioningInformation(WireModel):
    consumer_consent_obtained: StrictBool | None = None
    multi_factor_authenticated: StrictBool | None = None


class EmvTag(WireModel):
    tag: str = Field(pattern=r"^[0-9A-Fa-f]{1,10}$")
    value: str = Field(max_length=64, min_length=1)
    source: Literal["CARD", "TERMINAL"]


class PointOfSaleInformation(WireModel):
    emv_tags: list[EmvTag] | None = Field(default=None, min_length=1, max_length=50)


class MerchantInitiatedTransaction(WireModel):
    previous_transaction_id: str | None = Field(None, max_length=15)
    original_authorized_amount: str | None = Field(
        None, max_length=15, pattern=r"^[0-9]*(\.[0-9]+)?$"
    )


class Initiator(WireModel):
    merchant_initiated_transaction: MerchantInitiatedTransaction | None = None


class AuthorizationOptions(WireModel):
    initiator: Initiator | None = None


class IIProcessingInformation(WireModel):
    authorization_options: AuthorizationOptions | None = None


class InstrumentIdentifierCreate(WireModel):
    """PostInstrumentIdentifierRequest (and Patch..., same shape)."""

    type: Literal["enrollable card", "enrollable token"] | None = None
    source: Literal["CONTACTLESS_TAP"] | None = None
    token_provisioning_information: TokenProvisioningInformation | None = None
    card: CardIn | None = None
    bank_account: BankAccountIn | None = None
    point_of_sale_information: PointOfSaleInformation | None = None
    processing_information: IIProcessingInformation | None = None
    bill_to: Address | None = None


InstrumentIdentifierUpdate = InstrumentIdentifierCreate

# What is kept of a create request besides the card: the card's expiry and
# security code and the billing address are only for the issuer, not stored.
STORED_FIELDS = frozenset(
    {
        "type",
        "source",
        "token_provisioning_information",
        "point_of_sale_information",
        "processing_information",
    }
)
