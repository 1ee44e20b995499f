"""``client.tokens.tokenize`` in every client variant (its body is encrypted:
the test clients have the server's request-MLE certificate)."""

from __future__ import annotations

from opentms.client import (
    Card,
    Client,
    CustomerBuyerInformation,
    CustomerRequest,
    InstrumentIdentifierRequest,
    PaymentInstrumentCard,
    PaymentInstrumentRequest,
    TokenInformation,
    TokenizeProcessingInformation,
    TokenizeRequest,
    TokenizeResponse,
)
from tests.support import make_pan


def tokenize_request(pan: str) -> TokenizeRequest:
    return TokenizeRequest(
        processing_information=TokenizeProcessingInformation(
            action_list=["TOKEN_CREATE"],
            action_token_types=[
                "customer",
                "paymentInstrument",
                "instrumentIdentifier",
                "shippingAddress",
            ],
        ),
        token_information=TokenInformation(
            customer=CustomerRequest(
                buyer_information=CustomerBuyerInformation(email="ada@example.com")
            ),
            payment_instrument=PaymentInstrumentRequest(
                card=PaymentInstrumentCard(expiration_month="12", expiration_year="2031")
            ),
            instrument_identifier=InstrumentIdentifierRequest(card=Card(number=pan)),
            shipping_address={"shipTo": {"firstName": "Ada", "country": "US"}},
        ),
    )


def test_tokenize_creates_every_resource(tms: Client) -> None:
    result = tms.tokens.tokenize(tokenize_request(make_pan()))
    assert isinstance(result, TokenizeResponse)
    assert result.status_code == 200
    statuses = {r.resource: r.http_status for r in result.responses or []}
    assert statuses == {
        "customer": 201,
        "instrumentIdentifier": 201,
        "paymentInstrument": 201,
        "shippingAddress": 201,
    }
    customer_id = result.id_of("customer")
    assert customer_id is not None
    customer = tms.customers.get(customer_id)
    assert customer.default_payment_instrument is not None
    assert customer.default_payment_instrument.id == result.id_of("paymentInstrument")
    assert result.id_of("tokenizedCard") is None


def test_a_failed_resource_carries_its_errors(tms: Client) -> None:
    result = tms.tokens.tokenize(
        {
            "processingInformation": {
                "actionList": ["TOKEN_CREATE"],
                "actionTokenTypes": ["customer", "paymentInstrument", "instrumentIdentifier"],
            },
            "tokenInformation": {
                "customer": {},
                "instrumentIdentifier": {"card": {"number": "4111111111111112"}},
            },
        }
    )
    by_resource = {r.resource: r for r in result.responses or []}
    failed = by_resource["instrumentIdentifier"]
    assert failed.http_status == 400
    assert failed.errors
    assert failed.errors[0].type == "invalidFields"
    assert by_resource["paymentInstrument"].http_status == 424
