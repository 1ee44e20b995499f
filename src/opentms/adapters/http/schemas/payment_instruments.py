"""Wire schemas of payment instruments (standalone TMS v1 and customer-scoped v2)."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import AliasChoices, Field, StrictBool

from opentms.adapters.http.schemas.common import Address, IdRef, Month, WireModel, Year
from opentms.adapters.http.schemas.instrument_identifiers import (
    BankAccountIn,
    CardIn,
    IIProcessingInformation,
    TokenProvisioningInformation,
)


class TokenizedInformation(WireModel):
    requestor_id: str | None = Field(
        default=None,
        max_length=11,
        validation_alias=AliasChoices("requestorID", "requestorId"),
        serialization_alias="requestorID",
    )
    transaction_type: str | None = Field(None, max_length=1)


class PICard(WireModel):
    expiration_month: Month | None = None
    expiration_year: Year | None = None
    type: str | None = Field(None, max_length=25)
    issue_number: str | None = Field(None, max_length=2)
    start_month: Month | None = None
    start_year: Year | None = None
    use_as: str | None = Field(None, max_length=20)
    tokenized_information: TokenizedInformation | None = None


class PIBankAccount(WireModel):
    type: str | None = Field(None, max_length=18)


class IssuedBy(WireModel):
    administrative_area: str | None = Field(None, max_length=20)


class PersonalIdentification(WireModel):
    id: str | None = Field(None, max_length=26)
    type: str | None = Field(None, max_length=50)
    issued_by: IssuedBy | None = None


class BuyerInformation(WireModel):
    company_tax_id: str | None = Field(
        default=None,
        max_length=9,
        validation_alias=AliasChoices("companyTaxID", "companyTaxId"),
        serialization_alias="companyTaxID",
    )
    currency: str | None = Field(None, max_length=3, min_length=3, pattern=r"^[A-Za-z]{3}$")
    date_of_birth: date | None = None
    personal_identification: list[PersonalIdentification] | None = None


class BankTransferOptions(WireModel):
    sec_code: str | None = Field(
        default=None,
        max_length=3,
        validation_alias=AliasChoices("SECCode", "secCode"),
        serialization_alias="SECCode",
    )


class PIProcessingInformation(WireModel):
    bill_payment_program_enabled: StrictBool | None = None
    bank_transfer_options: BankTransferOptions | None = None


class MerchantDescriptor(WireModel):
    alternate_name: str | None = Field(None, max_length=100)


class MerchantInformation(WireModel):
    merchant_descriptor: MerchantDescriptor | None = None


class InlineInstrumentIdentifier(WireModel):
    """``instrumentIdentifier``: an id, or a card to store (or reuse)."""

    id: str | None = Field(None, max_length=32, min_length=1, pattern=r"^[0-9A-Za-z]+$")
    type: Literal["enrollable card", "enrollable token"] | None = None
    card: CardIn | None = None
    bank_account: BankAccountIn | None = None
    processing_information: IIProcessingInformation | None = None
    token_provisioning_information: TokenProvisioningInformation | None = None
    bill_to: Address | None = None


class PaymentInstrumentCreate(WireModel):
    """PostPaymentInstrumentRequest / PostCustomerPaymentInstrumentRequest."""

    default: StrictBool | None = None
    card: PICard | None = None
    bank_account: PIBankAccount | None = None
    buyer_information: BuyerInformation | None = None
    bill_to: Address | None = None
    processing_information: PIProcessingInformation | None = None
    merchant_information: MerchantInformation | None = None
    instrument_identifier: InlineInstrumentIdentifier | None = None


PaymentInstrumentUpdate = PaymentInstrumentCreate

# Fields kept as the instrument's attributes (the rest are relations).
STORED_FIELDS = frozenset(
    {
        "card",
        "bank_account",
        "buyer_information",
        "bill_to",
        "processing_information",
        "merchant_information",
    }
)

__all__ = ["IdRef", "InlineInstrumentIdentifier", "PaymentInstrumentCreate"]
