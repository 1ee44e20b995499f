"""/tms/v2/customers (tms-api.md §2.3, §3.3): the customer, its defaults, and
what deleting it takes with it."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import text

from opentms.bootstrap import Database
from tests.api.envelopes import assert_error
from tests.api.factories import (
    CUSTOMERS,
    II,
    JSON,
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
from tests.support import Merchant, make_pan

CUSTOMER = {
    "buyerInformation": {"merchantCustomerID": "cust-42", "email": "ada@example.com"},
    "clientReferenceInformation": {"code": "ref-1"},
    "merchantDefinedInformation": [{"name": "data1", "value": "gold"}],
    "objectInformation": {"title": "Ada", "comment": "VIP"},
}


def assert_gone(response: httpx.Response) -> None:
    """A deleted token answers 410 (or 404: the spec allows either)."""
    assert response.status_code in (404, 410), response.text
    assert_error(response, response.status_code, response.json()["errors"][0]["type"])


def test_create_returns_201_with_links_and_the_fields_sent(
    any_client: httpx.Client, merchant: Merchant
) -> None:
    response = any_client.post(CUSTOMERS, json=CUSTOMER)
    body = json_of(response, 201)
    customer_id = body["id"]
    assert len(customer_id) == 32
    assert customer_id == customer_id.upper()
    path = f"{CUSTOMERS}/{customer_id}"
    assert body["_links"]["self"] == {"href": path}
    assert body["_links"]["paymentInstruments"] == {"href": f"{path}/payment-instruments"}
    assert body["_links"]["shippingAddress"] == {"href": f"{path}/shipping-addresses"}
    for name, value in CUSTOMER.items():
        assert body[name] == value
    assert body["metadata"] == {"creator": merchant.id}
    assert "defaultPaymentInstrument" not in body
    assert "defaultShippingAddress" not in body
    assert "_embedded" not in body
    assert response.headers["etag"] == '"1"'


def test_get_returns_what_create_returned(any_client: httpx.Client) -> None:
    created = make_customer(any_client, **CUSTOMER)
    response = any_client.get(f"{CUSTOMERS}/{created['id']}")
    assert json_of(response, 200) == created
    assert response.headers["etag"] == '"1"'


def test_merchant_customer_id_is_accepted_in_the_sdk_spelling(client: httpx.Client) -> None:
    created = make_customer(client, buyerInformation={"merchantCustomerId": "cust-7"})
    assert created["buyerInformation"] == {"merchantCustomerID": "cust-7"}


def test_get_embeds_the_default_payment_instrument_and_shipping_address(
    client: httpx.Client,
) -> None:
    customer_id = make_customer(client)["id"]
    pi = make_customer_payment_instrument(client, customer_id)
    address = make_shipping_address(client, customer_id)
    body = json_of(client.get(f"{CUSTOMERS}/{customer_id}"), 200)
    assert body["defaultPaymentInstrument"] == {"id": pi["id"]}
    assert body["defaultShippingAddress"] == {"id": address["id"]}
    embedded_pi = body["_embedded"]["defaultPaymentInstrument"]
    assert embedded_pi == json_of(client.get(f"{customer_pis(customer_id)}/{pi['id']}"), 200)
    assert (
        embedded_pi["_embedded"]["instrumentIdentifier"]["id"] == pi["instrumentIdentifier"]["id"]
    )
    embedded_address = body["_embedded"]["defaultShippingAddress"]
    assert embedded_address == json_of(
        client.get(f"{customer_addresses(customer_id)}/{address['id']}"), 200
    )


def test_patch_merges_and_changes_the_etag(any_client: httpx.Client) -> None:
    created = make_customer(any_client, **CUSTOMER)
    url = f"{CUSTOMERS}/{created['id']}"
    response = any_client.patch(
        url,
        json={"buyerInformation": {"email": "new@example.com"}, "objectInformation": None},
        headers={"if-match": '"1"'},
    )
    body = json_of(response, 200)
    assert body["buyerInformation"] == {"merchantCustomerID": "cust-42", "email": "new@example.com"}
    assert "objectInformation" not in body
    assert body["clientReferenceInformation"] == CUSTOMER["clientReferenceInformation"]
    assert response.headers["etag"] != '"1"'
    fetched = any_client.get(url)
    assert json_of(fetched, 200) == body
    assert fetched.headers["etag"] == response.headers["etag"]


def test_patch_with_star_if_match_succeeds(client: httpx.Client) -> None:
    created = make_customer(client)
    response = client.patch(
        f"{CUSTOMERS}/{created['id']}",
        json={"clientReferenceInformation": {"code": "x"}},
        headers={"if-match": "*"},
    )
    assert json_of(response, 200)["clientReferenceInformation"] == {"code": "x"}


def test_patch_with_a_stale_if_match_is_412_and_changes_nothing(client: httpx.Client) -> None:
    created = make_customer(client)
    url = f"{CUSTOMERS}/{created['id']}"
    first = client.patch(url, json={"clientReferenceInformation": {"code": "a"}})
    json_of(first, 200)
    stale = client.patch(
        url, json={"clientReferenceInformation": {"code": "b"}}, headers={"if-match": '"1"'}
    )
    assert_error(stale, 412, "conflict")
    fetched = client.get(url)
    assert json_of(fetched, 200)["clientReferenceInformation"] == {"code": "a"}
    assert fetched.headers["etag"] == first.headers["etag"]


def test_first_payment_instrument_and_address_become_the_defaults(client: httpx.Client) -> None:
    customer_id = make_customer(client)["id"]
    first_pi = make_customer_payment_instrument(client, customer_id)
    second_pi = make_customer_payment_instrument(client, customer_id)
    first_address = make_shipping_address(client, customer_id)
    second_address = make_shipping_address(client, customer_id)
    assert first_pi["default"] is True
    assert second_pi["default"] is False
    assert first_address["default"] is True
    assert second_address["default"] is False
    body = json_of(client.get(f"{CUSTOMERS}/{customer_id}"), 200)
    assert body["defaultPaymentInstrument"] == {"id": first_pi["id"]}
    assert body["defaultShippingAddress"] == {"id": first_address["id"]}


def test_patch_default_payment_instrument_moves_the_default(client: httpx.Client) -> None:
    customer_id = make_customer(client)["id"]
    first = make_customer_payment_instrument(client, customer_id)
    second = make_customer_payment_instrument(client, customer_id)
    response = client.patch(
        f"{CUSTOMERS}/{customer_id}", json={"defaultPaymentInstrument": {"id": second["id"]}}
    )
    body = json_of(response, 200)
    assert body["defaultPaymentInstrument"] == {"id": second["id"]}
    assert body["_embedded"]["defaultPaymentInstrument"]["id"] == second["id"]
    pis = customer_pis(customer_id)
    assert json_of(client.get(f"{pis}/{second['id']}"), 200)["default"] is True
    assert json_of(client.get(f"{pis}/{first['id']}"), 200)["default"] is False
    listed = json_of(client.get(pis), 200)["_embedded"]["paymentInstruments"]
    assert [item["id"] for item in listed] == [second["id"], first["id"]]


def test_patch_default_shipping_address_moves_the_default(client: httpx.Client) -> None:
    customer_id = make_customer(client)["id"]
    first = make_shipping_address(client, customer_id)
    second = make_shipping_address(client, customer_id)
    response = client.patch(
        f"{CUSTOMERS}/{customer_id}", json={"defaultShippingAddress": {"id": second["id"]}}
    )
    body = json_of(response, 200)
    assert body["defaultShippingAddress"] == {"id": second["id"]}
    assert body["_embedded"]["defaultShippingAddress"]["id"] == second["id"]
    addresses = customer_addresses(customer_id)
    assert json_of(client.get(f"{addresses}/{first['id']}"), 200)["default"] is False


def other_customers_pi(client: httpx.Client) -> str:
    other = make_customer(client)["id"]
    pi_id: str = make_customer_payment_instrument(client, other)["id"]
    return pi_id


def other_customers_address(client: httpx.Client) -> str:
    other = make_customer(client)["id"]
    address_id: str = make_shipping_address(client, other)["id"]
    return address_id


def standalone_pi(client: httpx.Client) -> str:
    pi_id: str = make_payment_instrument(client)["id"]
    return pi_id


def deleted_pi(client: httpx.Client) -> str:
    pi_id = standalone_pi(client)
    assert client.delete(f"{PI}/{pi_id}").status_code == 204
    return pi_id


@pytest.mark.parametrize(
    ("field", "make_id"),
    [
        pytest.param("defaultPaymentInstrument", other_customers_pi, id="pi-of-another-customer"),
        pytest.param("defaultPaymentInstrument", standalone_pi, id="standalone-pi"),
        pytest.param("defaultPaymentInstrument", deleted_pi, id="deleted-pi"),
        pytest.param(
            "defaultPaymentInstrument",
            lambda _: "F2F3ADA770102B51E053A2598D0A9078",
            id="unknown-pi",
        ),
        pytest.param(
            "defaultShippingAddress", other_customers_address, id="address-of-another-customer"
        ),
    ],
)
def test_patch_default_to_a_token_the_customer_does_not_own_is_400(
    client: httpx.Client, field: str, make_id: Any
) -> None:
    customer = make_customer(client, **CUSTOMER)
    customer_id = customer["id"]
    own_pi = make_customer_payment_instrument(client, customer_id)
    own_address = make_shipping_address(client, customer_id)
    before = client.get(f"{CUSTOMERS}/{customer_id}")
    foreign_id = make_id(client)
    response = client.patch(
        f"{CUSTOMERS}/{customer_id}",
        json={"buyerInformation": {"email": "changed@example.com"}, field: {"id": foreign_id}},
        headers={"if-match": before.headers["etag"]},
    )
    assert_error(response, 400, "invalidFields", field=f"{field}.id")
    # No partial write: neither the default nor the other field changed.
    after = client.get(f"{CUSTOMERS}/{customer_id}")
    body = json_of(after, 200)
    assert body == json_of(before, 200)
    assert body["defaultPaymentInstrument"] == {"id": own_pi["id"]}
    assert body["defaultShippingAddress"] == {"id": own_address["id"]}
    assert after.headers["etag"] == before.headers["etag"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        pytest.param(
            {"merchantDefinedInformation": [{"name": "data9", "value": "x"}]},
            "merchantDefinedInformation[0].name",
            id="unknown-mdd-name",
        ),
        pytest.param(
            {"buyerInformation": {"email": "a" * 256}}, "buyerInformation.email", id="long-email"
        ),
        pytest.param(
            {"clientReferenceInformation": {"code": 42}},
            "clientReferenceInformation.code",
            id="number-for-string",
        ),
    ],
)
def test_create_rejects_invalid_fields(
    client: httpx.Client, body: dict[str, Any], field: str
) -> None:
    assert_error(client.post(CUSTOMERS, json=body), 400, "invalidFields", field=field)


def test_delete_removes_the_customer_its_tokens_and_its_unshared_cards(
    any_client: httpx.Client, database: Database
) -> None:
    customer_id = make_customer(any_client)["id"]
    own_pan, shared_pan = make_pan(), make_pan("555555")
    own = make_customer_payment_instrument(any_client, customer_id, own_pan)
    shared = make_customer_payment_instrument(any_client, customer_id, shared_pan)
    elsewhere = make_payment_instrument(any_client, shared_pan)
    assert elsewhere["instrumentIdentifier"] == shared["instrumentIdentifier"]
    address = make_shipping_address(any_client, customer_id)

    response = any_client.delete(f"{CUSTOMERS}/{customer_id}")
    assert response.status_code == 204
    assert response.content == b""

    assert_gone(any_client.get(f"{CUSTOMERS}/{customer_id}"))
    assert_gone(any_client.get(customer_pis(customer_id)))
    assert_gone(any_client.get(customer_addresses(customer_id)))
    for pi in (own, shared):
        assert_gone(any_client.get(f"{PI}/{pi['id']}"))
        assert_gone(any_client.get(f"{customer_pis(customer_id)}/{pi['id']}"))
    assert_gone(any_client.get(f"{customer_addresses(customer_id)}/{address['id']}"))
    # No route reaches an address without its customer: look at its row.
    with database.engine.connect() as connection:
        row = connection.execute(
            text("SELECT deleted_at, attributes_sealed FROM shipping_addresses WHERE id = :id"),
            {"id": address["id"]},
        ).one()
    assert row.deleted_at is not None
    assert row.attributes_sealed is None
    # The card only this customer used is gone; the shared one stays.
    assert_gone(any_client.get(f"{II}/{own['instrumentIdentifier']['id']}"))
    kept = any_client.get(f"{II}/{shared['instrumentIdentifier']['id']}")
    assert json_of(kept, 200)["state"] == "ACTIVE"
    json_of(any_client.get(f"{PI}/{elsewhere['id']}"), 200)
    listed = json_of(
        any_client.get(f"{II}/{shared['instrumentIdentifier']['id']}/paymentinstruments"), 200
    )
    assert [item["id"] for item in listed["_embedded"]["paymentInstruments"]] == [elsewhere["id"]]


def test_a_card_of_a_deleted_customer_is_stored_again_under_a_new_id(
    client: httpx.Client,
) -> None:
    customer_id = make_customer(client)["id"]
    pan = make_pan()
    pi = make_customer_payment_instrument(client, customer_id, pan)
    assert client.delete(f"{CUSTOMERS}/{customer_id}").status_code == 204
    again: JSON = make_instrument_identifier(client, pan)
    assert again["id"] != pi["instrumentIdentifier"]["id"]


def test_delete_twice_answers_gone(client: httpx.Client) -> None:
    customer_id = make_customer(client)["id"]
    assert client.delete(f"{CUSTOMERS}/{customer_id}").status_code == 204
    assert_gone(client.delete(f"{CUSTOMERS}/{customer_id}"))
    assert_gone(client.patch(f"{CUSTOMERS}/{customer_id}", json={}))
