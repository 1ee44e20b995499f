"""Resources made through the API (``make_*``), the paths they live at, and the
masks the API shows card numbers with."""

from __future__ import annotations

from typing import Any

import httpx

from tests.support import make_pan

JSON = dict[str, Any]

II = "/tms/v1/instrumentidentifiers"
PI = "/tms/v1/paymentinstruments"
CUSTOMERS = "/tms/v2/customers"


def masked(pan: str) -> str:
    """A card number as TMS shows it: first six, ``X`` for the middle, last four."""
    return pan[:6] + "X" * (len(pan) - 10) + pan[-4:]


def failing_luhn(prefix: str = "411111", length: int = 16) -> str:
    """A card number of the right shape whose check digit is wrong."""
    pan = make_pan(prefix, length)
    return pan[:-1] + str((int(pan[-1]) + 1) % 10)


def customer_pis(customer_id: str) -> str:
    return f"{CUSTOMERS}/{customer_id}/payment-instruments"


def customer_addresses(customer_id: str) -> str:
    return f"{CUSTOMERS}/{customer_id}/shipping-addresses"


def json_of(response: httpx.Response, status: int) -> JSON:
    assert response.status_code == status, response.text
    body: JSON = response.json()
    return body


def make_instrument_identifier(client: httpx.Client, pan: str | None = None) -> JSON:
    response = client.post(II, json={"card": {"number": pan or make_pan()}})
    return json_of(response, 201)


def make_payment_instrument(client: httpx.Client, pan: str | None = None, **fields: Any) -> JSON:
    """A standalone payment instrument for ``pan`` (a new card by default)."""
    body = {
        "card": {"expirationMonth": "12", "expirationYear": "2031", "type": "001"},
        "instrumentIdentifier": {"card": {"number": pan or make_pan()}},
        **fields,
    }
    return json_of(client.post(PI, json=body), 201)


def make_customer(client: httpx.Client, **fields: Any) -> JSON:
    body = {"buyerInformation": {"merchantCustomerID": "c-1", "email": "a@example.com"}}
    return json_of(client.post(CUSTOMERS, json={**body, **fields}), 201)


def make_customer_payment_instrument(
    client: httpx.Client, customer_id: str, pan: str | None = None, **fields: Any
) -> JSON:
    body = {
        "card": {"expirationMonth": "12", "expirationYear": "2031", "type": "001"},
        "instrumentIdentifier": {"card": {"number": pan or make_pan()}},
        **fields,
    }
    return json_of(client.post(customer_pis(customer_id), json=body), 201)


def make_shipping_address(client: httpx.Client, customer_id: str, **fields: Any) -> JSON:
    body = {"shipTo": {"firstName": "Ada", "lastName": "Lovelace", "country": "GB"}, **fields}
    return json_of(client.post(customer_addresses(customer_id), json=body), 201)
