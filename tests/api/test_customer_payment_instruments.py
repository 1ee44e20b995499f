"""/tms/v2/customers/{customerId}/payment-instruments (tms-api.md §2.4, §3.2, §3.6)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.api.envelopes import assert_error
from tests.api.factories import (
    CUSTOMERS,
    II,
    PI,
    customer_pis,
    json_of,
    make_customer,
    make_customer_payment_instrument,
    make_instrument_identifier,
    make_payment_instrument,
)
from tests.support import Merchant, make_pan

DEFAULT_IN_USE = "Action cannot be performed as the PaymentInstrument is the customers default"


def ids_of(page: dict[str, Any]) -> list[str]:
    return [item["id"] for item in page["_embedded"]["paymentInstruments"]]


def test_create_returns_201_with_customer_links_and_default(
    any_client: httpx.Client, merchant: Merchant
) -> None:
    customer_id = make_customer(any_client)["id"]
    ii = make_instrument_identifier(any_client)
    response = any_client.post(
        customer_pis(customer_id),
        json={
            "card": {"expirationMonth": "03", "expirationYear": "2030"},
            "instrumentIdentifier": {"id": ii["id"]},
        },
    )
    body = json_of(response, 201)
    pi_id = body["id"]
    assert body["_links"] == {
        "self": {"href": f"{customer_pis(customer_id)}/{pi_id}"},
        "customer": {"href": f"{CUSTOMERS}/{customer_id}"},
    }
    assert body["object"] == "paymentInstrument"
    assert body["default"] is True
    assert body["state"] == "ACTIVE"
    assert body["card"] == {"expirationMonth": "03", "expirationYear": "2030"}
    assert body["instrumentIdentifier"] == {"id": ii["id"]}
    assert body["metadata"] == {"creator": merchant.id}
    assert body["_embedded"] == {"instrumentIdentifier": ii}
    assert response.headers["etag"] == '"1"'


def test_get_returns_what_create_returned(any_client: httpx.Client) -> None:
    customer_id = make_customer(any_client)["id"]
    created = make_customer_payment_instrument(any_client, customer_id)
    response = any_client.get(f"{customer_pis(customer_id)}/{created['id']}")
    assert json_of(response, 200) == created
    assert response.headers["etag"] == '"1"'


def test_create_with_default_true_moves_the_default(client: httpx.Client) -> None:
    customer_id = make_customer(client)["id"]
    first = make_customer_payment_instrument(client, customer_id)
    second = make_customer_payment_instrument(client, customer_id, default=True)
    assert second["default"] is True
    pis = customer_pis(customer_id)
    assert json_of(client.get(f"{pis}/{first['id']}"), 200)["default"] is False
    customer = json_of(client.get(f"{CUSTOMERS}/{customer_id}"), 200)
    assert customer["defaultPaymentInstrument"] == {"id": second["id"]}


def test_patch_default_true_moves_the_default(any_client: httpx.Client) -> None:
    customer_id = make_customer(any_client)["id"]
    first = make_customer_payment_instrument(any_client, customer_id)
    second = make_customer_payment_instrument(any_client, customer_id)
    url = f"{customer_pis(customer_id)}/{second['id']}"
    response = any_client.patch(url, json={"default": True}, headers={"if-match": '"1"'})
    body = json_of(response, 200)
    assert body["default"] is True
    assert response.headers["etag"] != '"1"'
    pis = customer_pis(customer_id)
    assert json_of(any_client.get(f"{pis}/{first['id']}"), 200)["default"] is False
    customer = json_of(any_client.get(f"{CUSTOMERS}/{customer_id}"), 200)
    assert customer["defaultPaymentInstrument"] == {"id": second["id"]}


def test_patch_with_a_stale_if_match_is_412_and_keeps_the_default(client: httpx.Client) -> None:
    customer_id = make_customer(client)["id"]
    first = make_customer_payment_instrument(client, customer_id)
    second = make_customer_payment_instrument(client, customer_id)
    url = f"{customer_pis(customer_id)}/{second['id']}"
    response = client.patch(url, json={"default": True}, headers={"if-match": '"2"'})
    assert_error(response, 412, "conflict")
    customer = json_of(client.get(f"{CUSTOMERS}/{customer_id}"), 200)
    assert customer["defaultPaymentInstrument"] == {"id": first["id"]}
    fetched = client.get(url)
    assert json_of(fetched, 200)["default"] is False
    assert fetched.headers["etag"] == '"1"'


def test_patch_with_star_if_match_succeeds(client: httpx.Client) -> None:
    customer_id = make_customer(client)["id"]
    created = make_customer_payment_instrument(client, customer_id)
    response = client.patch(
        f"{customer_pis(customer_id)}/{created['id']}",
        json={"billTo": {"firstName": "Ada"}},
        headers={"if-match": "*"},
    )
    assert json_of(response, 200)["billTo"] == {"firstName": "Ada"}


def test_list_puts_the_default_first_and_pages(client: httpx.Client) -> None:
    customer_id = make_customer(client)["id"]
    created = [make_customer_payment_instrument(client, customer_id)["id"] for _ in range(3)]
    pis = customer_pis(customer_id)
    json_of(client.patch(f"{pis}/{created[2]}", json={"default": True}), 200)

    response = client.get(pis, params={"offset": 0, "limit": 2})
    page = json_of(response, 200)
    assert response.headers["x-total-count"] == "3"
    assert (page["offset"], page["limit"], page["count"], page["total"]) == (0, 2, 2, 3)
    assert ids_of(page) == [created[2], created[0]]
    assert [item["default"] for item in page["_embedded"]["paymentInstruments"]] == [True, False]
    assert page["_links"] == {
        "self": {"href": f"{pis}?offset=0&limit=2"},
        "first": {"href": f"{pis}?offset=0&limit=2"},
        "next": {"href": f"{pis}?offset=2&limit=2"},
        "last": {"href": f"{pis}?offset=2&limit=2"},
    }
    for item in page["_embedded"]["paymentInstruments"]:
        assert item["_links"]["customer"] == {"href": f"{CUSTOMERS}/{customer_id}"}
        assert item["_embedded"]["instrumentIdentifier"]["object"] == "instrumentIdentifier"

    rest = json_of(client.get(pis, params={"offset": 2, "limit": 2}), 200)
    assert ids_of(rest) == [created[1]]
    assert rest["_links"]["prev"] == {"href": f"{pis}?offset=0&limit=2"}
    assert "next" not in rest["_links"]

    tail = json_of(client.get(pis, params={"offset": 1, "limit": 2}), 200)
    assert ids_of(tail) == [created[0], created[1]]
    assert "next" not in tail["_links"]
    assert tail["_links"]["last"] == {"href": f"{pis}?offset=2&limit=2"}

    everything = json_of(client.get(pis), 200)
    assert (everything["offset"], everything["limit"], everything["count"]) == (0, 20, 3)
    assert ids_of(everything) == [created[2], created[0], created[1]]


def test_list_of_a_new_customer_is_empty(client: httpx.Client) -> None:
    customer_id = make_customer(client)["id"]
    response = client.get(customer_pis(customer_id))
    page = json_of(response, 200)
    assert response.headers["x-total-count"] == "0"
    assert (page["count"], page["total"]) == (0, 0)
    assert page["_embedded"]["paymentInstruments"] == []


@pytest.mark.parametrize(
    ("query", "field"),
    [
        pytest.param("limit=0", "limit", id="limit-0"),
        pytest.param("limit=101", "limit", id="limit-101"),
        pytest.param("limit=ten", "limit", id="limit-word"),
        pytest.param("offset=-5", "offset", id="offset-negative"),
    ],
)
def test_list_rejects_bad_paging(client: httpx.Client, query: str, field: str) -> None:
    customer_id = make_customer(client)["id"]
    response = client.get(f"{customer_pis(customer_id)}?{query}")
    assert_error(response, 400, "invalidFields", field=field, location="query")


def test_delete_of_the_default_with_siblings_is_409(client: httpx.Client) -> None:
    customer_id = make_customer(client)["id"]
    default = make_customer_payment_instrument(client, customer_id)
    make_customer_payment_instrument(client, customer_id)
    url = f"{customer_pis(customer_id)}/{default['id']}"
    assert_error(client.delete(url), 409, "conflict", message=DEFAULT_IN_USE)
    assert json_of(client.get(url), 200)["default"] is True


def test_delete_of_a_sibling_is_204_and_shrinks_the_list(any_client: httpx.Client) -> None:
    customer_id = make_customer(any_client)["id"]
    default = make_customer_payment_instrument(any_client, customer_id)
    sibling = make_customer_payment_instrument(any_client, customer_id)
    url = f"{customer_pis(customer_id)}/{sibling['id']}"
    response = any_client.delete(url)
    assert response.status_code == 204
    assert_error(any_client.get(url), 410, "notAvailable")
    page = json_of(any_client.get(customer_pis(customer_id)), 200)
    assert (page["count"], page["total"]) == (1, 1)
    assert ids_of(page) == [default["id"]]


def test_delete_of_the_last_one_clears_the_default(client: httpx.Client) -> None:
    customer_id = make_customer(client)["id"]
    only = make_customer_payment_instrument(client, customer_id)
    assert client.delete(f"{customer_pis(customer_id)}/{only['id']}").status_code == 204
    customer = json_of(client.get(f"{CUSTOMERS}/{customer_id}"), 200)
    assert "defaultPaymentInstrument" not in customer
    assert "_embedded" not in customer
    # The next one becomes the default again.
    after = make_customer_payment_instrument(client, customer_id)
    assert after["default"] is True


def test_create_that_fails_validation_writes_nothing(client: httpx.Client) -> None:
    customer_id = make_customer(client)["id"]
    existing = make_customer_payment_instrument(client, customer_id)
    customer_before = client.get(f"{CUSTOMERS}/{customer_id}")
    pan = make_pan()
    failures = [
        client.post(
            customer_pis(customer_id),
            json={"billTo": {"country": "USA"}, "instrumentIdentifier": {"card": {"number": pan}}},
        ),
        client.post(
            customer_pis(customer_id),
            json={
                "default": True,
                "instrumentIdentifier": {
                    "id": existing["instrumentIdentifier"]["id"],
                    "card": {"number": pan},
                },
            },
        ),
        client.post(
            customer_pis(customer_id),
            json={"default": "true", "instrumentIdentifier": {"card": {"number": pan}}},
        ),
    ]
    assert_error(failures[0], 400, "invalidFields", field="billTo.country")
    assert_error(failures[1], 400, "invalidCombination")
    assert_error(failures[2], 400, "invalidFields", field="default")
    page = json_of(client.get(customer_pis(customer_id)), 200)
    assert ids_of(page) == [existing["id"]]
    customer_after = client.get(f"{CUSTOMERS}/{customer_id}")
    assert customer_after.json() == customer_before.json()
    assert customer_after.headers["etag"] == customer_before.headers["etag"]
    # The card of the failed requests was never stored.
    json_of(client.post(II, json={"card": {"number": pan}}), 201)


def test_create_for_an_unknown_customer_is_404_and_stores_no_card(client: httpx.Client) -> None:
    pan = make_pan()
    response = client.post(
        customer_pis("F2F3ADA770102B51E053A2598D0A9078"),
        json={"instrumentIdentifier": {"card": {"number": pan}}},
    )
    assert_error(response, 404, "notFound", message="Token not found")
    json_of(client.post(II, json={"card": {"number": pan}}), 201)


def test_another_customers_payment_instrument_is_404_under_this_customer(
    client: httpx.Client,
) -> None:
    mine = make_customer(client)["id"]
    theirs = make_customer(client)["id"]
    their_pi = make_customer_payment_instrument(client, theirs)
    standalone = make_payment_instrument(client)
    for pi_id in (their_pi["id"], standalone["id"]):
        url = f"{customer_pis(mine)}/{pi_id}"
        assert_error(client.get(url), 404, "notFound")
        assert_error(client.patch(url, json={"default": True}), 404, "notFound")
        assert_error(client.delete(url), 404, "notFound")
    assert json_of(client.get(f"{customer_pis(theirs)}/{their_pi['id']}"), 200)["default"] is True
    json_of(client.get(f"{PI}/{standalone['id']}"), 200)
    assert json_of(client.get(customer_pis(mine)), 200)["total"] == 0
