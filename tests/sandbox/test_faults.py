"""Fault and latency rules through the admin API, against the in-process app:
what a rule matches, what it answers, how often it fires; and the strict
parsing of rules and the path glob (hypothesis). The behaviour that needs a
real server (dropped connections, two workers, the official SDK) is in
``test_faults_server.py``."""

from __future__ import annotations

import fnmatch
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from starlette.applications import Starlette

from opentms.adapters.http.routes.sandbox.faults import parse_rule
from opentms.bootstrap import Services
from opentms.client import ASGIAppTransport
from opentms.domain.errors import InvalidFields
from opentms.domain.ports import ConnectionFault, FaultRule
from opentms.services.sandbox.faults import glob_matches, matches
from tests.conftest import client_for
from tests.support import Merchant, make_pan

II = "/tms/v1/instrumentidentifiers"
CUSTOMERS = "/tms/v2/customers"


@pytest.fixture(autouse=True)
def no_rules(admin_client: httpx.Client) -> Iterator[None]:
    admin_client.delete("/faults").raise_for_status()
    yield
    admin_client.delete("/faults").raise_for_status()


@pytest.fixture(scope="module")
def other_merchant(sandbox_services: Services) -> Merchant:
    return Merchant(sandbox_services.merchants.register("sandbox_other"))


@pytest.fixture
def other_client(sandbox_app: Starlette, other_merchant: Merchant) -> Iterator[httpx.Client]:
    with client_for(sandbox_app, other_merchant) as client:
        yield client


def add(admin: httpx.Client, **rule: Any) -> dict[str, Any]:
    response = admin.post("/faults", json=rule)
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def create_ii(client: httpx.Client, pan: str) -> httpx.Response:
    return client.post(II, json={"card": {"number": pan}})


# -- what a status fault answers ---------------------------------------------


def test_a_status_fault_answers_the_tms_envelope_and_creates_nothing(
    admin_client: httpx.Client, sandbox_client: httpx.Client
) -> None:
    add(admin_client, method="POST", path=II, status=503, reason="SYSTEM_ERROR", times=1)
    pan = make_pan()
    faulted = create_ii(sandbox_client, pan)
    assert faulted.status_code == 503
    error = faulted.json()["errors"][0]
    assert error["type"] == "serverError"
    assert error["reason"] == "SYSTEM_ERROR"
    assert error["message"]
    # The same card again is created now (201), not found stored (200): the
    # faulted request never reached the handler.
    assert create_ii(sandbox_client, pan).status_code == 201
    assert create_ii(sandbox_client, pan).status_code == 200


@pytest.mark.parametrize(
    ("status", "error_type"),
    [
        (400, "invalidRequest"),
        (404, "notFound"),
        (409, "conflict"),
        (429, "tooManyRequests"),
        (500, "internalError"),
        (502, "serverError"),
    ],
)
def test_the_error_type_fits_the_status(
    admin_client: httpx.Client, sandbox_client: httpx.Client, status: int, error_type: str
) -> None:
    add(admin_client, status=status, message="as configured")
    response = sandbox_client.post(CUSTOMERS, json={})
    assert response.status_code == status
    assert response.json() == {"errors": [{"type": error_type, "message": "as configured"}]}


def test_times_one_fires_once_then_requests_succeed(
    admin_client: httpx.Client, sandbox_client: httpx.Client
) -> None:
    rule = add(admin_client, status=500, times=1)
    assert (rule["hits"], rule["remaining"]) == (0, 1)
    statuses = [sandbox_client.post(CUSTOMERS, json={}).status_code for _ in range(4)]
    assert statuses == [500, 201, 201, 201]
    fetched = admin_client.get(f"/faults/{rule['id']}").json()
    assert (fetched["hits"], fetched["remaining"]) == (1, 0)


def test_probability_zero_never_fires_and_spends_no_time(
    admin_client: httpx.Client, sandbox_client: httpx.Client
) -> None:
    rule = add(admin_client, status=500, probability=0, times=3)
    statuses = {sandbox_client.post(CUSTOMERS, json={}).status_code for _ in range(10)}
    assert statuses == {201}
    fetched = admin_client.get(f"/faults/{rule['id']}").json()
    assert (fetched["hits"], fetched["remaining"]) == (0, 3)


def test_probability_one_always_fires(
    admin_client: httpx.Client, sandbox_client: httpx.Client
) -> None:
    add(admin_client, status=500, probability=1)
    statuses = {sandbox_client.post(CUSTOMERS, json={}).status_code for _ in range(10)}
    assert statuses == {500}


def test_a_probability_between_fires_some_of_the_time(
    admin_client: httpx.Client, sandbox_client: httpx.Client
) -> None:
    add(admin_client, status=500, probability=0.5)
    statuses = [sandbox_client.get(f"{CUSTOMERS}/nothere").status_code for _ in range(60)]
    # 60 draws at one half: all of one kind has a chance of 2 in 10^18.
    assert set(statuses) == {500, 404}


def test_rules_match_the_merchant(
    admin_client: httpx.Client,
    sandbox_client: httpx.Client,
    other_client: httpx.Client,
    other_merchant: Merchant,
) -> None:
    add(admin_client, merchantId=other_merchant.id, status=503)
    assert sandbox_client.post(CUSTOMERS, json={}).status_code == 201
    assert other_client.post(CUSTOMERS, json={}).status_code == 503


def test_rules_match_the_method_without_regard_to_case(
    admin_client: httpx.Client, sandbox_client: httpx.Client
) -> None:
    rule = add(admin_client, method="get", status=503)
    assert rule["method"] == "GET"
    created = sandbox_client.post(CUSTOMERS, json={})
    assert created.status_code == 201
    assert sandbox_client.get(f"{CUSTOMERS}/{created.json()['id']}").status_code == 503


def test_rules_match_the_path_glob(
    admin_client: httpx.Client, sandbox_client: httpx.Client
) -> None:
    add(admin_client, path="/tms/v2/customers/*/shipping-addresses", status=503)
    customer = sandbox_client.post(CUSTOMERS, json={}).json()["id"]
    assert sandbox_client.get(f"{CUSTOMERS}/{customer}").status_code == 200
    addresses = sandbox_client.get(f"{CUSTOMERS}/{customer}/shipping-addresses")
    assert addresses.status_code == 503


def test_the_first_matching_rule_in_creation_order_applies(
    admin_client: httpx.Client, sandbox_client: httpx.Client
) -> None:
    add(admin_client, path="/tms/v1/*", status=502, times=1)
    add(admin_client, path="/tms/*", status=503)
    assert create_ii(sandbox_client, make_pan()).status_code == 502
    # The first is used up: the second applies from now on.
    assert create_ii(sandbox_client, make_pan()).status_code == 503


def test_unauthenticated_requests_are_not_faulted(
    admin_client: httpx.Client, sandbox_app: Starlette
) -> None:
    add(admin_client, status=503)
    transport = ASGIAppTransport(sandbox_app)
    with httpx.Client(transport=transport, base_url="http://testserver") as anonymous:
        assert anonymous.post(CUSTOMERS, json={}).status_code == 401


def test_a_delay_happens_and_the_request_goes_on(
    admin_client: httpx.Client, sandbox_client: httpx.Client
) -> None:
    add(admin_client, delayMs=300, times=1)
    started = time.monotonic()
    response = sandbox_client.post(CUSTOMERS, json={})
    assert time.monotonic() - started >= 0.3
    assert response.status_code == 201


def test_a_random_delay_waits_at_least_its_lower_bound(
    admin_client: httpx.Client, sandbox_client: httpx.Client
) -> None:
    add(admin_client, delayMs=200, delayMaxMs=400, status=503, times=1)
    started = time.monotonic()
    response = sandbox_client.post(CUSTOMERS, json={})
    assert time.monotonic() - started >= 0.2
    assert response.status_code == 503


@pytest.mark.parametrize("connection", ["reset", "empty"])
def test_a_connection_fault_in_process_answers_502(
    admin_client: httpx.Client, sandbox_client: httpx.Client, connection: str
) -> None:
    pan = make_pan()
    add(admin_client, connection=connection, times=1)
    response = create_ii(sandbox_client, pan)
    assert response.status_code == 502
    assert response.json()["errors"][0]["reason"] == f"CONNECTION_{connection.upper()}"
    assert create_ii(sandbox_client, pan).status_code == 201


# -- the admin API -----------------------------------------------------------


def test_list_get_delete_and_clear(admin_client: httpx.Client) -> None:
    first = add(admin_client, path="/tms/v2/customers*", status=503, times=2)
    second = add(admin_client, delayMs=10, probability=0.25)
    listed = admin_client.get("/faults").json()["faults"]
    assert [f["id"] for f in listed] == [first["id"], second["id"]]
    assert listed[0] == first
    assert first["path"] == "/tms/v2/customers*"
    assert (first["status"], first["times"], first["remaining"]) == (503, 2, 2)
    assert (second["delayMs"], second["probability"], second["remaining"]) == (10, 0.25, None)
    assert admin_client.get(f"/faults/{second['id']}").json() == second
    assert admin_client.delete(f"/faults/{first['id']}").status_code == 204
    assert admin_client.get(f"/faults/{first['id']}").status_code == 404
    assert admin_client.delete(f"/faults/{first['id']}").status_code == 404
    assert [f["id"] for f in admin_client.get("/faults").json()["faults"]] == [second["id"]]
    assert admin_client.delete("/faults").status_code == 204
    assert admin_client.get("/faults").json() == {"faults": []}


def test_the_routes_are_in_the_openapi_document(admin_client: httpx.Client) -> None:
    paths = admin_client.get("http://testserver/openapi.json").json()["paths"]
    assert set(paths["/opentms/v1/sandbox/faults"]) == {"get", "post", "delete"}
    assert set(paths["/opentms/v1/sandbox/faults/{faultId}"]) == {"get", "delete"}


def test_an_unknown_id_is_a_404(admin_client: httpx.Client) -> None:
    for fault_id in ("0" * 32, "not-an-id", "%2e%2e"):
        assert admin_client.get(f"/faults/{fault_id}").status_code == 404


def test_the_admin_api_needs_the_admin_token(
    admin_client: httpx.Client, sandbox_client: httpx.Client
) -> None:
    response = sandbox_client.post("/opentms/v1/sandbox/faults", json={"status": 503})
    assert response.status_code == 401
    assert admin_client.get("/faults").json() == {"faults": []}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "status"),
        ({"status": 503, "colour": "red"}, "colour"),
        ({"status": 200}, "status"),
        ({"status": 600}, "status"),
        ({"status": "503"}, "status"),
        ({"status": True}, "status"),
        ({"status": 503, "connection": "reset"}, "connection"),
        ({"connection": "close"}, "connection"),
        ({"connection": "reset", "reason": "X"}, "reason"),
        ({"status": 503, "method": "FETCH"}, "method"),
        ({"status": 503, "method": 1}, "method"),
        ({"status": 503, "path": "tms/v2"}, "path"),
        ({"status": 503, "path": "/a b"}, "path"),
        ({"status": 503, "merchantId": "a/b"}, "merchantId"),
        ({"status": 503, "reason": "lower"}, "reason"),
        ({"status": 503, "message": ""}, "message"),
        ({"status": 503, "message": "x" * 501}, "message"),
        ({"delayMs": -1}, "delayMs"),
        ({"delayMs": 60_001}, "delayMs"),
        ({"delayMs": 1.5}, "delayMs"),
        ({"delayMs": 500, "delayMaxMs": 100}, "delayMaxMs"),
        ({"status": 503, "times": 0}, "times"),
        ({"status": 503, "times": 1.0}, "times"),
        ({"status": 503, "probability": 1.5}, "probability"),
        ({"status": 503, "probability": -0.1}, "probability"),
        ({"status": 503, "probability": "1"}, "probability"),
        ({"status": 503, "probability": False}, "probability"),
    ],
)
def test_a_bad_rule_is_a_400_naming_the_field_and_adds_nothing(
    admin_client: httpx.Client, body: dict[str, Any], field: str
) -> None:
    response = admin_client.post("/faults", json=body)
    assert response.status_code == 400, response.text
    assert response.json()["errors"][0]["details"] == [{"name": field, "location": "body"}]
    assert admin_client.get("/faults").json() == {"faults": []}


def test_a_body_that_is_not_an_object_is_a_400(admin_client: httpx.Client) -> None:
    for content in (b"[]", b"{", b'"x"'):
        response = admin_client.post("/faults", content=content)
        assert response.status_code == 400


# -- the parser and the glob (hypothesis) -------------------------------------

_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner),
    max_leaves=6,
)
_FIELD_NAMES = st.sampled_from(
    [
        "method",
        "path",
        "merchantId",
        "status",
        "reason",
        "message",
        "connection",
        "delayMs",
        "delayMaxMs",
        "times",
        "probability",
        "other",
    ]
)


def _parsed(body: dict[str, Any]) -> FaultRule | InvalidFields:
    try:
        return parse_rule(body)
    except InvalidFields as refused:
        return refused


@settings(max_examples=400, deadline=None)
@given(st.dictionaries(_FIELD_NAMES, _JSON, max_size=6))
def test_the_rule_parser_accepts_a_rule_or_refuses_with_a_named_field(
    body: dict[str, Any],
) -> None:
    rule = _parsed(body)
    if isinstance(rule, InvalidFields):
        assert len(rule.details) == 1
        assert rule.details[0].name in body or rule.details[0].name == "status"
        return
    assert isinstance(rule, FaultRule)
    assert rule.status is not None or rule.connection is not None or rule.delay_ms >= 0
    assert not (rule.status is not None and rule.connection is not None)
    assert 0 <= rule.probability <= 1
    assert rule.method is None or rule.method == rule.method.upper()


@settings(max_examples=200, deadline=None)
@given(
    status=st.integers(400, 599),
    times=st.none() | st.integers(1, 1_000_000),
    probability=st.floats(0, 1),
    method=st.sampled_from(["get", "POST", "Patch", "delete"]),
    delays=st.tuples(st.integers(0, 60_000), st.integers(0, 60_000)).map(sorted),
)
def test_every_valid_rule_parses_to_what_was_given(
    status: int, times: int | None, probability: float, method: str, delays: list[int]
) -> None:
    body: dict[str, Any] = {
        "status": status,
        "probability": probability,
        "method": method,
        "delayMs": delays[0],
        "delayMaxMs": delays[1],
    }
    if times is not None:
        body["times"] = times
    rule = parse_rule(body)
    assert (rule.status, rule.times, rule.probability) == (status, times, probability)
    assert (rule.method, rule.delay_ms, rule.delay_max_ms) == (method.upper(), *delays)


_PATH_CHARS = st.sampled_from("/abcXYZ019-_.?*!\\^$()+{}|")


@settings(max_examples=500, deadline=None)
@given(st.text(_PATH_CHARS, max_size=12), st.text(_PATH_CHARS, max_size=16))
def test_the_glob_agrees_with_fnmatch_without_brackets(pattern: str, path: str) -> None:
    # Brackets are left out: fnmatch gives them a meaning, ours takes them literally.
    assert glob_matches(pattern, path) == fnmatch.fnmatchcase(path, pattern)


@given(st.text(st.sampled_from("ab[]!-/"), max_size=10))
def test_brackets_stand_for_themselves(text: str) -> None:
    assert glob_matches(text, text)
    assert glob_matches(text + "*", text + "[x]")


@given(st.text(max_size=30))
def test_a_pattern_without_wildcards_matches_only_itself(text: str) -> None:
    literal = text.replace("*", "").replace("?", "")
    assert glob_matches(literal, literal)
    assert not glob_matches(literal, literal + "x")
    assert glob_matches("*", text)
    assert glob_matches(literal + "*", literal + text)


def test_star_crosses_slashes() -> None:
    assert glob_matches("/tms/v2/customers*", "/tms/v2/customers/ABC/payment-instruments")
    assert glob_matches("/tms/*/customers", "/tms/v2/customers")
    assert not glob_matches("/tms/v2/customers", "/tms/v2/customers/ABC")
    assert glob_matches("/tms/v?/customers", "/tms/v2/customers")


@given(
    method=st.sampled_from(["GET", "get", "Post"]),
    merchant=st.sampled_from(["m1", "m2"]),
)
def test_a_rule_of_no_conditions_matches_every_request(method: str, merchant: str) -> None:
    rule = FaultRule(connection=ConnectionFault.RESET)
    assert matches(rule, method, "/tms/v2/customers", merchant)
    pinned = FaultRule(method="GET", merchant_id="m1", status=500)
    assert matches(pinned, method, "/x", merchant) == (method.upper() == "GET" and merchant == "m1")
