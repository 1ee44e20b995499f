"""/tms/v2/customers/{customerId}/shipping-addresses (tms-api.md §2.5, §3.4, §3.6)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.api.envelopes import assert_error
from tests.api.factories import (
    CUSTOMERS,
    customer_addresses,
    json_of,
    make_customer,
    make_shipping_address,
)
from tests.support import Merchant

SHIP_TO = {
    "firstName": "Ada",
    "lastName": "Lovelace",
    "company": "Analytical Engines",
    "address1": "12 St James's Square",
    "address2": "Flat 3",
    "locality": "London",
    "administrativeArea": "LND",
    "postalCode": "SW1Y 4JH",
    "country": "GB",
    "email": "ada@example.com",
    "phoneNumber": "442079460000",
}
DEFAULT_IN_USE = "Action cannot be performed as the ShippingAddress is the customers default"


def ids_of(page: dict[str, Any]) -> list[str]:
    return [item["id"] for item in page["_embedded"]["shippingAddresses"]]


def test_create_returns_201_with_links_and_default(
    any_client: httpx.Client, merchant: Merchant
) -> None:
    customer_id = make_customer(any_client)["id"]
    response = any_client.post(customer_addresses(customer_id), json={"shipTo": SHIP_TO})
    body = json_of(response, 201)
    address_id = body["id"]
    assert len(address_id) == 32
    assert body == {
        "_links": {
            "self": {"href": f"{customer_addresses(customer_id)}/{address_id}"},
            "customer": {"href": f"{CUSTOMERS}/{customer_id}"},
        },
        "id": address_id,
        "default": True,
        "shipTo": SHIP_TO,
        "metadata": {"creator": merchant.id},
    }
    assert response.headers["etag"] == '"1"'


def test_get_returns_what_create_returned(any_client: httpx.Client) -> None:
    customer_id = make_customer(any_client)["id"]
    created = make_shipping_address(any_client, customer_id, shipTo=SHIP_TO)
    response = any_client.get(f"{customer_addresses(customer_id)}/{created['id']}")
    assert json_of(response, 200) == created
    assert response.headers["etag"] == '"1"'


def test_create_with_default_true_moves_the_default(client: httpx.Client) -> None:
    customer_id = make_customer(client)["id"]
    first = make_shipping_address(client, customer_id)
    second = make_shipping_address(client, customer_id, default=True)
    assert second["default"] is True
    url = customer_addresses(customer_id)
    assert json_of(client.get(f"{url}/{first['id']}"), 200)["default"] is False
    customer = json_of(client.get(f"{CUSTOMERS}/{customer_id}"), 200)
    assert customer["defaultShippingAddress"] == {"id": second["id"]}
    assert customer["_embedded"]["defaultShippingAddress"]["id"] == second["id"]


def test_patch_merges_moves_the_default_and_changes_the_etag(any_client: httpx.Client) -> None:
    customer_id = make_customer(any_client)["id"]
    first = make_shipping_address(any_client, customer_id)
    second = make_shipping_address(any_client, customer_id, shipTo=SHIP_TO)
    url = f"{customer_addresses(customer_id)}/{second['id']}"
    response = any_client.patch(
        url,
        json={"default": True, "shipTo": {"locality": "Oxford", "address2": None}},
        headers={"if-match": '"1"'},
    )
    body = json_of(response, 200)
    expected = {k: v for k, v in SHIP_TO.items() if k != "address2"} | {"locality": "Oxford"}
    assert body["shipTo"] == expected
    assert body["default"] is True
    assert response.headers["etag"] != '"1"'
    fetched = any_client.get(url)
    assert json_of(fetched, 200) == body
    assert fetched.headers["etag"] == response.headers["etag"]
    first_now = json_of(any_client.get(f"{customer_addresses(customer_id)}/{first['id']}"), 200)
    assert first_now["default"] is False


def test_patch_with_star_if_match_succeeds(client: httpx.Client) -> None:
    customer_id = make_customer(client)["id"]
    created = make_shipping_address(client, customer_id)
    response = client.patch(
        f"{customer_addresses(customer_id)}/{created['id']}",
        json={"shipTo": {"company": "X"}},
        headers={"if-match": "*"},
    )
    assert json_of(response, 200)["shipTo"]["company"] == "X"


def test_patch_with_a_stale_if_match_is_412_and_changes_nothing(client: httpx.Client) -> None:
    customer_id = make_customer(client)["id"]
    first = make_shipping_address(client, customer_id)
    second = make_shipping_address(client, customer_id)
    url = f"{customer_addresses(customer_id)}/{second['id']}"
    response = client.patch(
        url, json={"default": True, "shipTo": {"company": "X"}}, headers={"if-match": '"9"'}
    )
    assert_error(response, 412, "conflict")
    fetched = client.get(url)
    assert json_of(fetched, 200) == second
    assert fetched.headers["etag"] == '"1"'
    customer = json_of(client.get(f"{CUSTOMERS}/{customer_id}"), 200)
    assert customer["defaultShippingAddress"] == {"id": first["id"]}


def test_patch_with_an_invalid_field_is_400_and_changes_nothing(client: httpx.Client) -> None:
    customer_id = make_customer(client)["id"]
    created = make_shipping_address(client, customer_id)
    url = f"{customer_addresses(customer_id)}/{created['id']}"
    response = client.patch(url, json={"shipTo": {"postalCode": "1" * 11}})
    assert_error(response, 400, "invalidFields", field="shipTo.postalCode")
    fetched = client.get(url)
    assert json_of(fetched, 200) == created
    assert fetched.headers["etag"] == '"1"'


def test_list_puts_the_default_first_and_pages(client: httpx.Client) -> None:
    customer_id = make_customer(client)["id"]
    created = [make_shipping_address(client, customer_id)["id"] for _ in range(3)]
    url = customer_addresses(customer_id)
    json_of(client.patch(f"{url}/{created[1]}", json={"default": True}), 200)

    response = client.get(url, params={"limit": 1, "offset": 1})
    page = json_of(response, 200)
    assert response.headers["x-total-count"] == "3"
    assert (page["offset"], page["limit"], page["count"], page["total"]) == (1, 1, 1, 3)
    assert ids_of(page) == [created[0]]
    assert page["_links"] == {
        "self": {"href": f"{url}?offset=1&limit=1"},
        "first": {"href": f"{url}?offset=0&limit=1"},
        "prev": {"href": f"{url}?offset=0&limit=1"},
        "next": {"href": f"{url}?offset=2&limit=1"},
        "last": {"href": f"{url}?offset=2&limit=1"},
    }
    everything = json_of(client.get(url), 200)
    assert ids_of(everything) == [created[1], created[0], created[2]]
    defaults = [item["default"] for item in everything["_embedded"]["shippingAddresses"]]
    assert defaults == [True, False, False]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        pytest.param("limit=0", "limit", id="limit-0"),
        pytest.param("limit=1000", "limit", id="limit-1000"),
        pytest.param("offset=one", "offset", id="offset-word"),
    ],
)
def test_list_rejects_bad_paging(client: httpx.Client, query: str, field: str) -> None:
    customer_id = make_customer(client)["id"]
    response = client.get(f"{customer_addresses(customer_id)}?{query}")
    assert_error(response, 400, "invalidFields", field=field, location="query")


def test_delete_of_the_default_with_siblings_is_409(client: httpx.Client) -> None:
    customer_id = make_customer(client)["id"]
    default = make_shipping_address(client, customer_id)
    make_shipping_address(client, customer_id)
    url = f"{customer_addresses(customer_id)}/{default['id']}"
    assert_error(client.delete(url), 409, "conflict", message=DEFAULT_IN_USE)
    assert json_of(client.get(url), 200)["default"] is True


def test_delete_of_a_sibling_then_of_the_last_clears_the_default(
    any_client: httpx.Client,
) -> None:
    customer_id = make_customer(any_client)["id"]
    default = make_shipping_address(any_client, customer_id)
    sibling = make_shipping_address(any_client, customer_id)
    url = customer_addresses(customer_id)
    assert any_client.delete(f"{url}/{sibling['id']}").status_code == 204
    assert_error(any_client.get(f"{url}/{sibling['id']}"), 410, "notAvailable")
    assert ids_of(json_of(any_client.get(url), 200)) == [default["id"]]

    response = any_client.delete(f"{url}/{default['id']}")
    assert response.status_code == 204
    assert response.content == b""
    customer = json_of(any_client.get(f"{CUSTOMERS}/{customer_id}"), 200)
    assert "defaultShippingAddress" not in customer
    assert "_embedded" not in customer
    assert json_of(any_client.get(url), 200)["total"] == 0
    assert make_shipping_address(any_client, customer_id)["default"] is True


def test_another_customers_address_is_404_under_this_customer(client: httpx.Client) -> None:
    mine = make_customer(client)["id"]
    theirs = make_customer(client)["id"]
    address = make_shipping_address(client, theirs)
    url = f"{customer_addresses(mine)}/{address['id']}"
    assert_error(client.get(url), 404, "notFound", message="Token not found")
    assert_error(client.patch(url, json={"default": True}), 404, "notFound")
    assert_error(client.delete(url), 404, "notFound")
    fetched = client.get(f"{customer_addresses(theirs)}/{address['id']}")
    assert json_of(fetched, 200) == address


@pytest.mark.parametrize(
    ("body", "error_type", "field"),
    [
        pytest.param(
            {"shipTo": {"country": "GBR"}}, "invalidFields", "shipTo.country", id="country"
        ),
        pytest.param(
            {"shipTo": {"firstName": "a" * 61}}, "invalidFields", "shipTo.firstName", id="too-long"
        ),
        pytest.param({"default": "yes"}, "invalidFields", "default", id="default-string"),
        pytest.param({"shipTo": ["x"]}, "invalidFields", "shipTo", id="list-for-object"),
    ],
)
def test_create_rejects_invalid_fields(
    client: httpx.Client, body: dict[str, Any], error_type: str, field: str
) -> None:
    customer_id = make_customer(client)["id"]
    response = client.post(customer_addresses(customer_id), json=body)
    assert_error(response, 400, error_type, field=field)
    assert json_of(client.get(customer_addresses(customer_id)), 200)["total"] == 0
