"""/tms/v1/instrumentidentifiers (tms-api.md §2.1, §3.1, §3.6)."""

from __future__ import annotations

import re

import httpx
import pytest

from tests.api.envelopes import assert_error
from tests.api.factories import (
    II,
    PI,
    json_of,
    make_instrument_identifier,
    masked,
)
from tests.support import Merchant, make_pan

IN_USE_MESSAGE = (
    "Action cannot be performed. The Instrument Identifier is associated with one or more "
    "Payment Instruments."
)
IF_MATCH_MESSAGE = (
    'Action cannot be performed as the if-match header value does not match the token etag "2".'
)
MIT = {
    "processingInformation": {
        "authorizationOptions": {
            "initiator": {
                "merchantInitiatedTransaction": {
                    "previousTransactionId": "123456789012345",
                    "originalAuthorizedAmount": "10.00",
                }
            }
        }
    }
}


def link_payment_instrument(client: httpx.Client, ii_id: str) -> str:
    body = {"instrumentIdentifier": {"id": ii_id}, "card": {"expirationMonth": "01"}}
    pi_id: str = json_of(client.post(PI, json=body), 201)["id"]
    return pi_id


def test_create_returns_201_with_the_masked_card_and_links(
    any_client: httpx.Client, merchant: Merchant
) -> None:
    pan = make_pan()
    response = any_client.post(
        II, json={"card": {"number": pan, "expirationMonth": "12", "expirationYear": "2031"}}
    )
    body = json_of(response, 201)
    ii_id = body["id"]
    assert re.fullmatch(r"[0-9]{12,32}", ii_id)
    # The default profile provisions a network token for the new card.
    token = body.pop("tokenizedCard")
    assert token["state"] == "ACTIVE"
    assert token["type"] == "visa"
    assert token["card"] == {"suffix": pan[-4:], "expirationMonth": "12", "expirationYear": "2031"}
    assert token["number"].startswith("489537")
    assert pan not in token["number"]
    token_link = body["_links"].pop("tokenized-cards")
    assert token_link["href"].startswith("/tms/v2/tokenized-cards/")
    assert body.pop("issuer")["paymentAccountReference"].startswith("V001")
    assert body == {
        "_links": {
            "self": {"href": f"{II}/{ii_id}"},
            "paymentInstruments": {"href": f"{II}/{ii_id}/paymentinstruments"},
        },
        "id": ii_id,
        "object": "instrumentIdentifier",
        "state": "ACTIVE",
        "card": {"number": masked(pan)},
        "metadata": {"creator": merchant.id},
    }
    assert response.headers["location"].endswith(f"{II}/{ii_id}")
    assert response.headers["etag"] == '"1"'


def test_create_returns_200_and_the_same_id_when_the_card_is_stored(
    any_client: httpx.Client,
) -> None:
    pan = make_pan()
    first = json_of(any_client.post(II, json={"card": {"number": pan}}), 201)
    again = any_client.post(II, json={"card": {"number": pan}})
    body = json_of(again, 200)
    assert body == first
    assert again.headers["location"].endswith(f"{II}/{first['id']}")
    assert again.headers["etag"]


def test_create_stores_a_new_identifier_when_the_card_differs(client: httpx.Client) -> None:
    first = make_instrument_identifier(client)
    second = make_instrument_identifier(client)
    assert first["id"] != second["id"]


def test_get_returns_what_create_returned_with_an_etag(client: httpx.Client) -> None:
    created = make_instrument_identifier(client, make_pan("555555"))
    response = client.get(f"{II}/{created['id']}")
    assert json_of(response, 200) == created
    assert response.headers["etag"] == '"1"'


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        pytest.param("?retrieveBinDetails=True", True, id="True-as-the-sdk-sends"),
        pytest.param("?retrieveBinDetails=true", True, id="true"),
        pytest.param("?retrieveBinDetails=TRUE", True, id="TRUE"),
        pytest.param("?retrieveBinDetails=False", False, id="False-as-the-sdk-sends"),
        pytest.param("?retrieveBinDetails=false", False, id="false"),
        pytest.param("", False, id="absent"),
    ],
)
def test_retrieve_bin_details_is_read_case_insensitively(
    client: httpx.Client, query: str, expected: bool
) -> None:
    pan = make_pan()
    created = json_of(client.post(II + query, json={"card": {"number": pan}}), 201)
    again = json_of(client.post(II + query, json={"card": {"number": pan}}), 200)
    fetched = json_of(client.get(f"{II}/{created['id']}{query}"), 200)
    patched = json_of(client.patch(f"{II}/{created['id']}{query}", json=MIT), 200)
    for body in (created, again, fetched, patched):
        assert ("_embedded" in body) is expected
        if expected:
            assert "binLookup" in body["_embedded"]


@pytest.mark.parametrize(
    "value",
    [
        pytest.param("yes", id="yes"),
        pytest.param("Truee", id="typo"),
    ],
)
def test_retrieve_bin_details_rejects_a_non_boolean(client: httpx.Client, value: str) -> None:
    ii_id = make_instrument_identifier(client)["id"]
    for response in (
        client.post(
            II, params={"retrieveBinDetails": value}, json={"card": {"number": make_pan()}}
        ),
        client.get(f"{II}/{ii_id}", params={"retrieveBinDetails": value}),
        client.patch(f"{II}/{ii_id}", params={"retrieveBinDetails": value}, json=MIT),
        client.get(f"{II}/{ii_id}/paymentinstruments", params={"retrieveBinDetails": value}),
    ):
        assert_error(response, 400, "invalidFields", field="retrieveBinDetails", location="query")


@pytest.mark.parametrize(
    ("prefix", "length", "card_type", "brand_name", "funding"),
    [
        pytest.param("411111", 16, "001", "VISA", "CREDIT", id="visa"),
        pytest.param("555555", 16, "002", "MASTERCARD", "CREDIT", id="mastercard"),
        pytest.param("378282", 15, "003", "AMERICAN EXPRESS", "CHARGE", id="amex"),
    ],
)
def test_bin_lookup_describes_the_brand(
    client: httpx.Client,
    prefix: str,
    length: int,
    card_type: str,
    brand_name: str,
    funding: str,
) -> None:
    pan = make_pan(prefix, length)
    response = client.post(
        II, params={"retrieveBinDetails": "True"}, json={"card": {"number": pan}}
    )
    lookup = json_of(response, 201)["_embedded"]["binLookup"]
    card = lookup["paymentAccountInformation"]["card"]
    assert card["type"] == card_type
    assert card["brandName"] == brand_name
    assert card["credentialType"] == "PAN"
    assert str(card["maxLength"]) == str(length)
    assert card["brands"] == [{"type": card_type, "brandName": brand_name}]
    assert lookup["paymentAccountInformation"]["network"]["id"] == card_type
    features = lookup["paymentAccountInformation"]["features"]
    assert features["accountFundingSource"] == funding
    issuer = lookup["issuerInformation"]
    assert issuer["accountPrefix"] in (pan[:6], pan[:8])
    assert issuer["binLength"] == str(len(issuer["accountPrefix"]))
    assert pan not in response.text


def test_patch_updates_the_merchant_initiated_transaction_and_the_etag(
    any_client: httpx.Client,
) -> None:
    ii_id = make_instrument_identifier(any_client)["id"]
    response = any_client.patch(f"{II}/{ii_id}", json=MIT)
    body = json_of(response, 200)
    assert body["processingInformation"] == MIT["processingInformation"]
    assert response.headers["etag"] not in ('"1"', "")
    fetched = any_client.get(f"{II}/{ii_id}")
    assert json_of(fetched, 200) == body
    assert fetched.headers["etag"] == response.headers["etag"]


@pytest.mark.parametrize(
    "if_match",
    [
        pytest.param('"1"', id="current-etag"),
        pytest.param("*", id="star"),
        pytest.param('"7", "1"', id="one-of-a-list"),
    ],
)
def test_patch_with_a_matching_if_match_succeeds(client: httpx.Client, if_match: str) -> None:
    ii_id = make_instrument_identifier(client)["id"]
    response = client.patch(f"{II}/{ii_id}", json=MIT, headers={"if-match": if_match})
    json_of(response, 200)
    assert response.headers["etag"] != '"1"'


def test_patch_with_a_stale_if_match_is_412_and_changes_nothing(client: httpx.Client) -> None:
    ii_id = make_instrument_identifier(client)["id"]
    first = client.patch(f"{II}/{ii_id}", json=MIT, headers={"if-match": '"1"'})
    json_of(first, 200)
    stale = client.patch(
        f"{II}/{ii_id}",
        json={"tokenProvisioningInformation": {"consumerConsentObtained": True}},
        headers={"if-match": '"1"'},
    )
    assert_error(stale, 412, "conflict", message=IF_MATCH_MESSAGE)
    assert stale.headers["etag"] == '"2"' == first.headers["etag"]
    fetched = client.get(f"{II}/{ii_id}")
    assert "tokenProvisioningInformation" not in json_of(fetched, 200)
    assert fetched.headers["etag"] == first.headers["etag"]


def test_patch_cannot_change_the_card_number(client: httpx.Client) -> None:
    pan = make_pan()
    ii_id = make_instrument_identifier(client, pan)["id"]
    response = client.patch(f"{II}/{ii_id}", json={"card": {"number": make_pan()}})
    assert_error(response, 400, "unsupportedPaymentMethodModification", field="card.number")
    fetched = client.get(f"{II}/{ii_id}")
    assert json_of(fetched, 200)["card"] == {"number": masked(pan)}
    assert fetched.headers["etag"] == '"1"'


def test_delete_while_linked_is_409_with_a_link_to_the_payment_instruments(
    client: httpx.Client,
) -> None:
    ii_id = make_instrument_identifier(client)["id"]
    link_payment_instrument(client, ii_id)
    response = client.delete(f"{II}/{ii_id}")
    assert_error(response, 409, "instrumentIdentifierDeletionError")
    assert response.json() == {
        "_links": {"paymentInstruments": {"href": f"{II}/{ii_id}/paymentinstruments"}},
        "errors": [{"type": "instrumentIdentifierDeletionError", "message": IN_USE_MESSAGE}],
    }
    json_of(client.get(f"{II}/{ii_id}"), 200)


def test_delete_after_unlinking_is_204_then_the_token_is_gone(any_client: httpx.Client) -> None:
    ii_id = make_instrument_identifier(any_client)["id"]
    pi_id = link_payment_instrument(any_client, ii_id)
    assert any_client.delete(f"{PI}/{pi_id}").status_code == 204
    response = any_client.delete(f"{II}/{ii_id}")
    assert response.status_code == 204
    assert response.content == b""
    assert_error(any_client.get(f"{II}/{ii_id}"), 410, "notAvailable")
    assert_error(any_client.get(f"{II}/{ii_id}/paymentinstruments"), 410, "notAvailable")
    assert_error(any_client.patch(f"{II}/{ii_id}", json=MIT), 410, "notAvailable")
    assert_error(any_client.delete(f"{II}/{ii_id}"), 410, "notAvailable")


def test_a_deleted_card_is_stored_again_under_a_new_id(client: httpx.Client) -> None:
    pan = make_pan()
    old_id = make_instrument_identifier(client, pan)["id"]
    assert client.delete(f"{II}/{old_id}").status_code == 204
    new = make_instrument_identifier(client, pan)
    assert new["id"] != old_id
    assert new["card"] == {"number": masked(pan)}


def test_payment_instruments_list_pages_with_links_and_total(client: httpx.Client) -> None:
    ii_id = make_instrument_identifier(client)["id"]
    pi_ids = [link_payment_instrument(client, ii_id) for _ in range(3)]
    base = f"{II}/{ii_id}/paymentinstruments"

    first = client.get(base, params={"limit": 2})
    page = json_of(first, 200)
    assert first.headers["x-total-count"] == "3"
    assert page["_links"] == {
        "self": {"href": f"{base}?offset=0&limit=2"},
        "first": {"href": f"{base}?offset=0&limit=2"},
        "next": {"href": f"{base}?offset=2&limit=2"},
        "last": {"href": f"{base}?offset=2&limit=2"},
    }
    assert (page["offset"], page["limit"], page["count"], page["total"]) == (0, 2, 2, 3)
    items = page["_embedded"]["paymentInstruments"]
    assert [item["id"] for item in items] == pi_ids[:2]
    for item in items:
        assert item["object"] == "paymentInstrument"
        assert item["instrumentIdentifier"] == {"id": ii_id}
        assert item["_embedded"]["instrumentIdentifier"]["id"] == ii_id

    second = json_of(client.get(base, params={"offset": 2, "limit": 2}), 200)
    assert second["_links"] == {
        "self": {"href": f"{base}?offset=2&limit=2"},
        "first": {"href": f"{base}?offset=0&limit=2"},
        "prev": {"href": f"{base}?offset=0&limit=2"},
        "last": {"href": f"{base}?offset=2&limit=2"},
    }
    assert (second["offset"], second["count"], second["total"]) == (2, 1, 3)
    assert [item["id"] for item in second["_embedded"]["paymentInstruments"]] == pi_ids[2:]


def test_payment_instruments_list_defaults_to_offset_0_limit_20(client: httpx.Client) -> None:
    ii_id = make_instrument_identifier(client)["id"]
    pi_id = link_payment_instrument(client, ii_id)
    response = client.get(f"{II}/{ii_id}/paymentinstruments?retrieveBinDetails=True")
    page = json_of(response, 200)
    assert (page["offset"], page["limit"], page["count"], page["total"]) == (0, 20, 1, 1)
    assert "prev" not in page["_links"]
    assert "next" not in page["_links"]
    item = page["_embedded"]["paymentInstruments"][0]
    assert item["id"] == pi_id
    assert "binLookup" in item["_embedded"]["instrumentIdentifier"]["_embedded"]


def test_payment_instruments_list_of_an_unused_identifier_is_empty(client: httpx.Client) -> None:
    ii_id = make_instrument_identifier(client)["id"]
    response = client.get(f"{II}/{ii_id}/paymentinstruments")
    page = json_of(response, 200)
    assert response.headers["x-total-count"] == "0"
    assert (page["count"], page["total"]) == (0, 0)
    assert page["_embedded"]["paymentInstruments"] == []


@pytest.mark.parametrize(
    ("query", "field"),
    [
        pytest.param("limit=0", "limit", id="limit-0"),
        pytest.param("limit=101", "limit", id="limit-101"),
        pytest.param("limit=-1", "limit", id="limit-negative"),
        pytest.param("limit=abc", "limit", id="limit-not-a-number"),
        pytest.param("limit=1.5", "limit", id="limit-fraction"),
        pytest.param("offset=-1", "offset", id="offset-negative"),
        pytest.param("offset=x", "offset", id="offset-not-a-number"),
    ],
)
def test_payment_instruments_list_rejects_bad_paging(
    client: httpx.Client, query: str, field: str
) -> None:
    ii_id = make_instrument_identifier(client)["id"]
    response = client.get(f"{II}/{ii_id}/paymentinstruments?{query}")
    assert_error(response, 400, "invalidFields", field=field, location="query")


@pytest.mark.parametrize("limit", [pytest.param(1, id="1"), pytest.param(100, id="100")])
def test_payment_instruments_list_accepts_the_limit_bounds(
    client: httpx.Client, limit: int
) -> None:
    ii_id = make_instrument_identifier(client)["id"]
    page = json_of(client.get(f"{II}/{ii_id}/paymentinstruments", params={"limit": limit}), 200)
    assert page["limit"] == limit


def bank_account_number() -> str:
    return make_pan("9", 12)


def test_bank_account_identifier_is_masked_and_deduplicated(
    client: httpx.Client, merchant: Merchant
) -> None:
    number = bank_account_number()
    request = {"bankAccount": {"number": number, "routingNumber": "071923284"}}
    response = client.post(II, params={"retrieveBinDetails": "true"}, json=request)
    body = json_of(response, 201)
    ii_id = body["id"]
    assert body == {
        "_links": {
            "self": {"href": f"{II}/{ii_id}"},
            "paymentInstruments": {"href": f"{II}/{ii_id}/paymentinstruments"},
        },
        "id": ii_id,
        "object": "instrumentIdentifier",
        "state": "ACTIVE",
        "bankAccount": {"number": "X" * 8 + number[-4:], "routingNumber": "071923284"},
        "metadata": {"creator": merchant.id},
    }
    assert number not in response.text
    assert json_of(client.post(II, json=request), 200)["id"] == ii_id
    other_routing = {"bankAccount": {"number": number, "routingNumber": "021000021"}}
    assert json_of(client.post(II, json=other_routing), 201)["id"] != ii_id


@pytest.mark.parametrize(
    ("bank_account", "error_type", "field"),
    [
        pytest.param(
            {"number": "123456789"},
            "missingFields",
            "bankAccount.routingNumber",
            id="no-routing-number",
        ),
        pytest.param(
            {"number": "12-34", "routingNumber": "071923284"},
            "invalidFields",
            "bankAccount.number",
            id="number-not-digits",
        ),
        pytest.param(
            {"number": "1" * 18, "routingNumber": "071923284"},
            "invalidFields",
            "bankAccount.number",
            id="number-too-long",
        ),
    ],
)
def test_bank_account_identifier_rejects_bad_accounts(
    client: httpx.Client, bank_account: dict[str, str], error_type: str, field: str
) -> None:
    response = client.post(II, json={"bankAccount": bank_account})
    assert_error(response, 400, error_type, field=field)
