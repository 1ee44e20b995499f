"""What a network token's credentials are bound to at authorisation (issue 9,
finding 3; docs/simulators.md "The authorisation simulator"): the token is
domain-restricted to its merchant, and dynamic security codes are few, short
lived and locked after wrong guesses (services/authorizations.py CodePolicy)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select
from starlette.applications import Starlette

from opentms.adapters.http.app import create_app
from opentms.adapters.storage.tables import network_tokens
from opentms.bootstrap import Database, Services, build_services
from tests.api.factories import JSON
from tests.api.test_concurrency import in_parallel
from tests.api.tokens_support import (
    AMEX,
    SIMULATIONS,
    VISA,
    Network,
    amount,
    approved,
    authorize,
    create_ii,
    declined,
    issue,
    presentation,
    set_state,
    token_id_of,
)
from tests.conftest import client_for, make_settings
from tests.support import Merchant


@dataclass(frozen=True)
class Policy:
    """The documented policy (docs/simulators.md; services/authorizations.py
    CodePolicy): written out here so the tests hold the code to the docs."""

    recent_codes: int = 3
    validity: timedelta = timedelta(minutes=15)
    max_failures: int = 5


POLICY = Policy()
DTVV = {"paymentCredentialType": "SECURITY_CODE"}
# The two kinds of dynamic code: Amex DCSC (4 digits), Visa DTVV (3 digits).
CODES = [
    pytest.param(AMEX, {}, id="amex-dcsc"),
    pytest.param(VISA, DTVV, id="visa-dtvv"),
]


def fresh(
    client: httpx.Client, merchant: Merchant, network: Network, body: JSON | None = None
) -> tuple[str, JSON]:
    ii = create_ii(client, network.new_pan())
    tokenized: JSON = issue(client, merchant, ii["id"], body)["tokenizedCard"]
    return token_id_of(ii), tokenized


def wrong_codes(tokenized: JSON, count: int) -> list[str]:
    """``count`` codes of the right length, none of them the right one."""
    code = tokenized["securityCode"]
    modulus = 10 ** len(code)
    return [f"{(int(code) + step) % modulus:0{len(code)}d}" for step in range(1, count + 1)]


# Domain restriction ----------------------------------------------------------------


@pytest.mark.parametrize(
    "overrides",
    [
        pytest.param({}, id="as-issued"),
        pytest.param({"amount": "999.00", "currency": "EUR"}, id="another-amount"),
        pytest.param({"transactionType": "AFT"}, id="aft"),
    ],
)
@pytest.mark.parametrize(("network", "body"), CODES)
def test_a_security_code_is_declined_for_another_merchant(
    client: httpx.Client,
    other_client: httpx.Client,
    merchant: Merchant,
    network: Network,
    body: JSON,
    overrides: JSON,
) -> None:
    _, tokenized = fresh(client, merchant, network, {**body, **amount("10.00", "USD")})
    # More tries than the lock-out allows: another merchant's tries count for nothing.
    for _ in range(POLICY.max_failures + 1):
        decision = authorize(other_client, tokenized, **overrides)
        assert decision == declined("MERCHANT_MISMATCH", network)
    assert authorize(client, tokenized) == approved(network, 1)


@pytest.mark.parametrize(
    "overrides",
    [
        pytest.param({}, id="as-issued"),
        pytest.param({"expirationYear": "2099"}, id="wrong-expiry"),
        pytest.param({"securityCode": "123", "cryptogram": None}, id="a-code-instead"),
    ],
)
def test_a_cryptogram_is_declined_for_another_merchant_before_anything_else(
    client: httpx.Client, other_client: httpx.Client, merchant: Merchant, overrides: JSON
) -> None:
    """Nothing about the token (expiry, state, credentials) is checked for a
    merchant it was not issued to, so nothing about it is revealed."""
    token_id, tokenized = fresh(client, merchant, VISA, amount("25.00", "GBP"))
    bound = {"amount": "25.00", "currency": "GBP", **overrides}
    assert authorize(other_client, tokenized, **bound) == declined("MERCHANT_MISMATCH", VISA)
    set_state(client, merchant, token_id, "SUSPENDED")
    assert authorize(other_client, tokenized, **bound) == declined("MERCHANT_MISMATCH", VISA)
    set_state(client, merchant, token_id, "ACTIVE")
    assert authorize(client, tokenized, amount="25.00", currency="GBP") == approved(VISA, 1)


# The most recent codes only --------------------------------------------------------


@pytest.mark.parametrize(("network", "body"), CODES)
def test_a_code_older_than_the_most_recent_ones_is_declined(
    client: httpx.Client, merchant: Merchant, network: Network, body: JSON
) -> None:
    token_id, oldest = fresh(client, merchant, network, body)
    later = [issue(client, merchant, token_id, body)["tokenizedCard"] for _ in range(3)]
    if len({t["securityCode"] for t in [oldest, *later]}) < 4:  # pragma: no cover
        pytest.skip("two of the codes happen to be equal")
    assert authorize(client, oldest) == declined("INVALID_SECURITY_CODE", network)
    assert authorize(client, later[-1]) == approved(network, 4)
    assert authorize(client, later[0]) == approved(network, 2)


# Attempt limit ---------------------------------------------------------------------


@pytest.mark.parametrize(("network", "body"), CODES)
def test_wrong_codes_lock_the_token_until_new_credentials_are_issued(
    client: httpx.Client,
    merchant: Merchant,
    database: Database,
    network: Network,
    body: JSON,
) -> None:
    token_id, tokenized = fresh(client, merchant, network, body)
    for wrong in wrong_codes(tokenized, POLICY.max_failures):
        decision = authorize(client, tokenized, securityCode=wrong)
        assert decision == declined("INVALID_SECURITY_CODE", network), wrong
    # Locked: the right code is declined, and so is any other.
    assert authorize(client, tokenized) == declined("TOO_MANY_ATTEMPTS", network)
    assert failures(database, token_id) == POLICY.max_failures
    wrong = wrong_codes(tokenized, 6)[-1]
    assert authorize(client, tokenized, securityCode=wrong) == declined(
        "TOO_MANY_ATTEMPTS", network
    )
    # A new credential ends the lock-out; the right code was not used up.
    newer = issue(client, merchant, token_id, body)["tokenizedCard"]
    assert failures(database, token_id) == 0
    assert authorize(client, tokenized) == approved(network, 1)
    assert authorize(client, newer) == approved(network, 2)


def test_a_cryptogram_is_not_locked_by_wrong_codes(
    client: httpx.Client, merchant: Merchant
) -> None:
    """The lock-out is for guessable codes; a cryptogram is a 64-bit MAC."""
    token_id, tokenized = fresh(client, merchant, VISA, DTVV)
    cryptogram = issue(client, merchant, token_id, {"paymentCredentialType": "CRYPTOGRAM"})
    for wrong in wrong_codes(tokenized, POLICY.max_failures):
        assert authorize(client, tokenized, securityCode=wrong)["reason"] == (
            "INVALID_SECURITY_CODE"
        )
    assert authorize(client, tokenized) == declined("TOO_MANY_ATTEMPTS", VISA)
    assert authorize(client, cryptogram["tokenizedCard"]) == approved(VISA, 2)


def test_concurrent_wrong_codes_are_each_counted(
    app: Starlette, client: httpx.Client, merchant: Merchant, database: Database
) -> None:
    """Guesses sent at once: the database counts every one, and no more than
    the limit are ever compared (the token's row is locked per authorisation)."""
    token_id, tokenized = fresh(client, merchant, AMEX)
    guesses = wrong_codes(tokenized, 12)

    def guess(code: str) -> Callable[[httpx.Client], JSON]:
        def job(c: httpx.Client) -> JSON:
            response = c.post(SIMULATIONS, json=presentation(tokenized, securityCode=code))
            assert response.status_code == 200, response.text
            body: JSON = response.json()
            return body

        return job

    answers = in_parallel(app, merchant, [guess(code) for code in guesses])
    reasons = sorted(answer["reason"] for answer in answers)
    assert reasons == ["INVALID_SECURITY_CODE"] * 5 + ["TOO_MANY_ATTEMPTS"] * 7
    assert failures(database, token_id) == 5
    assert authorize(client, tokenized) == declined("TOO_MANY_ATTEMPTS", AMEX)


def failures(database: Database, token_id: str) -> int:
    with database.engine.connect() as connection:
        count = connection.execute(
            select(network_tokens.c.failed_code_verifications).where(
                network_tokens.c.id == token_id
            )
        ).scalar_one()
    return int(count)


# Validity window -------------------------------------------------------------------


@dataclass
class MovableClock:
    """The server's clock, moved by the test (never slept on)."""

    at: datetime

    def now(self) -> datetime:
        return self.at


@dataclass
class Clocked:
    clock: MovableClock
    client: httpx.Client


@pytest.fixture
def clocked(
    data_dir: Path, database_url: str | None, services: Services, merchant: Merchant
) -> Iterator[Clocked]:
    """A second server over the session's database and keys whose clock the
    test moves; requests are dated by the real clock, so its skew window is
    wide."""
    clock = MovableClock(datetime.now(UTC))
    settings = make_settings(data_dir, database_url=database_url, clock_skew_seconds=86_400)
    built = build_services(settings, clock=clock, upgrade=False)
    try:
        with client_for(create_app(built), merchant) as client:
            yield Clocked(clock, client)
    finally:
        built.close()


@pytest.mark.parametrize(("network", "body"), CODES)
def test_a_code_expires_after_the_validity_window(
    clocked: Clocked, merchant: Merchant, network: Network, body: JSON
) -> None:
    client, clock = clocked.client, clocked.clock
    issued_at = clock.at
    token_id, first = fresh(client, merchant, network, body)
    second = issue(client, merchant, token_id, body)["tokenizedCard"]
    if first["securityCode"] == second["securityCode"]:  # pragma: no cover
        pytest.skip("the two codes happen to be equal")
    clock.at = issued_at + POLICY.validity - timedelta(seconds=1)
    assert authorize(client, second) == approved(network, 2)
    clock.at = issued_at + POLICY.validity
    # Late is not wrong: it never counts towards the lock-out.
    for _ in range(POLICY.max_failures + 1):
        assert authorize(client, first) == declined("SECURITY_CODE_EXPIRED", network, 1)
    fresher = issue(client, merchant, token_id, body)["tokenizedCard"]
    assert authorize(client, fresher) == approved(network, 3)
