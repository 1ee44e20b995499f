"""POST /opentms/v1/simulations/authorizations: what the network and the
issuer decide when a merchant presents a network token (DESIGN.md decision 6,
docs/simulators.md "The authorisation simulator", services/authorizations.py)."""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from sqlalchemy import update

from opentms.adapters.storage.tables import network_tokens
from opentms.bootstrap import Database
from tests.api.envelopes import assert_error
from tests.api.factories import JSON
from tests.api.tokens_support import (
    AMEX,
    CRYPTOGRAM_NETWORKS,
    DISCOVER,
    MASTERCARD,
    SIMULATIONS,
    VISA,
    Network,
    amount,
    approved,
    authorize,
    create_ii,
    declined,
    flip,
    get_token,
    issue,
    life_cycle,
    network_params,
    presentation,
    set_state,
    token_id_of,
)
from tests.support import Merchant, make_pan


def fresh(
    client: httpx.Client, merchant: Merchant, network: Network, body: JSON | None = None
) -> tuple[str, JSON]:
    """A new card of ``network`` and its first credentials: the token id and
    the decrypted tokenizedCard."""
    ii = create_ii(client, network.new_pan())
    tokenized: JSON = issue(client, merchant, ii["id"], body)["tokenizedCard"]
    return token_id_of(ii), tokenized


# Cryptograms --------------------------------------------------------------------


@pytest.mark.parametrize("network", network_params(CRYPTOGRAM_NETWORKS))
def test_a_fresh_cryptogram_is_approved_once(
    client: httpx.Client, merchant: Merchant, network: Network
) -> None:
    _, tokenized = fresh(client, merchant, network)
    assert authorize(client, tokenized, eci=network.eci) == approved(network, 1)
    assert authorize(client, tokenized) == declined("REPLAYED_CRYPTOGRAM", network, 1)
    assert authorize(client, tokenized, eci=network.eci) == declined(
        "REPLAYED_CRYPTOGRAM", network, 1
    )


def test_the_hex_form_of_a_cryptogram_is_accepted(client: httpx.Client, merchant: Merchant) -> None:
    _, tokenized = fresh(client, merchant, VISA)
    hex_form = base64.b64decode(tokenized["cryptogram"]).hex().upper()
    assert authorize(client, tokenized, cryptogram=hex_form) == approved(VISA, 1)
    assert authorize(client, tokenized) == declined("REPLAYED_CRYPTOGRAM", VISA, 1)


# Byte positions of the cryptogram (cryptograms.py): format, key indicator, ATC,
# MAC, unpredictable number, flags, padding.
TAMPERED_BYTES = [
    pytest.param(index, id=f"{name}-{index}")
    for name, indexes in [
        ("format", [0]),
        ("key-indicator", [1]),
        ("atc", [2, 3]),
        ("mac", [4, 7, 11]),
        ("unpredictable-number", [12, 15]),
        ("flags", [16]),
        ("padding", [17, 19]),
    ]
    for index in indexes
]


@pytest.mark.parametrize("index", TAMPERED_BYTES)
@pytest.mark.parametrize("network", network_params(CRYPTOGRAM_NETWORKS))
def test_a_tampered_cryptogram_is_invalid(
    client: httpx.Client, merchant: Merchant, network: Network, index: int
) -> None:
    token_id, tokenized = fresh(client, merchant, network)
    # Earlier and later ATCs exist too, so a changed ATC may name a real one.
    issue(client, merchant, token_id)
    tampered = flip(tokenized["cryptogram"], index)
    decision = authorize(client, tokenized, cryptogram=tampered)
    assert decision["status"] == "DECLINED"
    assert decision["reason"] == "INVALID_CRYPTOGRAM"
    # The forgery did not use up the real cryptogram.
    assert authorize(client, tokenized) == approved(network, 1)


@pytest.mark.parametrize(
    "cryptogram",
    [
        pytest.param("not base64!", id="garbage"),
        pytest.param("", id="empty"),
        pytest.param(base64.b64encode(bytes(20)).decode(), id="zeros"),
        pytest.param(base64.b64encode(bytes(19)).decode(), id="short"),
        pytest.param("AwAAAADggP/Ce5+ZciCXQUUAAAA=", id="docs-example"),
    ],
)
def test_a_malformed_cryptogram_is_invalid(
    client: httpx.Client, merchant: Merchant, cryptogram: str
) -> None:
    _, tokenized = fresh(client, merchant, VISA)
    decision = authorize(client, tokenized, cryptogram=cryptogram)
    assert decision["status"] == "DECLINED"
    assert decision["reason"] == "INVALID_CRYPTOGRAM"


def test_a_non_canonical_base64_spelling_is_invalid(
    client: httpx.Client, merchant: Merchant
) -> None:
    _, tokenized = fresh(client, merchant, VISA)
    cryptogram = tokenized["cryptogram"]
    # The last character before "=" carries 2 unused bits; setting one gives
    # another spelling of the same bytes.
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    last = alphabet[alphabet.index(cryptogram[-2]) | 1]
    if last == cryptogram[-2]:
        last = alphabet[alphabet.index(cryptogram[-2]) & ~1]
    other = cryptogram[:-2] + last + "="
    assert base64.b64decode(other) == base64.b64decode(cryptogram)
    assert authorize(client, tokenized, cryptogram=other)["reason"] == "INVALID_CRYPTOGRAM"
    assert authorize(client, tokenized) == approved(VISA, 1)


def test_another_tokens_cryptogram_is_invalid(client: httpx.Client, merchant: Merchant) -> None:
    _, mine = fresh(client, merchant, VISA)
    _, other = fresh(client, merchant, VISA)
    decision = authorize(client, mine, cryptogram=other["cryptogram"])
    assert decision == declined("INVALID_CRYPTOGRAM", VISA, 1)
    assert authorize(client, other) == approved(VISA, 1)


# What the cryptogram is bound to ---------------------------------------------------


@pytest.mark.parametrize(
    ("total", "currency"),
    [
        pytest.param("10.01", "USD", id="other-amount"),
        pytest.param("10.00", "EUR", id="other-currency"),
        pytest.param("1000", "JPY", id="same-digits"),
        pytest.param(None, None, id="no-amount"),
        pytest.param(None, "USD", id="currency-only"),
    ],
)
def test_another_amount_is_amount_mismatch(
    client: httpx.Client, merchant: Merchant, total: str | None, currency: str | None
) -> None:
    _, tokenized = fresh(client, merchant, VISA, amount("10.00", "USD"))
    decision = authorize(client, tokenized, amount=total, currency=currency)
    assert decision == declined("AMOUNT_MISMATCH", VISA, 1)
    assert authorize(client, tokenized, amount="10.00", currency="USD") == approved(VISA, 1)


def test_another_merchant_is_merchant_mismatch(
    client: httpx.Client, other_client: httpx.Client, merchant: Merchant
) -> None:
    # The token is domain-restricted to its merchant: declined before its
    # cryptogram is looked at (so no ATC is named).
    _, tokenized = fresh(client, merchant, MASTERCARD, amount("25.00", "GBP"))
    bound = {"amount": "25.00", "currency": "GBP"}
    decision = authorize(other_client, tokenized, **bound)
    assert decision == declined("MERCHANT_MISMATCH", MASTERCARD)
    assert authorize(client, tokenized, **bound) == approved(MASTERCARD, 1)


def test_an_unbound_cryptogram_is_still_bound_to_the_merchant(
    client: httpx.Client, other_client: httpx.Client, merchant: Merchant
) -> None:
    _, tokenized = fresh(client, merchant, DISCOVER)
    decision = authorize(other_client, tokenized)
    assert decision == declined("MERCHANT_MISMATCH", DISCOVER)


@pytest.mark.parametrize(
    ("total", "currency"),
    [
        pytest.param(None, None, id="none"),
        pytest.param("1.00", "USD", id="usd"),
        pytest.param("999.99", "EUR", id="eur"),
        pytest.param("5", "JPY", id="jpy"),
        pytest.param("0", "840", id="zero"),
    ],
)
@pytest.mark.parametrize("network", network_params(CRYPTOGRAM_NETWORKS))
def test_an_unbound_cryptogram_is_approved_for_any_amount(
    client: httpx.Client,
    merchant: Merchant,
    network: Network,
    total: str | None,
    currency: str | None,
) -> None:
    _, tokenized = fresh(client, merchant, network)
    assert authorize(client, tokenized, amount=total, currency=currency) == approved(network, 1)


def test_the_transaction_type_is_bound(client: httpx.Client, merchant: Merchant) -> None:
    aft = {"transactionType": "AFT", "paymentCredentialType": "CRYPTOGRAM"}
    _, tokenized = fresh(client, merchant, VISA, aft)
    assert authorize(client, tokenized) == declined("TRANSACTION_TYPE_MISMATCH", VISA, 1)
    assert authorize(client, tokenized, transactionType="ECOM") == declined(
        "TRANSACTION_TYPE_MISMATCH", VISA, 1
    )
    assert authorize(client, tokenized, transactionType="AFT") == approved(VISA, 1)
    # And an e-commerce cryptogram is no AFT one.
    _, ecom = fresh(client, merchant, VISA, {"paymentCredentialType": "CRYPTOGRAM"})
    assert authorize(client, ecom, transactionType="AFT") == declined(
        "TRANSACTION_TYPE_MISMATCH", VISA, 1
    )


# The token and its expiry ------------------------------------------------------------


@pytest.mark.parametrize(
    "change",
    [
        pytest.param("month", id="month"),
        pytest.param("year", id="year"),
        pytest.param("card", id="the-cards-expiry"),
    ],
)
def test_a_wrong_expiry_is_invalid_expiry(
    client: httpx.Client, merchant: Merchant, change: str
) -> None:
    # The card expires long after any token provisioned now (three years).
    ii = create_ii(client, VISA.new_pan(), expirationMonth="01", expirationYear="2099")
    tokenized = issue(client, merchant, ii["id"])["tokenizedCard"]
    month, year = tokenized["expirationMonth"], tokenized["expirationYear"]
    if change == "month":
        month = f"{int(month) % 12 + 1:02d}"
    elif change == "year":
        year = str(int(year) + 1)
    else:
        month, year = tokenized["card"]["expirationMonth"], tokenized["card"]["expirationYear"]
        assert (month, year) == ("01", "2099")
    decision = authorize(client, tokenized, expirationMonth=month, expirationYear=year)
    assert decision == declined("INVALID_EXPIRY", VISA)
    assert authorize(client, tokenized) == approved(VISA, 1)


def test_a_month_without_its_leading_zero_is_the_same_expiry(
    client: httpx.Client, merchant: Merchant
) -> None:
    _, tokenized = fresh(client, merchant, VISA)
    month = str(int(tokenized["expirationMonth"]))
    assert authorize(client, tokenized, expirationMonth=month) == approved(VISA, 1)


@pytest.mark.parametrize(
    "number",
    [
        pytest.param(make_pan("489537"), id="visa-token-range"),
        pytest.param(make_pan("520473"), id="mastercard-token-range"),
        pytest.param(make_pan("371287", 15), id="amex-token-range"),
        pytest.param("4111111111111111", id="a-card"),
    ],
)
def test_an_unknown_token_number_is_unknown_token(
    client: httpx.Client, merchant: Merchant, number: str
) -> None:
    _, tokenized = fresh(client, merchant, VISA)
    assert authorize(client, tokenized, tokenNumber=number) == declined("UNKNOWN_TOKEN")


def test_the_card_number_is_not_the_token(client: httpx.Client, merchant: Merchant) -> None:
    pan = VISA.new_pan()
    ii = create_ii(client, pan)
    tokenized = issue(client, merchant, ii["id"])["tokenizedCard"]
    assert authorize(client, tokenized, tokenNumber=pan) == declined("UNKNOWN_TOKEN")


@pytest.mark.parametrize(
    ("moves", "reason"),
    [
        pytest.param(["SUSPENDED"], "TOKEN_SUSPENDED", id="suspended"),
        pytest.param(["DELETED"], "TOKEN_DELETED", id="deleted"),
        pytest.param(["SUSPENDED", "DELETED"], "TOKEN_DELETED", id="suspended-deleted"),
    ],
)
@pytest.mark.parametrize("network", network_params())
def test_a_suspended_or_deleted_token_is_declined(
    client: httpx.Client, merchant: Merchant, network: Network, moves: list[str], reason: str
) -> None:
    token_id, tokenized = fresh(client, merchant, network)
    for state in moves:
        set_state(client, merchant, token_id, state)
    assert authorize(client, tokenized) == declined(reason, network)


def test_a_token_deleted_through_the_api_is_token_deleted(
    client: httpx.Client, merchant: Merchant
) -> None:
    token_id, tokenized = fresh(client, merchant, AMEX)
    assert client.delete(f"/tms/v2/tokenized-cards/{token_id}").status_code == 204
    assert authorize(client, tokenized) == declined("TOKEN_DELETED", AMEX)


def test_a_resumed_token_accepts_what_was_issued_before(
    client: httpx.Client, merchant: Merchant
) -> None:
    token_id, tokenized = fresh(client, merchant, MASTERCARD)
    set_state(client, merchant, token_id, "SUSPENDED")
    assert authorize(client, tokenized) == declined("TOKEN_SUSPENDED", MASTERCARD)
    set_state(client, merchant, token_id, "ACTIVE")
    assert authorize(client, tokenized) == approved(MASTERCARD, 1)


def test_the_life_cycle_changes_the_cards_expiry_not_the_tokens(
    client: httpx.Client, merchant: Merchant
) -> None:
    """The issuer life cycle reissues the card behind the token; the token's
    own expiry stays, so the API cannot expire a token (see the next test)."""
    token_id, tokenized = fresh(client, merchant, VISA)
    body = {"card": {"expirationMonth": "01", "expirationYear": "2020"}}
    assert life_cycle(client, merchant, token_id, body).status_code == 204
    token = get_token(client, token_id)
    assert token["card"]["expirationYear"] == "2020"
    assert token["expirationYear"] == tokenized["expirationYear"]
    assert authorize(client, tokenized) == approved(VISA, 1)


@pytest.mark.parametrize(
    ("month", "year"),
    [
        pytest.param("01", "2020", id="long-ago"),
        pytest.param(None, None, id="last-month"),
    ],
)
def test_an_expired_token_is_token_expired(
    client: httpx.Client,
    merchant: Merchant,
    database: Database,
    month: str | None,
    year: str | None,
) -> None:
    """Tokens expire three years after provisioning and nothing in the API
    moves that date, so the network's record is aged in the database."""
    token_id, tokenized = fresh(client, merchant, DISCOVER)
    if month is None or year is None:
        now = datetime.now(UTC)
        past = (now.year, now.month - 1) if now.month > 1 else (now.year - 1, 12)
        month, year = f"{past[1]:02d}", str(past[0])
    with database.engine.begin() as connection:
        connection.execute(
            update(network_tokens)
            .where(network_tokens.c.id == token_id)
            .values(expiration_month=month, expiration_year=year)
        )
    decision = authorize(client, tokenized, expirationMonth=month, expirationYear=year)
    assert decision == declined("TOKEN_EXPIRED", DISCOVER)
    # Presented with the expiry it was issued with, it is simply wrong.
    assert authorize(client, tokenized) == declined("INVALID_EXPIRY", DISCOVER)


def test_a_token_expiring_this_month_is_still_valid(
    client: httpx.Client, merchant: Merchant, database: Database
) -> None:
    now = datetime.now(UTC)
    token_id, tokenized = fresh(client, merchant, VISA)
    month, year = f"{now.month:02d}", str(now.year)
    with database.engine.begin() as connection:
        connection.execute(
            update(network_tokens)
            .where(network_tokens.c.id == token_id)
            .values(expiration_month=month, expiration_year=year)
        )
    decision = authorize(client, tokenized, expirationMonth=month, expirationYear=year)
    assert decision == approved(VISA, 1)


# ECI ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("network", "wrong"),
    [
        pytest.param(VISA, "05", id="visa"),
        pytest.param(MASTERCARD, "02", id="mastercard"),
        pytest.param(MASTERCARD, "07", id="mastercard-07"),
        pytest.param(DISCOVER, "05", id="discover"),
        pytest.param(AMEX, "05", id="amex"),
    ],
)
def test_a_wrong_eci_is_eci_mismatch(
    client: httpx.Client, merchant: Merchant, network: Network, wrong: str
) -> None:
    _, tokenized = fresh(client, merchant, network)
    assert authorize(client, tokenized, eci=wrong) == declined("ECI_MISMATCH", network, 1)
    assert authorize(client, tokenized, eci=network.eci) == approved(network, 1)


# Security codes --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("network", "body"),
    [
        pytest.param(AMEX, {}, id="amex-default"),
        pytest.param(AMEX, {"paymentCredentialType": "SECURITY_CODE"}, id="amex"),
        pytest.param(VISA, {"paymentCredentialType": "SECURITY_CODE"}, id="visa-dtvv"),
    ],
)
def test_a_security_code_is_approved_once(
    client: httpx.Client, merchant: Merchant, network: Network, body: JSON
) -> None:
    _, tokenized = fresh(client, merchant, network, body)
    assert "cryptogram" not in tokenized
    assert authorize(client, tokenized) == approved(network, 1)
    assert authorize(client, tokenized) == declined("REPLAYED_CRYPTOGRAM", network, 1)


def test_recent_security_codes_are_each_approved_once(
    client: httpx.Client, merchant: Merchant
) -> None:
    # The three most recent codes are candidates (CodePolicy.recent_codes).
    token_id, first = fresh(client, merchant, AMEX)
    later = [issue(client, merchant, token_id)["tokenizedCard"] for _ in range(2)]
    codes = [first["securityCode"], *(t["securityCode"] for t in later)]
    if len(set(codes)) < len(codes):  # pragma: no cover - 4 digits collide rarely
        pytest.skip("two dynamic codes happened to be equal")
    # Oldest last: each code is matched to its own ATC.
    for atc, tokenized in reversed(list(enumerate([first, *later], start=1))):
        assert authorize(client, tokenized) == approved(AMEX, atc)
    for tokenized in [first, *later]:
        assert authorize(client, tokenized)["reason"] == "REPLAYED_CRYPTOGRAM"


def test_a_wrong_security_code_is_invalid(client: httpx.Client, merchant: Merchant) -> None:
    _, tokenized = fresh(client, merchant, AMEX)
    code = tokenized["securityCode"]
    for wrong in (f"{(int(code) + 1) % 10000:04d}", code[:3]):
        decision = authorize(client, tokenized, securityCode=wrong)
        assert decision == declined("INVALID_SECURITY_CODE", AMEX), wrong
    assert authorize(client, tokenized) == approved(AMEX, 1)


def test_a_cryptogram_token_has_no_security_code(client: httpx.Client, merchant: Merchant) -> None:
    _, tokenized = fresh(client, merchant, MASTERCARD)
    decision = authorize(client, tokenized, cryptogram=None, securityCode="123")
    assert decision == declined("INVALID_SECURITY_CODE", MASTERCARD)


def test_a_network_token_alone_authorises_nothing(client: httpx.Client, merchant: Merchant) -> None:
    _, tokenized = fresh(client, merchant, AMEX, {"paymentCredentialType": "NETWORK_TOKEN"})
    assert "securityCode" not in tokenized
    decision = authorize(client, tokenized, securityCode="1234")
    assert decision == declined("INVALID_SECURITY_CODE", AMEX)


# The request ------------------------------------------------------------------------------


def _bad(name: str, fields: list[str], error_type: str = "invalidFields", **overrides: Any) -> Any:
    return pytest.param(overrides, error_type, fields, id=name)


BOTH = ["cryptogram", "securityCode"]
INVALID_REQUESTS = [
    _bad("neither", BOTH, cryptogram=None),
    _bad("both", BOTH, securityCode="123"),
    _bad("eci", ["eci"], eci="5"),
    _bad("long-code", ["securityCode"], securityCode="12345", cryptogram=None),
    _bad("amount-without-currency", ["currency"], amount="10.00"),
    _bad("currency", ["currency"], amount="10.00", currency="XYZ"),
    _bad("decimals", ["amount"], amount="10.001", currency="USD"),
    _bad("amount", ["amount"], amount="ten", currency="USD"),
    _bad("transaction-type", ["transactionType"], transactionType="P2P"),
    _bad("month", ["expirationMonth"], expirationMonth="13"),
    _bad("short-number", ["tokenNumber"], tokenNumber="48953"),
    _bad("no-number", ["tokenNumber"], "missingFields", tokenNumber=None),
    _bad("no-year", ["expirationYear"], "missingFields", expirationYear=None),
]


@pytest.mark.parametrize(("overrides", "error_type", "fields"), INVALID_REQUESTS)
def test_an_invalid_request_is_400(
    client: httpx.Client,
    merchant: Merchant,
    overrides: JSON,
    error_type: str,
    fields: list[str],
) -> None:
    _, tokenized = fresh(client, merchant, VISA)
    response = client.post(SIMULATIONS, json=presentation(tokenized, **overrides))
    error = assert_error(response, 400, error_type)
    assert [detail["name"] for detail in error["details"]] == fields
    assert tokenized["number"] not in response.text
    # Nothing was used up.
    assert authorize(client, tokenized) == approved(VISA, 1)


def test_the_simulator_needs_authentication(
    raw_client: httpx.Client, merchant: Merchant, client: httpx.Client
) -> None:
    _, tokenized = fresh(client, merchant, VISA)
    response = raw_client.post(SIMULATIONS, json=presentation(tokenized))
    assert response.status_code == 401
    assert authorize(client, tokenized) == approved(VISA, 1)
