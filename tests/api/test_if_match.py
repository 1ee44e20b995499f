"""``if-match`` on every PATCH that honours it (tms-api.md §1, RFC 9110
§13.1.1): what clients send is accepted (the quoted ETag as the SDKs echo it,
the same unquoted, ``*``, a list), a weak tag never matches, and a 412 gives
the current ETag as a header and in its message."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

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

MISMATCH = "Action cannot be performed as the if-match header value does not match the token etag"


def _customer_pi(client: httpx.Client) -> str:
    customer = make_customer(client)["id"]
    pi = make_customer_payment_instrument(client, customer)["id"]
    return f"{customer_pis(customer)}/{pi}"


def _shipping_address(client: httpx.Client) -> str:
    customer = make_customer(client)["id"]
    return f"{customer_addresses(customer)}/{make_shipping_address(client, customer)['id']}"


# Each kind of token a PATCH takes if-match for: how to make one (its URL), and a change.
KINDS: dict[str, tuple[Callable[[httpx.Client], str], Callable[[int], dict[str, Any]]]] = {
    "instrument-identifier": (
        lambda c: f"{II}/{make_instrument_identifier(c)['id']}",
        lambda n: {
            "processingInformation": {
                "authorizationOptions": {
                    "initiator": {"merchantInitiatedTransaction": {"previousTransactionId": str(n)}}
                }
            }
        },
    ),
    "payment-instrument": (
        lambda c: f"{PI}/{make_payment_instrument(c)['id']}",
        lambda n: {"billTo": {"firstName": f"Ada{n}"}},
    ),
    "customer": (
        lambda c: f"{CUSTOMERS}/{make_customer(c)['id']}",
        lambda n: {"buyerInformation": {"email": f"ada{n}@example.com"}},
    ),
    "customer-payment-instrument": (_customer_pi, lambda n: {"billTo": {"firstName": f"Ada{n}"}}),
    "shipping-address": (_shipping_address, lambda n: {"shipTo": {"firstName": f"Ada{n}"}}),
}
KIND_PARAMS = [pytest.param(kind, id=kind) for kind in KINDS]


def make(client: httpx.Client, kind: str) -> str:
    url = KINDS[kind][0](client)
    assert client.get(url).headers["etag"] == '"1"'
    return url


def patch(client: httpx.Client, kind: str, url: str, n: int, if_match: str) -> httpx.Response:
    return client.patch(url, json=KINDS[kind][1](n), headers={"if-match": if_match})


@pytest.mark.parametrize(
    "if_match",
    [
        pytest.param('"1"', id="quoted-as-the-sdks-echo-it"),
        pytest.param("1", id="unquoted"),
        pytest.param(" 1 ", id="unquoted-with-spaces"),
        pytest.param("*", id="star"),
        pytest.param('"7", 1', id="list"),
    ],
)
@pytest.mark.parametrize("kind", KIND_PARAMS)
def test_a_matching_if_match_updates(client: httpx.Client, kind: str, if_match: str) -> None:
    url = make(client, kind)
    response = patch(client, kind, url, 1, if_match)
    json_of(response, 200)
    assert response.headers["etag"] == '"2"'


@pytest.mark.parametrize("kind", KIND_PARAMS)
def test_a_stale_if_match_is_412_with_the_current_etag(client: httpx.Client, kind: str) -> None:
    url = make(client, kind)
    json_of(patch(client, kind, url, 1, '"1"'), 200)
    before = client.get(url)
    for stale in ('"1"', "1"):
        response = patch(client, kind, url, 2, stale)
        assert_error(response, 412, "conflict", message=f'{MISMATCH} "2".')
        assert response.headers["etag"] == '"2"'
    after = client.get(url)
    assert (after.json(), after.headers["etag"]) == (before.json(), '"2"')
    # The ETag the 412 gave is the one to send.
    json_of(patch(client, kind, url, 3, response.headers["etag"]), 200)


@pytest.mark.parametrize("kind", KIND_PARAMS)
def test_a_weak_tag_never_matches_and_the_412_says_why(client: httpx.Client, kind: str) -> None:
    url = make(client, kind)
    for weak in ('W/"1"', 'W/"1", W/"2"'):
        response = patch(client, kind, url, 1, weak)
        error = assert_error(response, 412, "conflict")
        assert response.headers["etag"] == '"1"'
        assert error["message"].startswith(f'{MISMATCH} "1". A weak tag (W/"...") never matches')
        assert "RFC 9110" in error["message"]
    assert client.get(url).headers["etag"] == '"1"'


def test_a_malformed_if_match_is_412_and_says_so(client: httpx.Client) -> None:
    url = make(client, "customer")
    response = patch(client, "customer", url, 1, '"1')
    error = assert_error(response, 412, "conflict")
    assert response.headers["etag"] == '"1"'
    assert "not a list of entity tags" in error["message"]


def test_the_header_name_is_matched_in_any_case(client: httpx.Client) -> None:
    url = make(client, "payment-instrument")
    # Python SDK: title case; Node SDK: lower case (node-sdk-notes.md 3).
    first = client.patch(url, json={"billTo": {"firstName": "A"}}, headers={"If-Match": '"1"'})
    json_of(first, 200)
    stale = client.patch(url, json={"billTo": {"firstName": "B"}}, headers={"IF-MATCH": '"1"'})
    assert_error(stale, 412, "conflict")
    assert stale.headers["etag"] == '"2"'
