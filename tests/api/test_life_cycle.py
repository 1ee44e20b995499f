"""POST /tms/v2/tokenized-cards/{id}/issuer-life-cycle-event-simulations
(tms-api.md §2.6 endpoint 28, §3.5.3; docs/simulators.md "Life cycle")."""

from __future__ import annotations

import base64

import httpx
import pytest

from tests.api.envelopes import assert_error
from tests.api.factories import II, JSON, json_of
from tests.api.tokens_support import (
    AMEX,
    EXPIRY,
    UNKNOWN_IDS,
    VISA,
    asset_path,
    create_ii,
    get_token,
    issue,
    life_cycle,
    life_cycle_path,
    read_png,
    set_state,
    token_id_of,
)
from tests.support import Merchant


@pytest.fixture
def stored(client: httpx.Client) -> JSON:
    """A new Visa card stored as an instrument identifier, with its token."""
    return create_ii(client, VISA.new_pan())


def ii_token(client: httpx.Client, ii_id: str) -> JSON:
    token: JSON = json_of(client.get(f"{II}/{ii_id}"), 200)["tokenizedCard"]
    return token


def test_the_profile_id_header_is_required(client: httpx.Client, stored: JSON) -> None:
    token_id = token_id_of(stored)
    response = client.post(life_cycle_path(token_id), json={"state": "SUSPENDED"})
    assert_error(response, 400, "missingHeaders", field="profile-id", location="header")
    assert get_token(client, token_id)["state"] == "ACTIVE"


def test_an_unknown_profile_is_424(client: httpx.Client, stored: JSON) -> None:
    token_id = token_id_of(stored)
    response = client.post(
        life_cycle_path(token_id),
        json={"state": "SUSPENDED"},
        headers={"profile-id": "00000000-0000-4000-8000-000000000000"},
    )
    assert_error(response, 424, "notFound", message="Profile not found")
    assert get_token(client, token_id)["state"] == "ACTIVE"


@pytest.mark.parametrize(
    "moves",
    [
        pytest.param(["SUSPENDED"], id="suspend"),
        pytest.param(["SUSPENDED", "ACTIVE"], id="suspend-resume"),
        pytest.param(["SUSPENDED", "ACTIVE", "SUSPENDED", "ACTIVE"], id="twice"),
        pytest.param(["DELETED"], id="delete"),
        pytest.param(["SUSPENDED", "DELETED"], id="suspend-delete"),
        pytest.param(["SUSPENDED", "ACTIVE", "DELETED"], id="resume-delete"),
    ],
)
def test_allowed_moves(
    client: httpx.Client, merchant: Merchant, stored: JSON, moves: list[str]
) -> None:
    token_id = token_id_of(stored)
    for state in moves:
        response = life_cycle(client, merchant, token_id, {"state": state})
        assert response.status_code == 204, response.text
        assert response.content == b""
        token = get_token(client, token_id)
        assert token["state"] == token["tokenizedCard"]["state"] == state
        assert ii_token(client, stored["id"])["state"] == state


@pytest.mark.parametrize(
    ("before", "state"),
    [
        pytest.param(["DELETED"], "ACTIVE", id="deleted-active"),
        pytest.param(["DELETED"], "SUSPENDED", id="deleted-suspended"),
        pytest.param(["DELETED"], "DELETED", id="deleted-deleted"),
        pytest.param(["SUSPENDED", "DELETED"], "ACTIVE", id="suspended-deleted-active"),
    ],
)
def test_refused_moves_are_400_naming_state(
    client: httpx.Client, merchant: Merchant, stored: JSON, before: list[str], state: str
) -> None:
    token_id = token_id_of(stored)
    for earlier in before:
        set_state(client, merchant, token_id, earlier)
    response = life_cycle(client, merchant, token_id, {"state": state})
    assert_error(response, 400, "invalidFields", field="state")
    assert get_token(client, token_id)["state"] == before[-1]


def test_a_token_deleted_through_the_api_has_no_life_cycle_left(
    client: httpx.Client, merchant: Merchant, stored: JSON
) -> None:
    token_id = token_id_of(stored)
    assert client.delete(f"/tms/v2/tokenized-cards/{token_id}").status_code == 204
    response = life_cycle(client, merchant, token_id, {"state": "ACTIVE"})
    assert_error(response, 400, "invalidFields", field="state")
    response = life_cycle(client, merchant, token_id, {"card": {"last4": "1234"}})
    assert_error(response, 400, "invalidFields", field="state")
    assert (
        get_token(client, token_id)["card"]["suffix"] == stored["tokenizedCard"]["card"]["suffix"]
    )


@pytest.mark.parametrize(
    ("body", "field"),
    [
        pytest.param({"state": "FROZEN"}, "state", id="state"),
        pytest.param({"card": {"last4": "12a4"}}, "card.last4", id="last4-letters"),
        pytest.param({"card": {"last4": "123"}}, "card.last4", id="last4-short"),
        pytest.param({"card": {"expirationMonth": "13"}}, "card.expirationMonth", id="month"),
        pytest.param({"card": {"expirationYear": "31"}}, "card.expirationYear", id="year"),
        pytest.param({"expirationMonth": "0"}, "expirationMonth", id="top-level-month"),
        pytest.param(
            {"metadata": {"cardArt": {"combinedAsset": {"update": "yes"}}}},
            "metadata.cardArt.combinedAsset.update",
            id="update",
        ),
        pytest.param({}, "state", id="nothing"),
        pytest.param({"state": "ACTIVE"}, "state", id="same-state"),
        pytest.param(
            {"metadata": {"cardArt": {"combinedAsset": {"update": "false"}}}},
            "state",
            id="no-update",
        ),
    ],
)
def test_invalid_simulations_are_400(
    client: httpx.Client, merchant: Merchant, stored: JSON, body: JSON, field: str
) -> None:
    token_id = token_id_of(stored)
    before = get_token(client, token_id)
    assert_error(life_cycle(client, merchant, token_id, body), 400, "invalidFields", field=field)
    assert get_token(client, token_id) == before


@pytest.mark.parametrize("token_id", UNKNOWN_IDS)
def test_an_unknown_token_is_404(client: httpx.Client, merchant: Merchant, token_id: str) -> None:
    response = life_cycle(client, merchant, token_id, {"state": "SUSPENDED"})
    assert_error(response, 404, "notFound")


def test_another_merchants_token_is_404(
    client: httpx.Client,
    other_client: httpx.Client,
    merchant: Merchant,
    other_merchant: Merchant,
) -> None:
    theirs = token_id_of(create_ii(other_client, VISA.new_pan()))
    response = life_cycle(client, merchant, theirs, {"state": "DELETED"})
    assert_error(response, 404, "notFound")
    # Their own profile-id does not open it either: it is not one of ours (424).
    response = client.post(
        life_cycle_path(theirs),
        json={"state": "DELETED"},
        headers={"profile-id": other_merchant.registration.default_profile_id},
    )
    assert_error(response, 424, "notFound")
    assert get_token(other_client, theirs)["state"] == "ACTIVE"


@pytest.mark.parametrize(
    ("body", "card"),
    [
        pytest.param({"card": {"last4": "9876"}}, {"suffix": "9876", **EXPIRY}, id="last4"),
        pytest.param(
            {"card": {"expirationMonth": "3", "expirationYear": "2033"}},
            {"expirationMonth": "03", "expirationYear": "2033"},
            id="expiry",
        ),
        pytest.param(
            {"expirationMonth": "07", "expirationYear": "2034"},
            {"expirationMonth": "07", "expirationYear": "2034"},
            id="top-level-expiry",
        ),
        pytest.param(
            {"card": {"last4": "0042", "expirationMonth": "11", "expirationYear": "2032"}},
            {"suffix": "0042", "expirationMonth": "11", "expirationYear": "2032"},
            id="reissued",
        ),
        pytest.param(
            {"state": "SUSPENDED", "card": {"last4": "5555"}},
            {"suffix": "5555", **EXPIRY},
            id="with-state",
        ),
    ],
)
def test_card_updates_show_in_the_token_and_the_instrument_identifier(
    client: httpx.Client, merchant: Merchant, stored: JSON, body: JSON, card: JSON
) -> None:
    token_id = token_id_of(stored)
    before = get_token(client, token_id)
    response = life_cycle(client, merchant, token_id, body)
    assert response.status_code == 204, response.text
    expected = {**before["card"], **card}
    token = get_token(client, token_id)
    assert token["card"] == token["tokenizedCard"]["card"] == expected
    assert ii_token(client, stored["id"])["card"] == expected
    # The network token itself is unchanged: number and its own expiry.
    for key in ("number", "expirationMonth", "expirationYear", "paymentAccountReference"):
        assert token[key] == before[key]
    # The instrument identifier still shows the card it stores.
    assert json_of(client.get(f"{II}/{stored['id']}"), 200)["card"] == stored["card"]


def test_card_updates_show_in_payment_credentials(client: httpx.Client, merchant: Merchant) -> None:
    ii = create_ii(client, AMEX.new_pan())
    token_id = token_id_of(ii)
    body = {"card": {"last4": "7777", "expirationMonth": "5", "expirationYear": "2035"}}
    assert life_cycle(client, merchant, token_id, body).status_code == 204
    for token in (ii["id"], token_id):
        payload = issue(client, merchant, token, {"paymentCredentialType": "NETWORK_TOKEN"})
        assert payload["tokenizedCard"]["card"] == {
            "suffix": "7777",
            "expirationMonth": "05",
            "expirationYear": "2035",
        }


@pytest.mark.parametrize(
    "update", [pytest.param("true", id="string"), pytest.param(True, id="bool")]
)
def test_new_card_art(
    client: httpx.Client, merchant: Merchant, stored: JSON, update: object
) -> None:
    token_id = token_id_of(stored)
    before = get_token(client, token_id)
    png_before = fetch_png(client, stored["id"])
    body = {"metadata": {"cardArt": {"combinedAsset": {"update": update}}}}
    response = life_cycle(client, merchant, token_id, body)
    assert response.status_code == 204, response.text
    after = get_token(client, token_id)
    art_before, art_after = before["metadata"]["cardArt"], after["metadata"]["cardArt"]
    assert art_after["combinedAsset"]["id"] != art_before["combinedAsset"]["id"]
    assert art_after["combinedAsset"]["_links"] == art_before["combinedAsset"]["_links"]
    assert art_after["backgroundColor"] != art_before["backgroundColor"]
    assert ii_token(client, stored["id"])["metadata"]["cardArt"] == art_after
    asset = json_of(client.get(asset_path(stored["id"], "vts", "card-art-combined")), 200)
    assert asset["id"] == art_after["combinedAsset"]["id"]
    png_after = fetch_png(client, stored["id"])
    assert png_after != png_before
    assert read_png(png_after).first_pixel == bytes.fromhex(art_after["backgroundColor"])
    # Nothing else moved.
    assert after["state"] == "ACTIVE"
    assert after["card"] == before["card"]
    # A second update draws new art again.
    assert life_cycle(client, merchant, token_id, body).status_code == 204
    again = get_token(client, token_id)["metadata"]["cardArt"]["combinedAsset"]["id"]
    assert again not in (art_before["combinedAsset"]["id"], art_after["combinedAsset"]["id"])


def fetch_png(client: httpx.Client, ii_id: str) -> bytes:
    asset = json_of(client.get(asset_path(ii_id, "vts", "card-art-combined")), 200)
    return base64.b64decode(asset["content"][0]["data"])


def test_a_suspended_token_gets_no_credentials_until_resumed(
    client: httpx.Client, merchant: Merchant, stored: JSON
) -> None:
    token_id = token_id_of(stored)
    set_state(client, merchant, token_id, "SUSPENDED")
    response = client.post(f"/tms/v2/tokens/{stored['id']}/payment-credentials", json={})
    assert_error(response, 403, "forbidden")
    set_state(client, merchant, token_id, "ACTIVE")
    assert issue(client, merchant, stored["id"])["tokenizedCard"]["state"] == "ACTIVE"
