"""Instrument identifiers: a card (or bank account) stored once per merchant."""

from typing import Any

from pydantic import Field

from opentms.client._models.base import (
    Address,
    Card,
    Issuer,
    Links,
    Metadata,
    TMSModel,
    TMSResponse,
)
from opentms.client._models.tokenized_cards import TokenizedCard


class BankAccount(TMSModel):
    """``bankAccount`` of an instrument identifier: account and routing number."""

    number: str | None = Field(default=None, repr=False)
    routing_number: str | None = None


class TokenProvisioningInformation(TMSModel):
    """``tokenProvisioningInformation`` (India): consent and MFA flags."""

    consumer_consent_obtained: bool | None = None
    multi_factor_authenticated: bool | None = None


class EmvTag(TMSModel):
    """One ``pointOfSaleInformation.emvTags[]`` entry."""

    tag: str | None = None
    value: str | None = None
    source: str | None = None


class PointOfSaleInformation(TMSModel):
    """``pointOfSaleInformation``: EMV tags read at the terminal."""

    emv_tags: list[EmvTag] | None = None


class MerchantInitiatedTransaction(TMSModel):
    """The first transaction of a series, for merchant-initiated ones."""

    previous_transaction_id: str | None = None
    original_authorized_amount: str | None = None


class Initiator(TMSModel):
    """``initiator``: the merchant-initiated transaction it belongs to."""

    merchant_initiated_transaction: MerchantInitiatedTransaction | None = None


class AuthorizationOptions(TMSModel):
    """``authorizationOptions``: who initiated the transaction."""

    initiator: Initiator | None = None


class InstrumentIdentifierProcessingInformation(TMSModel):
    """``processingInformation`` of an instrument identifier."""

    authorization_options: AuthorizationOptions | None = None


class BinCard(TMSModel):
    """``binLookup.paymentAccountInformation.card``."""

    type: str | None = None
    brand_name: str | None = None
    currency: str | None = None
    max_length: str | None = None
    credential_type: str | None = None
    brands: list[dict[str, Any]] | None = None


class PaymentAccountInformation(TMSModel):
    """``binLookup.paymentAccountInformation``: card, features and network."""

    card: BinCard | None = None
    features: dict[str, Any] | None = None
    network: dict[str, Any] | None = None


class IssuerInformation(TMSModel):
    """``binLookup.issuerInformation``."""

    name: str | None = None
    country: str | None = None
    bin_length: str | None = None
    account_prefix: str | None = None
    phone_number: str | None = None


class BinLookup(TMSModel):
    """BIN details (``_embedded.binLookup``), with ``retrieve_bin_details=True``."""

    payment_account_information: PaymentAccountInformation | None = None
    issuer_information: IssuerInformation | None = None


class InstrumentIdentifierEmbedded(TMSModel):
    """``_embedded`` of an instrument identifier: its BIN details."""

    bin_lookup: BinLookup | None = None


class InstrumentIdentifierRequest(TMSModel):
    """The body of ``instrument_identifiers.create``, ``update`` and ``enroll``
    (PostInstrumentIdentifierRequest and its Patch and Enrollment twins).

    ```python
    InstrumentIdentifierRequest(
        card=Card(number="4111111111111111", expiration_month="12", expiration_year="2031")
    )
    ```
    """

    type: str | None = None
    source: str | None = None
    token_provisioning_information: TokenProvisioningInformation | None = None
    card: Card | None = None
    bank_account: BankAccount | None = None
    point_of_sale_information: PointOfSaleInformation | None = None
    processing_information: InstrumentIdentifierProcessingInformation | None = None
    bill_to: Address | None = None


class InstrumentIdentifier(TMSResponse):
    """An instrument identifier. ``card.number`` is masked
    (``411111XXXXXX1111``); ``tokenized_card`` is its network token, if any.
    ``status_code`` is 201 when ``create`` stored a new card, 200 when the
    merchant already had it (same id)."""

    links: Links | None = Field(default=None, alias="_links")
    id: str
    object: str | None = None
    state: str | None = None
    type: str | None = None
    source: str | None = None
    token_provisioning_information: TokenProvisioningInformation | None = None
    card: Card | None = None
    bank_account: BankAccount | None = None
    point_of_sale_information: PointOfSaleInformation | None = None
    processing_information: InstrumentIdentifierProcessingInformation | None = None
    tokenized_card: TokenizedCard | None = None
    issuer: Issuer | None = None
    metadata: Metadata | None = None
    embedded: InstrumentIdentifierEmbedded | None = Field(default=None, alias="_embedded")


__all__ = [
    "AuthorizationOptions",
    "BankAccount",
    "BinCard",
    "BinLookup",
    "EmvTag",
    "Initiator",
    "InstrumentIdentifier",
    "InstrumentIdentifierEmbedded",
    "InstrumentIdentifierProcessingInformation",
    "InstrumentIdentifierRequest",
    "IssuerInformation",
    "MerchantInitiatedTransaction",
    "PaymentAccountInformation",
    "PointOfSaleInformation",
    "TokenProvisioningInformation",
]
