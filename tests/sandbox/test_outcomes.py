"""Forced outcomes: the ``X-Opentms-Outcome`` request header (docs/sandbox.md,
"Forced outcomes") forces a provisioning failure for any card, a refusal of
payment credentials, a decline of the authorisation simulator or a delay;
strictly parsed (hypothesis), honoured in sandbox mode only, and sent by the
official Python SDK as an extra header (against a real server)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from opentms.adapters.http.app import create_app
from opentms.bootstrap import build_services, open_database
from opentms.domain.errors import InvalidHeaders
from opentms.domain.network_token import ProvisioningFailure
from opentms.services.authorizations import DeclineReason
from opentms.services.sandbox.outcomes import (
    MAX_DELAY_MS,
    CredentialsRefusal,
    ForcedOutcome,
    parse_outcome,
)
from tests.api.tokens_support import (
    VISA,
    approved,
    authorize,
    create_ii,
    credentials_path,
    declined,
    issue,
    presentation,
)
from tests.conformance.test_python_sdk import python_sdk
from tests.conftest import client_for, make_settings
from tests.sandbox.server import SandboxServer, run_driver, sandbox_server
from tests.support import Merchant, make_pan

__all__ = ["python_sdk", "sandbox_server"]  # fixtures

HEADER = "X-Opentms-Outcome"
II = "/tms/v1/instrumentidentifiers"
SIMULATIONS = "/opentms/v1/simulations/authorizations"


def outcome(value: str) -> dict[str, str]:
    return {HEADER: value}


# -- provisioning -------------------------------------------------------------


@pytest.mark.parametrize("reason", [reason.value for reason in ProvisioningFailure])
def test_provisioning_fails_for_any_card_as_a_magic_card_would(
    sandbox_client: httpx.Client, reason: str
) -> None:
    pan = VISA.new_pan()
    response = sandbox_client.post(
        II, json={"card": {"number": pan}}, headers=outcome(f"provisioning={reason}")
    )
    assert response.status_code == 201, response.text
    tokenized = response.json()["tokenizedCard"]
    assert (tokenized["state"], tokenized["reason"]) == ("UNPROVISIONED", reason)
    assert "tokenized-cards" not in response.json()["_links"]


def test_without_the_header_the_same_kind_of_card_is_provisioned(
    sandbox_client: httpx.Client,
) -> None:
    ii = create_ii(sandbox_client, VISA.new_pan())
    assert ii["tokenizedCard"]["state"] == "ACTIVE"


def test_a_tokenized_card_request_is_declined_naming_the_reason(
    sandbox_client: httpx.Client,
) -> None:
    body = {"source": "ONFILE", "card": {"number": VISA.new_pan(), "expirationMonth": "12",
                                         "expirationYear": "2031"}}  # fmt: skip
    response = sandbox_client.post(
        "/tms/v2/tokenized-cards", json=body, headers=outcome("provisioning=CARD_NOT_ELIGIBLE")
    )
    assert response.status_code == 403, response.text
    error = response.json()["errors"][0]
    assert error["type"] == "declined"
    assert "CARD_NOT_ELIGIBLE" in error["message"]


# -- payment credentials --------------------------------------------------------


@pytest.mark.parametrize(
    ("refusal", "status", "error_type"),
    [("SUSPENDED", 403, "forbidden"), ("DELETED", 410, "notAvailable"),
     ("DECLINED", 403, "declined")],
)  # fmt: skip
def test_payment_credentials_are_refused_and_no_counter_is_taken(
    sandbox_client: httpx.Client,
    sandbox_merchant: Merchant,
    refusal: str,
    status: int,
    error_type: str,
) -> None:
    ii = create_ii(sandbox_client, VISA.new_pan())
    first = issue(sandbox_client, sandbox_merchant, ii["id"])["tokenizedCard"]
    refused = sandbox_client.post(
        credentials_path(ii["id"]), json={}, headers=outcome(f"credentials={refusal}")
    )
    assert refused.status_code == status, refused.text
    assert refused.json()["errors"][0]["type"] == error_type
    # The token is as it was: the next credentials take the next counter.
    second = issue(sandbox_client, sandbox_merchant, ii["id"])["tokenizedCard"]
    assert authorize(sandbox_client, first, eci="07") == approved(VISA, 1)
    assert authorize(sandbox_client, second, eci="07") == approved(VISA, 2)


# -- the authorisation simulator ---------------------------------------------------


@pytest.mark.parametrize(
    "reason", ["TOKEN_SUSPENDED", "INVALID_CRYPTOGRAM", "AMOUNT_MISMATCH", "TOO_MANY_ATTEMPTS"]
)
def test_the_simulator_declines_a_genuine_cryptogram_and_records_nothing(
    sandbox_client: httpx.Client, sandbox_merchant: Merchant, reason: str
) -> None:
    ii = create_ii(sandbox_client, VISA.new_pan())
    tokenized = issue(sandbox_client, sandbox_merchant, ii["id"])["tokenizedCard"]
    forced = sandbox_client.post(
        SIMULATIONS,
        json=presentation(tokenized, eci="07"),
        headers=outcome(f"authorization={reason}"),
    )
    assert forced.status_code == 200
    assert forced.json() == declined(reason, VISA)
    # Nothing was used up: the same cryptogram is approved once, then replayed.
    assert authorize(sandbox_client, tokenized, eci="07") == approved(VISA, 1)
    assert authorize(sandbox_client, tokenized) == declined("REPLAYED_CRYPTOGRAM", VISA, 1)


def test_a_forced_decline_of_an_unknown_number_names_no_network(
    sandbox_client: httpx.Client,
) -> None:
    body = {"tokenNumber": make_pan("489537"), "expirationMonth": "12",
            "expirationYear": "2031", "cryptogram": "A" * 27 + "="}  # fmt: skip
    forced = sandbox_client.post(SIMULATIONS, json=body, headers=outcome("authorization=DECLINED"))
    # DECLINED is no reason of the simulator's: refused like any unknown value.
    assert forced.status_code == 400
    forced = sandbox_client.post(
        SIMULATIONS, json=body, headers=outcome("authorization=TOKEN_EXPIRED")
    )
    assert forced.json() == declined("TOKEN_EXPIRED")


# -- delay ----------------------------------------------------------------------


def test_a_delay_waits_then_answers(sandbox_client: httpx.Client) -> None:
    started = time.monotonic()
    response = sandbox_client.post("/tms/v2/customers", json={}, headers=outcome("delay=300"))
    assert time.monotonic() - started >= 0.3
    assert response.status_code == 201


def test_outcomes_combine(sandbox_client: httpx.Client) -> None:
    started = time.monotonic()
    response = sandbox_client.post(
        II,
        json={"card": {"number": VISA.new_pan()}},
        headers=outcome("delay=200, provisioning=SYSTEM_ERROR"),
    )
    assert time.monotonic() - started >= 0.2
    assert response.json()["tokenizedCard"]["reason"] == "SYSTEM_ERROR"


# -- strict parsing -------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        "",
        "provisioning",
        "provisioning=",
        "provisioning=declined",
        "provisioning=NOPE",
        "provisioning=DECLINED,provisioning=DECLINED",
        "provisioning=DECLINED;delay=1",
        "credentials=ACTIVE",
        "authorization=APPROVED",
        "delay=-1",
        "delay=1.5",
        "delay=30001",
        "delay=0x10",
        "colour=red",
        "Provisioning=DECLINED",
        "provisioning=DECLINED,",
        "x" * 300,
    ],
)
def test_a_bad_value_is_a_400_naming_the_header_and_changes_nothing(
    sandbox_client: httpx.Client, value: str
) -> None:
    pan = make_pan()
    refused = sandbox_client.post(II, json={"card": {"number": pan}}, headers=outcome(value))
    assert refused.status_code == 400, refused.text
    error = refused.json()["errors"][0]
    assert error["type"] == "invalidHeaders"
    assert error["details"] == [{"name": HEADER, "location": "header"}]
    assert HEADER in error["message"]
    assert create_ii(sandbox_client, pan, status=201)


def test_the_header_twice_is_a_400(sandbox_client: httpx.Client) -> None:
    refused = sandbox_client.post(
        "/tms/v2/customers",
        json={},
        headers=[(HEADER, "delay=1"), (HEADER, "delay=2")],
    )
    assert refused.status_code == 400
    assert refused.json()["errors"][0]["details"] == [{"name": HEADER, "location": "header"}]


_ITEMS = st.one_of(
    st.sampled_from(list(ProvisioningFailure)).map(lambda r: ("provisioning", r.value)),
    st.sampled_from(list(CredentialsRefusal)).map(lambda r: ("credentials", r.value)),
    st.sampled_from(list(DeclineReason)).map(lambda r: ("authorization", r.value)),
    st.integers(0, MAX_DELAY_MS).map(lambda d: ("delay", str(d))),
)


@settings(max_examples=300)
@given(
    st.lists(_ITEMS, min_size=1, max_size=4, unique_by=lambda item: item[0]),
    st.sampled_from([",", ", ", " ,", ",\t"]),
)
def test_every_valid_header_parses_to_what_it_says(
    items: list[tuple[str, str]], separator: str
) -> None:
    parsed = parse_outcome(separator.join(f"{name}={value}" for name, value in items))
    given_items = dict(items)
    assert parsed.provisioning == given_items.get("provisioning")
    assert parsed.credentials == given_items.get("credentials")
    assert parsed.authorization == given_items.get("authorization")
    assert parsed.delay_ms == int(given_items.get("delay", "0"))


def _parsed(value: str) -> ForcedOutcome | InvalidHeaders:
    try:
        return parse_outcome(value)
    except InvalidHeaders as refused:
        return refused


@settings(max_examples=500)
@given(
    st.text(max_size=80)
    | st.text(st.sampled_from("provisioningdelay=,_ DECLINED0123"), max_size=40)
)
def test_any_header_parses_or_is_refused_naming_the_header(value: str) -> None:
    parsed = _parsed(value)
    if isinstance(parsed, InvalidHeaders):
        assert [(d.name, d.location) for d in parsed.details] == [(HEADER, "header")]
    else:
        assert 0 <= parsed.delay_ms <= MAX_DELAY_MS


# -- vault mode -----------------------------------------------------------------


@pytest.fixture(scope="module")
def vault_client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[httpx.Client]:
    settings = make_settings(tmp_path_factory.mktemp("vault"), mode="vault")
    database = open_database(settings)
    services = build_services(settings, database=database)
    try:
        assert services.sandbox is None
        merchant = Merchant(services.merchants.register("vault_merchant"))
        with client_for(create_app(services), merchant) as client:
            yield client
    finally:
        services.close()


def test_a_vault_ignores_the_header(vault_client: httpx.Client) -> None:
    """A vault has no sandbox controls: the header is an unknown header there,
    like any other, and even a malformed one changes nothing."""
    for value in ("provisioning=DECLINED", "not an outcome"):
        response = vault_client.post(
            II, json={"card": {"number": VISA.new_pan()}}, headers=outcome(value)
        )
        assert response.status_code == 201, response.text
        assert response.json()["tokenizedCard"]["state"] == "ACTIVE"


def test_a_vault_has_no_fault_rules_either(vault_client: httpx.Client) -> None:
    for method in ("GET", "POST", "DELETE"):
        response = vault_client.request(method, "/opentms/v1/sandbox/faults", json={})
        assert response.status_code == 404


# -- the official Python SDK (a real server) -------------------------------------


@pytest.mark.conformance
@pytest.mark.parametrize("via", ["client", "config"])
def test_the_python_sdk_sends_the_header(
    sandbox_server: SandboxServer, python_sdk: Path, tmp_path: Path, via: str
) -> None:
    """``api_client.set_default_header`` or the configuration's
    ``default_headers``: the SDK signs the request as usual and adds the header."""
    pan = VISA.new_pan()
    (call,) = run_driver(
        python_sdk, sandbox_server, tmp_path, "--scenario=outcome",
        "--outcome=provisioning=CARD_NOT_ALLOWED", f"--pan={pan}", f"--via={via}",
    )  # fmt: skip
    assert (call["ok"], call["status"]) == (True, 201), call
    tokenized = json.loads(call["body"])["tokenizedCard"]
    assert (tokenized["state"], tokenized["reason"]) == ("UNPROVISIONED", "CARD_NOT_ALLOWED")


@pytest.mark.conformance
def test_the_python_sdk_raises_on_a_bad_outcome(
    sandbox_server: SandboxServer, python_sdk: Path, tmp_path: Path
) -> None:
    (call,) = run_driver(
        python_sdk, sandbox_server, tmp_path, "--scenario=outcome",
        "--outcome=provisioning=MAYBE", f"--pan={VISA.new_pan()}",
    )  # fmt: skip
    assert (call["ok"], call["status"], call["error"]) == (False, 400, "ApiException")
    assert json.loads(call["body"])["errors"][0]["details"] == [
        {"name": HEADER, "location": "header"}
    ]
