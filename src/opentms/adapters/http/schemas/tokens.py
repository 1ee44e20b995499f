"""Wire schemas of network tokens: enrollment, tokenized cards, the issuer
life-cycle simulation and payment credentials."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import AliasChoices, Field, StrictBool

from opentms.adapters.http.schemas.common import Address, Digits, Month, WireModel, Year


class TokenCard(WireModel):
    number: Digits | None = None
    expiration_month: Month | None = None
    expiration_year: Year | None = None
    type: str | None = Field(None, max_length=25)
    security_code: str | None = Field(None, max_length=4, min_length=3, pattern=r"^[0-9]+$")


class Passcode(WireModel):
    value: str | None = Field(None, max_length=32)


class TokenizedCardCreate(WireModel):
    """PostTokenizedCardRequest."""

    source: Literal["ONFILE", "TOKEN", "ISSUER"] | None = None
    account_reference_id: str | None = Field(None, max_length=32)
    consumer_id: str | None = Field(None, max_length=36)
    create_pan_instrument_identifier: StrictBool | None = Field(
        default=None,
        validation_alias=AliasChoices(
            "createPanInstrumentIdentifier", "createInstrumentIdentifier"
        ),
    )
    card: TokenCard | None = None
    passcode: Passcode | None = None
    bill_to: Address | None = None


class DeleteReason(WireModel):
    code: Literal["FRAUD", "PAYMENT_METHOD_REMOVED"] | None = None
    description: str | None = Field(None, max_length=256)


class TokenizedCardDelete(WireModel):
    reason: DeleteReason | None = None


class LifeCycleCard(WireModel):
    last4: str | None = Field(None, pattern=r"^[0-9]{4}$")
    expiration_month: Month | None = None
    expiration_year: Year | None = None


class CombinedAsset(WireModel):
    update: Literal["true", "false"] | StrictBool | None = None


class CardArt(WireModel):
    combined_asset: CombinedAsset | None = None


class LifeCycleMetadata(WireModel):
    card_art: CardArt | None = None


class LifeCycleSimulation(WireModel):
    """PostIssuerLifeCycleSimulationRequest."""

    state: Literal["ACTIVE", "SUSPENDED", "DELETED"] | None = None
    card: LifeCycleCard | None = None
    metadata: LifeCycleMetadata | None = None
    expiration_month: Month | None = None
    expiration_year: Year | None = None


class AmountDetails(WireModel):
    total_amount: str | None = Field(None, max_length=19, pattern=r"^[0-9]+(\.[0-9]+)?$")
    currency: str | None = Field(None, max_length=3, pattern=r"^([A-Za-z]{3}|[0-9]{3})$")


class OrderInformation(WireModel):
    amount_details: AmountDetails | None = None
    bill_to: Address | None = None


class MerchantDescriptor(WireModel):
    name: str | None = Field(None, max_length=100)
    url: str | None = Field(None, max_length=255)
    alternate_name: str | None = Field(None, max_length=100)


class CredentialsMerchantInformation(WireModel):
    merchant_descriptor: MerchantDescriptor | None = None


class AuthenticatedIdentity(WireModel):
    id: str | None = Field(None, max_length=1024)
    provider: str | None = Field(None, max_length=64)
    data: str | None = Field(None, max_length=65536)
    relying_party_id: str | None = Field(None, max_length=1024)
    user_authentication_method: str | None = Field(None, max_length=64)


class PaymentCredentialsCreate(WireModel):
    """PostPaymentCredentialsRequest (v3) / PostPaymentCredentialsRequest1 (v2)."""

    payment_credential_type: Literal["NETWORK_TOKEN", "SECURITY_CODE", "CRYPTOGRAM"] | None = None
    transaction_type: Literal["ECOM", "AFT"] | None = None
    client_correlation_id: str | None = Field(None, max_length=128)
    order_information: OrderInformation | None = None
    merchant_information: CredentialsMerchantInformation | None = None
    authenticated_identities: list[AuthenticatedIdentity | None] | None = Field(
        default=None, max_length=10
    )


class AuthorizationCreate(WireModel):
    """An authorisation presented to the simulated network (opentms only)."""

    token_number: Digits = Field(min_length=12, max_length=19)
    expiration_month: Month
    expiration_year: Year
    cryptogram: str | None = Field(None, max_length=64)
    security_code: str | None = Field(None, pattern=r"^[0-9]{3,4}$")
    eci: str | None = Field(None, pattern=r"^[0-9]{2}$")
    amount: str | None = Field(None, max_length=19, pattern=r"^[0-9]+(\.[0-9]+)?$")
    currency: str | None = Field(None, pattern=r"^([A-Za-z]{3}|[0-9]{3})$")
    transaction_type: Literal["ECOM", "AFT"] | None = None


TokenType = Literal[
    "customer", "paymentInstrument", "instrumentIdentifier", "shippingAddress", "tokenizedCard"
]


class TokenizeProcessingInformation(WireModel):
    action_list: list[Literal["TOKEN_CREATE"]] | None = Field(default=None, max_length=1)
    action_token_types: list[TokenType] | None = Field(default=None, min_length=1, max_length=5)


class TokenInformation(WireModel):
    jti: str | None = Field(None, max_length=64)
    transient_token_jwt: str | None = Field(None, max_length=8192)
    customer: dict[str, Any] | None = None
    payment_instrument: dict[str, Any] | None = None
    shipping_address: dict[str, Any] | None = None
    instrument_identifier: dict[str, Any] | None = None


class TokenizeCreate(WireModel):
    """PostTokenizeRequest: create several tokens in one call."""

    processing_information: TokenizeProcessingInformation | None = None
    token_information: TokenInformation | None = None
