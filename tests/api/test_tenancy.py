"""Tenancy (DESIGN.md decision 2): another merchant's id is indistinguishable
from an id that does not exist, whatever the method, and is never changed."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from tests.api.envelopes import assert_error
from tests.api.factories import (
    CUSTOMERS,
    II,
    PI,
    customer_addresses,
    customer_pis,
    json_of,
    make_customer,
    make_customer_payment_instrument,
    make_instrument_identifier,
    make_payment_instrument,
    make_shipping_address,
)
from tests.conftest import AUTH_MODES, client_for
from tests.support import Merchant, make_pan


@dataclass(frozen=True)
class Tokens:
    """One of each kind of token, owned by merchant A."""

    ii: str
    pi: str
    customer: str
    customer_pi: str
    address: str


@pytest.fixture
def tokens(client: httpx.Client) -> Tokens:
    customer = make_customer(client)["id"]
    customer_pi = make_customer_payment_instrument(client, customer)["id"]
    make_customer_payment_instrument(client, customer)
    address = make_shipping_address(client, customer)["id"]
    make_shipping_address(client, customer)
    pi = make_payment_instrument(client)
    return Tokens(
        ii=pi["instrumentIdentifier"]["id"],
        pi=pi["id"],
        customer=customer,
        customer_pi=customer_pi,
        address=address,
    )


def url_of(kind: str, t: Tokens) -> str:
    return {
        "instrument-identifier": f"{II}/{t.ii}",
        "payment-instrument": f"{PI}/{t.pi}",
        "customer": f"{CUSTOMERS}/{t.customer}",
        "customer-payment-instrument": f"{customer_pis(t.customer)}/{t.customer_pi}",
        "customer-payment-instrument-by-standalone-path": f"{PI}/{t.customer_pi}",
        "shipping-address": f"{customer_addresses(t.customer)}/{t.address}",
    }[kind]


PATCHES: dict[str, dict[str, Any]] = {
    "instrument-identifier": {
        "tokenProvisioningInformation": {"consumerConsentObtained": True},
    },
    "payment-instrument": {"billTo": {"firstName": "Mallory"}},
    "customer": {"buyerInformation": {"email": "mallory@example.com"}},
    "customer-payment-instrument": {"default": True, "billTo": {"firstName": "Mallory"}},
    "customer-payment-instrument-by-standalone-path": {"billTo": {"firstName": "Mallory"}},
    "shipping-address": {"default": True, "shipTo": {"firstName": "Mallory"}},
}
KINDS = [pytest.param(kind, id=kind) for kind in PATCHES]


def snapshot(client: httpx.Client, t: Tokens) -> dict[str, tuple[Any, str]]:
    """Every token of ``t`` as its owner sees it: body and ETag."""
    seen = {}
    for kind in PATCHES:
        response = client.get(url_of(kind, t))
        seen[kind] = (json_of(response, 200), response.headers["etag"])
    for name, url in (
        ("customer-pis", customer_pis(t.customer)),
        ("addresses", customer_addresses(t.customer)),
        ("ii-pis", f"{II}/{t.ii}/paymentinstruments"),
    ):
        seen[name] = (json_of(client.get(url), 200), "")
    return seen


@pytest.mark.parametrize("method", [pytest.param(m, id=m) for m in ("GET", "PATCH", "DELETE")])
@pytest.mark.parametrize("kind", KINDS)
def test_other_merchant_gets_404_for_every_token(
    client: httpx.Client,
    other_client: httpx.Client,
    tokens: Tokens,
    kind: str,
    method: str,
) -> None:
    before = snapshot(client, tokens)
    url = url_of(kind, tokens)
    if method == "PATCH":
        response = other_client.patch(url, json=PATCHES[kind], headers={"if-match": "*"})
    else:
        response = other_client.request(method, url)
    assert_error(response, 404, "notFound", message="Token not found")
    assert snapshot(client, tokens) == before


@pytest.mark.parametrize("mode", [pytest.param(m, id=m) for m in AUTH_MODES])
def test_other_merchant_gets_404_in_every_authentication_mode(
    app: Starlette, other_merchant: Merchant, tokens: Tokens, mode: str
) -> None:
    with client_for(app, other_merchant, mode) as intruder:
        for kind in PATCHES:
            assert_error(intruder.get(url_of(kind, tokens)), 404, "notFound")


@pytest.mark.parametrize(
    "list_url",
    [
        pytest.param(lambda t: customer_pis(t.customer), id="customer-payment-instruments"),
        pytest.param(lambda t: customer_addresses(t.customer), id="shipping-addresses"),
        pytest.param(lambda t: f"{II}/{t.ii}/paymentinstruments", id="ii-payment-instruments"),
    ],
)
def test_other_merchant_cannot_list_or_add_to_another_merchants_collections(
    client: httpx.Client, other_client: httpx.Client, tokens: Tokens, list_url: Any
) -> None:
    before = snapshot(client, tokens)
    url = list_url(tokens)
    assert_error(other_client.get(url), 404, "notFound")
    assert_error(other_client.get(url, params={"offset": 0, "limit": 100}), 404, "notFound")
    if url.startswith(CUSTOMERS):
        body = {"instrumentIdentifier": {"card": {"number": make_pan()}}, "default": True}
        assert_error(other_client.post(url, json=body), 404, "notFound")
    assert snapshot(client, tokens) == before


def test_other_merchant_cannot_reference_another_merchants_tokens(
    client: httpx.Client, other_client: httpx.Client, tokens: Tokens
) -> None:
    before = snapshot(client, tokens)
    response = other_client.post(PI, json={"instrumentIdentifier": {"id": tokens.ii}})
    assert_error(response, 400, "invalidFields", field="instrumentIdentifier.id")
    own_customer = make_customer(other_client)["id"]
    for field, foreign in (
        ("defaultPaymentInstrument", tokens.customer_pi),
        ("defaultShippingAddress", tokens.address),
    ):
        response = other_client.patch(f"{CUSTOMERS}/{own_customer}", json={field: {"id": foreign}})
        assert_error(response, 400, "invalidFields", field=f"{field}.id")
    assert snapshot(client, tokens) == before


def test_other_merchant_gets_404_not_410_for_a_deleted_token(
    client: httpx.Client, other_client: httpx.Client
) -> None:
    pi = make_payment_instrument(client)
    customer = make_customer(client)["id"]
    assert client.delete(f"{PI}/{pi['id']}").status_code == 204
    assert client.delete(f"{II}/{pi['instrumentIdentifier']['id']}").status_code == 204
    assert client.delete(f"{CUSTOMERS}/{customer}").status_code == 204
    for url in (
        f"{PI}/{pi['id']}",
        f"{II}/{pi['instrumentIdentifier']['id']}",
        f"{CUSTOMERS}/{customer}",
    ):
        assert_error(client.get(url), 410, "notAvailable")
        assert_error(other_client.get(url), 404, "notFound", message="Token not found")
        assert_error(other_client.delete(url), 404, "notFound")


def test_the_same_card_gets_a_separate_identifier_per_merchant(
    client: httpx.Client, other_client: httpx.Client, other_merchant: Merchant
) -> None:
    pan = make_pan()
    mine = make_instrument_identifier(client, pan)
    theirs = make_instrument_identifier(other_client, pan)
    assert theirs["id"] != mine["id"]
    assert theirs["metadata"] == {"creator": other_merchant.id}
    assert json_of(client.post(II, json={"card": {"number": pan}}), 200)["id"] == mine["id"]
    assert json_of(other_client.post(II, json={"card": {"number": pan}}), 200)["id"] == theirs["id"]
    # Deleting one merchant's token leaves the other's alone.
    assert other_client.delete(f"{II}/{theirs['id']}").status_code == 204
    json_of(client.get(f"{II}/{mine['id']}"), 200)
