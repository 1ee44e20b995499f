"""Resources made through ``opentms.client`` (``make_*``), for the client tests."""

from __future__ import annotations

from opentms.client import (
    Address,
    Card,
    Client,
    Customer,
    CustomerBuyerInformation,
    CustomerRequest,
    InstrumentIdentifier,
    InstrumentIdentifierRequest,
    LinkedInstrumentIdentifier,
    PaymentInstrument,
    PaymentInstrumentCard,
    PaymentInstrumentRequest,
)
from tests.support import make_pan

EXPIRY = {"expiration_month": "12", "expiration_year": "2031"}


def masked(pan: str) -> str:
    return pan[:6] + "X" * (len(pan) - 10) + pan[-4:]


def make_instrument_identifier(client: Client, pan: str | None = None) -> InstrumentIdentifier:
    request = InstrumentIdentifierRequest(card=Card(number=pan or make_pan(), **EXPIRY))
    return client.instrument_identifiers.create(request)


def pi_request(pan: str | None = None, default: bool | None = None) -> PaymentInstrumentRequest:
    return PaymentInstrumentRequest(
        default=default,
        card=PaymentInstrumentCard(**EXPIRY),
        bill_to=Address(first_name="Ada", last_name="Lovelace", country="GB"),
        instrument_identifier=LinkedInstrumentIdentifier(card=Card(number=pan or make_pan())),
    )


def make_customer(client: Client, email: str = "ada@example.com") -> Customer:
    request = CustomerRequest(buyer_information=CustomerBuyerInformation(email=email))
    return client.customers.create(request)


def make_customer_with_card(
    client: Client, pan: str | None = None
) -> tuple[Customer, PaymentInstrument]:
    """A customer whose default payment instrument holds ``pan``."""
    customer = make_customer(client)
    pi = client.customers.payment_instruments.create(customer.id, pi_request(pan))
    return customer, pi
