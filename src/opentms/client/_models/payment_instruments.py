"""Payment instruments: a card's expiry, billing and buyer details around an
instrument identifier, standalone or a customer's."""

from datetime import date

from pydantic import AliasChoices, Field

from opentms.client._models.base import Address, Card, IdRef, Links, Metadata, TMSModel, TMSResponse
from opentms.client._models.instrument_identifiers import (
    BankAccount,
    InstrumentIdentifier,
    InstrumentIdentifierProcessingInformation,
    TokenProvisioningInformation,
)


class TokenizedInformation(TMSModel):
    """``card.tokenizedInformation``: the token requestor and transaction type."""

    requestor_id: str | None = Field(
        default=None,
        validation_alias=AliasChoices("requestorID", "requestorId", "requestor_id"),
        serialization_alias="requestorID",
    )
    transaction_type: str | None = None


class PaymentInstrumentCard(TMSModel):
    """``card`` of a payment instrument: expiry and type, never the number
    (that belongs to the instrument identifier)."""

    expiration_month: str | None = None
    expiration_year: str | None = None
    type: str | None = None
    issue_number: str | None = None
    start_month: str | None = None
    start_year: str | None = None
    use_as: str | None = None
    hash: str | None = None
    tokenized_information: TokenizedInformation | None = None


class PaymentInstrumentBankAccount(TMSModel):
    """``bankAccount.type``: ``checking``, ``savings``, ``corporate checking``..."""

    type: str | None = None


class IssuedBy(TMSModel):
    """``issuedBy``: where an identity document was issued."""

    administrative_area: str | None = None


class PersonalIdentification(TMSModel):
    """An identity document (e.g. ``type="driver license"``)."""

    id: str | None = None
    type: str | None = None
    issued_by: IssuedBy | None = None


class BuyerInformation(TMSModel):
    """``buyerInformation`` of a payment instrument."""

    company_tax_id: str | None = Field(
        default=None,
        validation_alias=AliasChoices("companyTaxID", "companyTaxId", "company_tax_id"),
        serialization_alias="companyTaxID",
    )
    currency: str | None = None
    date_of_birth: date | None = None
    personal_identification: list[PersonalIdentification] | None = None


class BankTransferOptions(TMSModel):
    """``bankTransferOptions``: the ACH standard entry class (``SECCode``)."""

    sec_code: str | None = Field(
        default=None,
        validation_alias=AliasChoices("SECCode", "secCode", "sec_code"),
        serialization_alias="SECCode",
    )


class PaymentInstrumentProcessingInformation(TMSModel):
    """``processingInformation`` of a payment instrument."""

    bill_payment_program_enabled: bool | None = None
    bank_transfer_options: BankTransferOptions | None = None


class MerchantDescriptor(TMSModel):
    """``merchantInformation.merchantDescriptor``."""

    alternate_name: str | None = None
    name: str | None = None
    url: str | None = None


class MerchantInformation(TMSModel):
    """``merchantInformation``: the merchant descriptor."""

    merchant_descriptor: MerchantDescriptor | None = None


class LinkedInstrumentIdentifier(TMSModel):
    """``instrumentIdentifier`` of a payment instrument: the ``id`` of an
    existing one, or a ``card`` (or bank account) to store or reuse."""

    id: str | None = None
    type: str | None = None
    card: Card | None = None
    bank_account: BankAccount | None = None
    processing_information: InstrumentIdentifierProcessingInformation | None = None
    token_provisioning_information: TokenProvisioningInformation | None = None
    bill_to: Address | None = None


class PaymentInstrumentEmbedded(TMSModel):
    """``_embedded`` of a payment instrument: its instrument identifier."""

    instrument_identifier: InstrumentIdentifier | None = None


class PaymentInstrumentRequest(TMSModel):
    """The body that creates or updates a payment instrument, standalone or a
    customer's (PostPaymentInstrumentRequest, PostCustomerPaymentInstrumentRequest
    and their Patch twins). ``default=True`` makes it the customer's default.

    ```python
    PaymentInstrumentRequest(
        card=PaymentInstrumentCard(expiration_month="12", expiration_year="2031"),
        bill_to=Address(first_name="Ada", last_name="Lovelace", country="GB"),
        instrument_identifier=LinkedInstrumentIdentifier(card=Card(number="4111111111111111")),
    )
    ```
    """

    default: bool | None = None
    card: PaymentInstrumentCard | None = None
    bank_account: PaymentInstrumentBankAccount | None = None
    buyer_information: BuyerInformation | None = None
    bill_to: Address | None = None
    processing_information: PaymentInstrumentProcessingInformation | None = None
    merchant_information: MerchantInformation | None = None
    instrument_identifier: LinkedInstrumentIdentifier | None = None


class PaymentInstrument(TMSResponse):
    """A payment instrument; ``embedded.instrument_identifier`` is its card."""

    links: Links | None = Field(default=None, alias="_links")
    id: str
    object: str | None = None
    default: bool | None = None
    state: str | None = None
    type: str | None = None
    card: PaymentInstrumentCard | None = None
    bank_account: PaymentInstrumentBankAccount | None = None
    buyer_information: BuyerInformation | None = None
    bill_to: Address | None = None
    processing_information: PaymentInstrumentProcessingInformation | None = None
    merchant_information: MerchantInformation | None = None
    instrument_identifier: IdRef | None = None
    metadata: Metadata | None = None
    embedded: PaymentInstrumentEmbedded | None = Field(default=None, alias="_embedded")


class PaymentInstrumentListEmbedded(TMSModel):
    """``_embedded`` of a payment-instrument list."""

    payment_instruments: list[PaymentInstrument] | None = None


class PaymentInstrumentList(TMSResponse):
    """A page of payment instruments: ``offset``, ``limit``, ``count`` (on
    this page), ``total``, and ``items``; ``links`` has ``next`` while more remain."""

    links: Links | None = Field(default=None, alias="_links")
    offset: int | None = None
    limit: int | None = None
    count: int | None = None
    total: int | None = None
    embedded: PaymentInstrumentListEmbedded | None = Field(default=None, alias="_embedded")

    @property
    def items(self) -> list[PaymentInstrument]:
        """The payment instruments on this page (the default one first)."""
        if self.embedded is None or self.embedded.payment_instruments is None:
            return []
        return self.embedded.payment_instruments


__all__ = [
    "BankTransferOptions",
    "BuyerInformation",
    "IssuedBy",
    "LinkedInstrumentIdentifier",
    "MerchantDescriptor",
    "MerchantInformation",
    "PaymentInstrument",
    "PaymentInstrumentBankAccount",
    "PaymentInstrumentCard",
    "PaymentInstrumentEmbedded",
    "PaymentInstrumentList",
    "PaymentInstrumentListEmbedded",
    "PaymentInstrumentProcessingInformation",
    "PaymentInstrumentRequest",
    "PersonalIdentification",
    "TokenizedInformation",
]
