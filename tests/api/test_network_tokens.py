"""Network tokens: provisioning with an instrument identifier, enrollment,
and /tms/v2/tokenized-cards (tms-api.md §2.6 endpoints 25-27, §3.5;
DESIGN.md decision 6; docs/simulators.md)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from opentms.adapters.networks.simulated import MAGIC_FAILURES
from opentms.bootstrap import Services
from opentms.domain.card import brand_of
from opentms.domain.network_token import TokenNetwork
from tests.api.envelopes import assert_error
from tests.api.factories import II, JSON, json_of, masked
from tests.api.tokens_support import (
    AMEX,
    EXPIRY,
    MASTERCARD,
    NETWORKS,
    SIMULATIONS,
    TOKENIZED_CARDS,
    UNKNOWN_IDS,
    VISA,
    Network,
    card_path,
    create_ii,
    create_tokenized_card,
    enrollment_path,
    get_token,
    is_luhn_valid,
    issue,
    named,
    network_params,
    new_merchant,
    presentation,
    set_state,
    signed_client,
    token_id_of,
)
from tests.support import Merchant, make_pan

ASSETS = {
    "combinedAsset": "card-art-combined",
    "brandLogoAsset": "brand-logo",
    "issuerLogoAsset": "issuer-logo",
    "iconAsset": "icon-logo",
}
# Card brands no simulated token service serves.
UNSUPPORTED = [
    pytest.param("3530111333300000", id="jcb"),
    pytest.param(make_pan("305693", 14), id="diners"),
    pytest.param(make_pan("621234", 16), id="unionpay"),
    pytest.param(make_pan("501800", 16), id="maestro"),
]


def network_type(pan: str) -> str:
    network = TokenNetwork.for_brand(brand_of(pan))
    assert network is not None
    return network.value


def _magic_params() -> list[Any]:
    params = []
    for pan, reason in MAGIC_FAILURES.items():
        params.append(pytest.param(pan, reason.value, id=f"{network_type(pan)}-{reason.value}"))
    return params


MAGIC = _magic_params()


@pytest.fixture(scope="module")
def magic_merchant(services: Services) -> Merchant:
    """Stores the fixed magic and unsupported card numbers (each once)."""
    return new_merchant(services, "magic")


@pytest.fixture
def magic_client(app: Starlette, magic_merchant: Merchant) -> Iterator[httpx.Client]:
    with signed_client(app, magic_merchant) as c:
        yield c


@pytest.fixture(scope="module")
def plain_profile(services: Services, merchant: Merchant) -> str:
    """A profile of ``merchant`` with network tokens disabled."""
    return services.merchants.add_profile(merchant.id, "no network tokens", False).id


def assert_provisioned_token(
    token: JSON, network: Network, pan: str, merchant: Merchant, owner_id: str
) -> None:
    """An ACTIVE token of ``network`` for ``pan`` as TMS shows it (masked),
    embedded in an instrument identifier or as a tokenized card."""
    assert token["source"] == "ONFILE"
    assert token["state"] == "ACTIVE"
    assert "reason" not in token
    assert token["type"] == network.type
    number = token["number"]
    assert len(number) == len(pan)
    assert re.fullmatch(network.token_bin + "X" * (len(pan) - 10) + "[0-9]{4}", number), number
    assert number != masked(pan)
    assert re.fullmatch(r"[0-9a-f]{32}", token["enrollmentId"])
    assert re.fullmatch(network.reference_prefix + "[A-Z0-9]{26}", token["tokenReferenceId"])
    assert re.fullmatch(network.requestor_prefix + "[0-9]{8}", token["requestorId"])
    assert re.fullmatch(network.par_prefix + "[A-Z2-7]{25}", token["paymentAccountReference"])
    now = datetime.now(UTC)
    assert re.fullmatch(r"0[1-9]|1[0-2]", token["expirationMonth"])
    expiry = (int(token["expirationYear"]), int(token["expirationMonth"]))
    assert (now.year + 2, now.month) < expiry <= (now.year + 3, 12)
    assert token["card"] == {"suffix": pan[-4:], **EXPIRY}
    metadata = token["metadata"]
    assert metadata["creator"] == merchant.id
    art = metadata["cardArt"]
    assert {art[key] for key in ("foregroundColor", "labelColor")} == {"ffffff"}
    assert re.fullmatch(r"[0-9a-f]{6}", art["backgroundColor"])
    ids = set()
    for key, asset_type in ASSETS.items():
        href = f"/tms/v2/tokens/{owner_id}/{network.provider}/assets/{asset_type}"
        assert art[key]["_links"] == {"self": {"href": href}}
        assert re.fullmatch(r"[0-9A-F]{32}", art[key]["id"])
        ids.add(art[key]["id"])
    assert len(ids) == len(ASSETS)
    assert set(metadata["issuer"]) >= {"name", "email", "phoneNumber", "url", "capabilities"}


# Provisioning with an instrument identifier -------------------------------------


@pytest.mark.parametrize("network", network_params())
def test_a_new_card_gets_a_network_token_on_the_default_profile(
    client: httpx.Client, merchant: Merchant, network: Network
) -> None:
    pan = network.new_pan()
    ii = create_ii(client, pan)
    embedded = ii["tokenizedCard"]
    assert "id" not in embedded
    assert "object" not in embedded
    assert_provisioned_token(embedded, network, pan, merchant, ii["id"])
    par = embedded["paymentAccountReference"]
    assert len(par) == 29
    assert ii["issuer"] == {"paymentAccountReference": par}
    assert ii["card"] == {"number": masked(pan)}
    # The link names the token, which answers with the same fields.
    token_id = token_id_of(ii)
    assert re.fullmatch(r"[0-9A-F]{32}", token_id)
    token = get_token(client, token_id)
    assert token["id"] == token_id
    assert {key: token[key] for key in embedded} == embedded
    # The clear number, inside the payment credentials: the token's own.
    clear = issue(client, merchant, ii["id"], {"paymentCredentialType": "NETWORK_TOKEN"})
    number = clear["tokenizedCard"]["number"]
    assert is_luhn_valid(number)
    assert number.startswith(network.token_bin)
    assert len(number) == len(pan)
    assert number != pan
    assert masked(number) == embedded["number"]


@pytest.mark.parametrize("network", network_params())
def test_the_payment_account_reference_belongs_to_the_card(
    client: httpx.Client,
    other_client: httpx.Client,
    merchant: Merchant,
    other_merchant: Merchant,
    network: Network,
) -> None:
    """PAR: the same for the card across merchants and every new token of it;
    token numbers and requestor ids differ."""
    pan = network.new_pan()
    first = create_ii(client, pan)["tokenizedCard"]
    par = first["paymentAccountReference"]
    elsewhere = create_ii(other_client, pan)["tokenizedCard"]
    assert elsewhere["paymentAccountReference"] == par
    assert elsewhere["requestorId"] != first["requestorId"]
    assert elsewhere["tokenReferenceId"] != first["tokenReferenceId"]
    # A second token for the same card, through the tokenized-cards endpoint.
    again = create_tokenized_card(client, pan)
    assert again["paymentAccountReference"] == par
    assert again["requestorId"] == first["requestorId"]
    assert again["tokenReferenceId"] != first["tokenReferenceId"]
    numbers = {
        issue(c, m, token_id, {"paymentCredentialType": "NETWORK_TOKEN"})["tokenizedCard"]["number"]
        for c, m, token_id in [
            (client, merchant, again["id"]),
            (other_client, other_merchant, get_ii_token_id(other_client, pan)),
        ]
    }
    assert len(numbers) == 2
    assert pan not in numbers


def get_ii_token_id(client: httpx.Client, pan: str) -> str:
    """The token of the merchant's instrument identifier for ``pan`` (a
    second POST of the card answers 200 with it)."""
    return token_id_of(create_ii(client, pan, status=200))


def test_a_card_stored_again_after_deletion_keeps_its_reference(client: httpx.Client) -> None:
    pan = VISA.new_pan()
    first = create_ii(client, pan)
    assert client.delete(f"{II}/{first['id']}").status_code == 204
    second = create_ii(client, pan)
    assert second["id"] != first["id"]
    assert token_id_of(second) != token_id_of(first)
    assert second["issuer"] == first["issuer"]


def test_a_profile_without_network_tokens_provisions_none(
    client: httpx.Client, merchant: Merchant, plain_profile: str
) -> None:
    pan = VISA.new_pan()
    ii = create_ii(client, pan, profile_id=plain_profile)
    ii_id = ii["id"]
    assert ii == {
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
    # Reading it through the default profile provisions nothing either.
    assert json_of(client.get(f"{II}/{ii_id}"), 200) == ii


@pytest.mark.parametrize(("pan", "reason"), MAGIC)
def test_a_magic_card_number_leaves_the_token_unprovisioned(
    magic_client: httpx.Client, magic_merchant: Merchant, pan: str, reason: str
) -> None:
    ii = create_ii(magic_client, pan)
    assert ii["tokenizedCard"] == {
        "source": "ONFILE",
        "state": "UNPROVISIONED",
        "reason": reason,
        "type": network_type(pan),
        "card": {"suffix": pan[-4:], **EXPIRY},
        "metadata": {"creator": magic_merchant.id},
    }
    assert "issuer" not in ii
    assert "tokenized-cards" not in ii["_links"]
    assert ii["card"] == {"number": masked(pan)}
    assert json_of(magic_client.get(f"{II}/{ii['id']}"), 200) == ii


def test_magic_card_numbers_cover_every_reason_of_every_network() -> None:
    """docs/simulators.md: seven reasons, four networks."""
    assert len(MAGIC) == 28
    assert "4000000000000010" in MAGIC_FAILURES
    assert MAGIC_FAILURES["340000000000074"].value == "SYSTEM_ERROR"


@pytest.mark.parametrize("pan", UNSUPPORTED)
def test_a_card_of_an_unsupported_brand_gets_no_token(magic_client: httpx.Client, pan: str) -> None:
    ii = create_ii(magic_client, pan)
    assert "tokenizedCard" not in ii
    assert "issuer" not in ii
    assert set(ii["_links"]) == {"self", "paymentInstruments"}


# Enrollment ---------------------------------------------------------------------


def test_enrollment_provisions_a_token_for_a_card_without_one(
    client: httpx.Client, plain_profile: str
) -> None:
    pan = MASTERCARD.new_pan()
    ii = create_ii(client, pan, profile_id=plain_profile)
    response = client.post(enrollment_path(ii["id"]), json={"card": EXPIRY})
    assert response.status_code == 202, response.text
    assert response.content == b""
    enrolled = json_of(client.get(f"{II}/{ii['id']}"), 200)
    token = enrolled["tokenizedCard"]
    assert token["state"] == "ACTIVE"
    assert token["type"] == "mastercard"
    assert token["card"] == {"suffix": pan[-4:], **EXPIRY}
    assert enrolled["issuer"] == {"paymentAccountReference": token["paymentAccountReference"]}
    assert get_token(client, token_id_of(enrolled))["state"] == "ACTIVE"


@pytest.mark.parametrize("state", named("ACTIVE", "SUSPENDED"))
def test_enrollment_of_a_card_with_a_live_token_is_204(
    client: httpx.Client, merchant: Merchant, state: str
) -> None:
    ii = create_ii(client, VISA.new_pan())
    token_id = token_id_of(ii)
    if state != "ACTIVE":
        set_state(client, merchant, token_id, state)
    response = client.post(enrollment_path(ii["id"]), json={})
    assert response.status_code == 204, response.text
    assert response.content == b""
    assert token_id_of(json_of(client.get(f"{II}/{ii['id']}"), 200)) == token_id


def test_enrollment_after_deletion_provisions_a_new_token_with_the_same_reference(
    client: httpx.Client,
) -> None:
    ii = create_ii(client, AMEX.new_pan())
    old = token_id_of(ii)
    assert client.delete(card_path(old)).status_code == 204
    assert client.post(enrollment_path(ii["id"]), json={"card": EXPIRY}).status_code == 202
    again = json_of(client.get(f"{II}/{ii['id']}"), 200)
    assert token_id_of(again) != old
    assert again["tokenizedCard"]["state"] == "ACTIVE"
    assert again["issuer"] == ii["issuer"]
    assert get_token(client, old)["state"] == "DELETED"


def test_enrollment_of_an_unknown_instrument_identifier_is_404(client: httpx.Client) -> None:
    response = client.post(enrollment_path("7030000000000000001"), json={})
    assert_error(response, 404, "notFound", message="Token not found")


def test_enrollment_of_another_merchants_instrument_identifier_is_404(
    client: httpx.Client, other_client: httpx.Client
) -> None:
    ii = create_ii(other_client, VISA.new_pan())
    response = client.post(enrollment_path(ii["id"]), json={})
    assert_error(response, 404, "notFound", message="Token not found")


# Tokenized cards ----------------------------------------------------------------


@pytest.mark.parametrize("network", network_params())
def test_create_tokenized_card_answers_both_envelopes(
    client: httpx.Client, merchant: Merchant, network: Network
) -> None:
    pan = network.new_pan()
    response = client.post(
        TOKENIZED_CARDS, json={"source": "ONFILE", "card": {"number": pan, **EXPIRY}}
    )
    body = json_of(response, 201)
    token_id = body["id"]
    assert re.fullmatch(r"[0-9A-F]{32}", token_id)
    # SDK >= 0.0.74 reads {_links, tokenizedCard}; older ones the flat fields.
    assert body["_links"] == {"self": {"href": f"{TOKENIZED_CARDS}/{token_id}"}}
    flat = {key: value for key, value in body.items() if key not in ("_links", "tokenizedCard")}
    assert body["tokenizedCard"] == flat
    assert flat["object"] == "tokenizedCard"
    assert_provisioned_token(flat, network, pan, merchant, token_id)
    assert response.headers["etag"] == '"1"'
    assert json_of(client.get(card_path(token_id)), 200) == body


@pytest.mark.parametrize(
    "flag", named("createPanInstrumentIdentifier", "createInstrumentIdentifier")
)
def test_create_tokenized_card_can_store_the_card(
    client: httpx.Client, merchant: Merchant, flag: str
) -> None:
    pan = VISA.new_pan()
    body = create_tokenized_card(client, pan, **{flag: True})
    ii_href = body["_links"]["instrumentidentifier"]["href"]
    ii_id = ii_href.rsplit("/", 1)[1]
    assert body["_links"] == {
        "self": {"href": f"{TOKENIZED_CARDS}/{body['id']}"},
        "instrumentidentifier": {"href": f"{II}/{ii_id}"},
    }
    assert_provisioned_token(body["tokenizedCard"], VISA, pan, merchant, ii_id)
    ii = json_of(client.get(ii_href), 200)
    assert ii["card"] == {"number": masked(pan)}
    assert token_id_of(ii) == body["id"]
    assert ii["tokenizedCard"]["tokenReferenceId"] == body["tokenReferenceId"]
    # The card was stored once: storing it again finds that identifier.
    assert create_ii(client, pan, status=200)["id"] == ii_id


def test_create_tokenized_card_links_a_card_already_stored(client: httpx.Client) -> None:
    pan = AMEX.new_pan()
    ii = create_ii(client, pan)
    body = create_tokenized_card(client, pan, createPanInstrumentIdentifier=True)
    assert body["_links"]["instrumentidentifier"] == {"href": f"{II}/{ii['id']}"}
    assert body["paymentAccountReference"] == ii["issuer"]["paymentAccountReference"]
    # The identifier now shows its newest token.
    assert token_id_of(json_of(client.get(f"{II}/{ii['id']}"), 200)) == body["id"]


def test_create_tokenized_card_without_the_flag_stores_no_card(client: httpx.Client) -> None:
    pan = VISA.new_pan()
    body = create_tokenized_card(client, pan, createPanInstrumentIdentifier=False)
    assert set(body["_links"]) == {"self"}
    # The card was not stored: storing it now creates its identifier (201),
    # with a token of its own.
    ii = create_ii(client, pan, status=201)
    assert token_id_of(ii) != body["id"]
    assert ii["issuer"]["paymentAccountReference"] == body["paymentAccountReference"]


@pytest.mark.parametrize(("pan", "reason"), MAGIC)
def test_create_tokenized_card_for_a_magic_card_is_declined(
    client: httpx.Client, pan: str, reason: str
) -> None:
    response = client.post(
        TOKENIZED_CARDS, json={"source": "ONFILE", "card": {"number": pan, **EXPIRY}}
    )
    error = assert_error(response, 403, "declined")
    assert reason in error["message"]
    assert pan not in response.text


def test_a_declined_tokenized_card_stores_nothing(app: Starlette, services: Services) -> None:
    merchant = new_merchant(services, "declined")
    pan = next(p for p, r in MAGIC_FAILURES.items() if r.value == "DECLINED")
    with signed_client(app, merchant) as c:
        body = {"card": {"number": pan, **EXPIRY}, "createPanInstrumentIdentifier": True}
        assert_error(c.post(TOKENIZED_CARDS, json=body), 403, "declined")
        # No instrument identifier was left behind: this one is new.
        assert create_ii(c, pan)["tokenizedCard"]["state"] == "UNPROVISIONED"


@pytest.mark.parametrize("pan", UNSUPPORTED)
def test_create_tokenized_card_of_an_unsupported_brand_is_declined(
    client: httpx.Client, pan: str
) -> None:
    response = client.post(TOKENIZED_CARDS, json={"card": {"number": pan, **EXPIRY}})
    error = assert_error(response, 403, "declined")
    assert "CARD_NOT_ALLOWED" in error["message"]


VISA_TEST_CARD = "4111111111111111"
INVALID_CREATES = [
    pytest.param({}, "missingFields", "card.number", id="no-card"),
    pytest.param(
        {"card": {"expirationMonth": "12"}}, "missingFields", "card.number", id="no-number"
    ),
    pytest.param(
        {"card": {"number": "4111111111111112"}}, "invalidFields", "card.number", id="luhn"
    ),
    pytest.param({"card": {"number": "41111x"}}, "invalidFields", "card.number", id="not-digits"),
    pytest.param(
        {"source": "PHONE", "card": {"number": VISA_TEST_CARD}},
        "invalidFields",
        "source",
        id="source",
    ),
    pytest.param(
        {"card": {"number": VISA_TEST_CARD, "expirationMonth": "13"}},
        "invalidFields",
        "card.expirationMonth",
        id="month",
    ),
    pytest.param(
        {"createPanInstrumentIdentifier": "yes", "card": {"number": VISA_TEST_CARD}},
        "invalidFields",
        "createPanInstrumentIdentifier",
        id="flag",
    ),
]


@pytest.mark.parametrize(("body", "error_type", "field"), INVALID_CREATES)
def test_create_tokenized_card_validates_its_body(
    client: httpx.Client, body: JSON, error_type: str, field: str
) -> None:
    assert_error(client.post(TOKENIZED_CARDS, json=body), 400, error_type, field=field)


def test_tokenized_card_source_is_kept(client: httpx.Client) -> None:
    body = create_tokenized_card(client, VISA.new_pan(), source="TOKEN")
    assert body["source"] == body["tokenizedCard"]["source"] == "TOKEN"


DELETE_FORMS: list[tuple[str, JSON | None]] = [
    ("DELETE", None),
    ("POST", {}),
    ("POST", {"reason": {"code": "FRAUD", "description": "lost"}}),
]
DELETES = [
    pytest.param(*form, id=name)
    for form, name in zip(DELETE_FORMS, ["delete", "post-delete", "post-reason"], strict=True)
]


def delete_token(
    client: httpx.Client, method: str, body: JSON | None, token_id: str
) -> httpx.Response:
    if method == "DELETE":
        return client.delete(card_path(token_id))
    return client.post(card_path(token_id) + "/delete", json=body)


@pytest.mark.parametrize(("method", "body"), DELETES)
def test_delete_tokenized_card(client: httpx.Client, method: str, body: JSON | None) -> None:
    ii = create_ii(client, VISA.new_pan())
    token_id = token_id_of(ii)
    response = delete_token(client, method, body, token_id)
    assert response.status_code == 204, response.text
    assert response.content == b""
    deleted = get_token(client, token_id)
    assert deleted["state"] == deleted["tokenizedCard"]["state"] == "DELETED"
    assert json_of(client.get(f"{II}/{ii['id']}"), 200)["tokenizedCard"]["state"] == "DELETED"
    # Deleted is final: either form of a second delete answers 410.
    for second_method, second_body in DELETE_FORMS:
        again = delete_token(client, second_method, second_body, token_id)
        assert_error(again, 410, "notAvailable")


def test_delete_reason_is_validated(client: httpx.Client) -> None:
    token_id = create_tokenized_card(client, VISA.new_pan())["id"]
    response = client.post(card_path(token_id) + "/delete", json={"reason": {"code": "BORED"}})
    assert_error(response, 400, "invalidFields", field="reason.code")
    assert get_token(client, token_id)["state"] == "ACTIVE"


@pytest.mark.parametrize(("method", "body"), [*DELETES, pytest.param("GET", None, id="get")])
def test_another_merchants_tokenized_card_is_not_found(
    client: httpx.Client, other_client: httpx.Client, method: str, body: JSON | None
) -> None:
    token_id = create_tokenized_card(other_client, VISA.new_pan())["id"]
    if method == "GET":
        response = client.get(card_path(token_id))
    else:
        response = delete_token(client, method, body, token_id)
    assert_error(response, 404, "notFound")
    assert get_token(other_client, token_id)["state"] == "ACTIVE"


@pytest.mark.parametrize("token_id", UNKNOWN_IDS)
def test_unknown_tokenized_card_is_not_found(client: httpx.Client, token_id: str) -> None:
    assert_error(client.get(card_path(token_id)), 404, "notFound")
    assert_error(client.delete(card_path(token_id)), 404, "notFound")


def test_networks_cover_the_four_simulated_providers() -> None:
    assert {network.type for network in NETWORKS} == {n.value for n in TokenNetwork}


def test_deleting_the_identifier_leaves_its_token_consistent(
    client: httpx.Client, merchant: Merchant
) -> None:
    """Once its instrument identifier is deleted, a tokenized card is either
    still ACTIVE and usable, or DELETED everywhere; not ACTIVE to GET and
    gone (410) to payment credentials and card art."""
    token = create_tokenized_card(client, VISA.new_pan(), createPanInstrumentIdentifier=True)
    earlier = issue(client, merchant, token["id"])["tokenizedCard"]
    assert client.delete(token["_links"]["instrumentidentifier"]["href"]).status_code == 204
    state = get_token(client, token["id"])["state"]
    credentials = client.post(f"/tms/v2/tokens/{token['id']}/payment-credentials", json={})
    art = client.get(token["metadata"]["cardArt"]["combinedAsset"]["_links"]["self"]["href"])
    decision = json_of(client.post(SIMULATIONS, json=presentation(earlier)), 200)
    if state == "ACTIVE":
        assert credentials.status_code == 201, credentials.text
        assert art.status_code == 200, art.text
        assert decision["status"] == "APPROVED"
    else:
        assert state == "DELETED"
        assert_error(credentials, 410, "notAvailable")
        assert decision["reason"] == "TOKEN_DELETED"
