"""/tms/v1/paymentinstruments (tms-api.md §2.2, §3.2)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.api.envelopes import assert_error
from tests.api.factories import (
    II,
    PI,
    failing_luhn,
    json_of,
    make_customer,
    make_customer_payment_instrument,
    make_instrument_identifier,
    make_payment_instrument,
    masked,
)
from tests.support import Merchant, make_pan

CARD = {"expirationMonth": "12", "expirationYear": "2031", "type": "001"}
BILL_TO = {
    "firstName": "Ada",
    "lastName": "Lovelace",
    "address1": "1 Market St",
    "locality": "San Francisco",
    "administrativeArea": "CA",
    "postalCode": "94105",
    "country": "US",
    "email": "ada@example.com",
}


def test_create_by_instrument_identifier_id_returns_201_with_the_full_shape(
    any_client: httpx.Client, merchant: Merchant
) -> None:
    pan = make_pan()
    ii = make_instrument_identifier(any_client, pan)
    response = any_client.post(
        PI, json={"card": CARD, "billTo": BILL_TO, "instrumentIdentifier": {"id": ii["id"]}}
    )
    body = json_of(response, 201)
    pi_id = body["id"]
    assert len(pi_id) == 32
    assert pi_id == pi_id.upper()
    assert body["_links"] == {"self": {"href": f"{PI}/{pi_id}"}}
    assert body["object"] == "paymentInstrument"
    assert body["state"] == "ACTIVE"
    assert body["card"] == CARD
    assert body["billTo"] == BILL_TO
    assert body["instrumentIdentifier"] == {"id": ii["id"]}
    assert body["metadata"] == {"creator": merchant.id}
    assert body["_embedded"] == {"instrumentIdentifier": ii}
    assert body["_embedded"]["instrumentIdentifier"]["card"]["number"] == masked(pan)
    assert response.headers["etag"] == '"1"'


def test_get_returns_what_create_returned(any_client: httpx.Client) -> None:
    created = make_payment_instrument(any_client, billTo=BILL_TO)
    response = any_client.get(f"{PI}/{created['id']}")
    assert json_of(response, 200) == created
    assert response.headers["etag"] == '"1"'


def test_create_with_an_inline_card_stores_a_new_instrument_identifier(
    client: httpx.Client,
) -> None:
    pan = make_pan()
    body = make_payment_instrument(client, pan)
    ii_id = body["instrumentIdentifier"]["id"]
    assert body["_embedded"]["instrumentIdentifier"]["card"] == {"number": masked(pan)}
    # The identifier now exists: creating the card again finds it.
    again = client.post(II, json={"card": {"number": pan}})
    assert json_of(again, 200)["id"] == ii_id


def test_create_with_an_inline_card_reuses_a_stored_instrument_identifier(
    client: httpx.Client,
) -> None:
    pan = make_pan()
    ii = make_instrument_identifier(client, pan)
    body = make_payment_instrument(client, pan)
    assert body["instrumentIdentifier"] == {"id": ii["id"]}
    listed = json_of(client.get(f"{II}/{ii['id']}/paymentinstruments"), 200)
    assert [item["id"] for item in listed["_embedded"]["paymentInstruments"]] == [body["id"]]


def test_create_with_an_inline_bank_account(client: httpx.Client) -> None:
    number = make_pan("9", 12)
    body = {
        "bankAccount": {"type": "checking"},
        "processingInformation": {"bankTransferOptions": {"SECCode": "WEB"}},
        "instrumentIdentifier": {"bankAccount": {"number": number, "routingNumber": "071923284"}},
    }
    response = client.post(PI, json=body)
    created = json_of(response, 201)
    assert created["bankAccount"] == {"type": "checking"}
    embedded = created["_embedded"]["instrumentIdentifier"]
    assert embedded["bankAccount"] == {
        "number": "X" * 8 + number[-4:],
        "routingNumber": "071923284",
    }
    assert number not in response.text
    missing_routing = {"instrumentIdentifier": {"bankAccount": {"number": number}}}
    assert_error(
        client.post(PI, json=missing_routing),
        400,
        "missingFields",
        field="instrumentIdentifier.bankAccount.routingNumber",
    )


def test_create_with_both_id_and_card_is_400_invalid_combination(client: httpx.Client) -> None:
    ii = make_instrument_identifier(client)
    pan = make_pan()
    response = client.post(
        PI, json={"instrumentIdentifier": {"id": ii["id"], "card": {"number": pan}}}
    )
    assert_error(response, 400, "invalidCombination", field="instrumentIdentifier.id")
    # Nothing was stored for the inline card.
    json_of(client.post(II, json={"card": {"number": pan}}), 201)


@pytest.mark.parametrize(
    "body",
    [
        pytest.param({"card": CARD}, id="no-instrument-identifier"),
        pytest.param({"instrumentIdentifier": {}}, id="empty-instrument-identifier"),
        pytest.param({"instrumentIdentifier": {"card": {}}}, id="card-without-number"),
    ],
)
def test_create_without_an_instrument_identifier_is_400_missing_fields(
    client: httpx.Client, body: dict[str, Any]
) -> None:
    response = client.post(PI, json=body)
    assert_error(response, 400, "missingFields", field="instrumentIdentifier")


def test_create_with_an_unknown_instrument_identifier_is_400_naming_the_id(
    client: httpx.Client,
) -> None:
    response = client.post(PI, json={"instrumentIdentifier": {"id": "7010000000016241112"}})
    assert_error(response, 400, "invalidFields", field="instrumentIdentifier.id")


def test_create_with_a_deleted_instrument_identifier_is_400_naming_the_id(
    client: httpx.Client,
) -> None:
    ii_id = make_instrument_identifier(client)["id"]
    assert client.delete(f"{II}/{ii_id}").status_code == 204
    response = client.post(PI, json={"instrumentIdentifier": {"id": ii_id}})
    assert_error(response, 400, "invalidFields", field="instrumentIdentifier.id")


def test_create_with_a_bad_inline_card_names_the_nested_field(client: httpx.Client) -> None:
    card = {"number": failing_luhn()}
    response = client.post(PI, json={"instrumentIdentifier": {"card": card}})
    assert_error(response, 400, "invalidFields", field="instrumentIdentifier.card.number")


def test_buyer_information_date_of_birth_round_trips(client: httpx.Client) -> None:
    buyer = {"dateOfBirth": "1990-05-17", "currency": "USD"}
    created = make_payment_instrument(client, buyerInformation=buyer)
    assert created["buyerInformation"] == buyer
    fetched = json_of(client.get(f"{PI}/{created['id']}"), 200)
    assert fetched["buyerInformation"] == buyer


@pytest.mark.parametrize(
    "date_of_birth",
    [
        pytest.param("1990-13-01", id="month-13"),
        pytest.param("17/05/1990", id="not-iso"),
        pytest.param("yesterday", id="words"),
    ],
)
def test_buyer_information_rejects_a_bad_date_of_birth(
    client: httpx.Client, date_of_birth: str
) -> None:
    response = client.post(
        PI,
        json={
            "buyerInformation": {"dateOfBirth": date_of_birth},
            "instrumentIdentifier": {"card": {"number": make_pan()}},
        },
    )
    assert_error(response, 400, "invalidFields", field="buyerInformation.dateOfBirth")


@pytest.mark.parametrize(
    "spelling",
    [
        pytest.param("companyTaxID", id="spec-spelling"),
        pytest.param("companyTaxId", id="sdk-sample-spelling"),
    ],
)
def test_company_tax_id_is_accepted_in_both_spellings(client: httpx.Client, spelling: str) -> None:
    created = make_payment_instrument(client, buyerInformation={spelling: "123456789"})
    assert created["buyerInformation"] == {"companyTaxID": "123456789"}
    fetched = json_of(client.get(f"{PI}/{created['id']}"), 200)
    assert fetched["buyerInformation"] == {"companyTaxID": "123456789"}


def test_sdk_renamed_keys_are_accepted(client: httpx.Client) -> None:
    created = make_payment_instrument(
        client,
        card={**CARD, "tokenizedInformation": {"requestorId": "40010052236"}},
        processingInformation={"bankTransferOptions": {"SECCode": "WEB"}},
    )
    assert created["card"]["tokenizedInformation"] == {"requestorID": "40010052236"}
    assert created["processingInformation"] == {"bankTransferOptions": {"SECCode": "WEB"}}


def test_patch_merges_objects_removes_nulls_and_changes_the_etag(
    any_client: httpx.Client,
) -> None:
    created = make_payment_instrument(any_client, billTo=BILL_TO)
    url = f"{PI}/{created['id']}"
    response = any_client.patch(
        url,
        json={"card": {"expirationYear": "2033"}, "billTo": None},
        headers={"if-match": '"1"'},
    )
    body = json_of(response, 200)
    assert body["card"] == {**CARD, "expirationYear": "2033"}
    assert "billTo" not in body
    assert body["instrumentIdentifier"] == created["instrumentIdentifier"]
    assert response.headers["etag"] != '"1"'
    fetched = any_client.get(url)
    assert json_of(fetched, 200) == body
    assert fetched.headers["etag"] == response.headers["etag"]


def test_patch_can_move_to_another_instrument_identifier(client: httpx.Client) -> None:
    created = make_payment_instrument(client)
    other = make_instrument_identifier(client)
    response = client.patch(
        f"{PI}/{created['id']}", json={"instrumentIdentifier": {"id": other["id"]}}
    )
    body = json_of(response, 200)
    assert body["instrumentIdentifier"] == {"id": other["id"]}
    assert body["_embedded"]["instrumentIdentifier"]["id"] == other["id"]


def test_patch_with_an_unknown_instrument_identifier_is_400_and_changes_nothing(
    client: httpx.Client,
) -> None:
    created = make_payment_instrument(client)
    url = f"{PI}/{created['id']}"
    response = client.patch(url, json={"instrumentIdentifier": {"id": "7010000000016241112"}})
    assert_error(response, 400, "invalidFields", field="instrumentIdentifier.id")
    fetched = client.get(url)
    assert json_of(fetched, 200) == created
    assert fetched.headers["etag"] == '"1"'


@pytest.mark.parametrize(
    "if_match",
    [pytest.param('"1"', id="current-etag"), pytest.param("*", id="star")],
)
def test_patch_with_a_matching_if_match_succeeds(client: httpx.Client, if_match: str) -> None:
    created = make_payment_instrument(client)
    response = client.patch(
        f"{PI}/{created['id']}", json={"card": {"type": "002"}}, headers={"if-match": if_match}
    )
    assert json_of(response, 200)["card"]["type"] == "002"
    assert response.headers["etag"] != '"1"'


def test_patch_with_a_stale_if_match_is_412_and_changes_nothing(client: httpx.Client) -> None:
    created = make_payment_instrument(client)
    url = f"{PI}/{created['id']}"
    json_of(client.patch(url, json={"card": {"type": "002"}}), 200)
    stale = client.patch(url, json={"card": {"type": "003"}}, headers={"if-match": '"1"'})
    assert_error(stale, 412, "conflict")
    assert json_of(client.get(url), 200)["card"]["type"] == "002"


def test_delete_is_204_then_the_token_is_gone(any_client: httpx.Client) -> None:
    created = make_payment_instrument(any_client)
    url = f"{PI}/{created['id']}"
    response = any_client.delete(url)
    assert response.status_code == 204
    assert response.content == b""
    assert_error(any_client.get(url), 410, "notAvailable")
    assert_error(any_client.patch(url, json={"card": {"type": "002"}}), 410, "notAvailable")
    # The identifier stays: deleting a payment instrument never deletes its card.
    ii_id = created["instrumentIdentifier"]["id"]
    json_of(any_client.get(f"{II}/{ii_id}"), 200)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        pytest.param("?retrieveBinDetails=True", True, id="True"),
        pytest.param("?retrieveBinDetails=false", False, id="false"),
        pytest.param("", False, id="absent"),
    ],
)
def test_retrieve_bin_details_embeds_the_lookup_in_the_identifier(
    client: httpx.Client, query: str, expected: bool
) -> None:
    body = {"instrumentIdentifier": {"card": {"number": make_pan("555555")}}}
    created = json_of(client.post(PI + query, json=body), 201)
    fetched = json_of(client.get(f"{PI}/{created['id']}{query}"), 200)
    patched = json_of(client.patch(f"{PI}/{created['id']}{query}", json={"card": CARD}), 200)
    for response in (created, fetched, patched):
        embedded_ii = response["_embedded"]["instrumentIdentifier"]
        assert ("_embedded" in embedded_ii) is expected
        if expected:
            card = embedded_ii["_embedded"]["binLookup"]["paymentAccountInformation"]["card"]
            assert card["type"] == "002"


def test_retrieve_bin_details_rejects_a_non_boolean(client: httpx.Client) -> None:
    pi_id = make_payment_instrument(client)["id"]
    for response in (
        client.post(PI + "?retrieveBinDetails=maybe", json={"card": CARD}),
        client.get(f"{PI}/{pi_id}?retrieveBinDetails=maybe"),
        client.patch(f"{PI}/{pi_id}?retrieveBinDetails=maybe", json={"card": CARD}),
    ):
        assert_error(response, 400, "invalidFields", field="retrieveBinDetails", location="query")


def test_customer_payment_instrument_is_reachable_by_the_standalone_path(
    client: httpx.Client,
) -> None:
    customer_id = make_customer(client)["id"]
    created = make_customer_payment_instrument(client, customer_id)
    url = f"{PI}/{created['id']}"
    fetched = json_of(client.get(url), 200)
    assert fetched["id"] == created["id"]
    assert fetched["_links"]["customer"] == {"href": f"/tms/v2/customers/{customer_id}"}
    assert fetched["default"] is True
    patched = json_of(client.patch(url, json={"card": {"expirationYear": "2034"}}), 200)
    assert patched["card"]["expirationYear"] == "2034"
    scoped = f"/tms/v2/customers/{customer_id}/payment-instruments/{created['id']}"
    assert json_of(client.get(scoped), 200)["card"]["expirationYear"] == "2034"


def test_standalone_delete_of_a_customer_default_with_siblings_is_409(
    client: httpx.Client,
) -> None:
    customer_id = make_customer(client)["id"]
    default = make_customer_payment_instrument(client, customer_id)
    make_customer_payment_instrument(client, customer_id)
    assert_error(client.delete(f"{PI}/{default['id']}"), 409, "conflict")
    json_of(client.get(f"{PI}/{default['id']}"), 200)
