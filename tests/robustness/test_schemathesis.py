"""Schemathesis against opentms's own OpenAPI document (GET /openapi.json) on a
real server, every request signed with HTTP Signature after schemathesis has
built it (the digest covers the body that goes on the wire).

For each operation, three runs: schema-valid data (random ids: mostly 404 or
424), schema-invalid data (negative mode), and schema-valid data on the ids of
real resources of the signing merchant under its real profile (the happy paths,
deletes included). Checks: no 5xx (``not_a_server_error``), only documented
status codes and content types, and every response body valid against its
documented schema (``response_schema_conformance``). The document gives
success responses no schema (a description only) and every error the TMS
envelope, so the body check can only catch an error that is not the envelope.

The schemathesis pytest plugin (``schema.parametrize``) does not run under
pytest 9 (it sets ``Function._nodeid``), so the cases are drawn with
``operation.as_strategy`` and hypothesis directly. CI runs
OPENTMS_TEST_SCHEMATHESIS_EXAMPLES (default 6) examples per operation and run;
docs/robustness.md has the command for a longer one.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import APIOperation, BaseSchema, Case, GenerationMode
from schemathesis.checks import CheckFunction
from schemathesis.core.failures import FailureGroup
from schemathesis.core.result import Ok

from tests.robustness.support import (
    CUSTOMERS,
    EXPIRY,
    II,
    BundleMerchant,
    Deployment,
    RequestsSignatureAuth,
    client,
    report,
)
from tests.support import make_pan

# Visa's magic card for a DECLINED provisioning (docs/simulators.md).
DECLINED_CARD = "4000000000000051"
EXAMPLES = int(os.environ.get("OPENTMS_TEST_SCHEMATHESIS_EXAMPLES", "6"))
CHECKS: list[CheckFunction] = [
    schemathesis.checks.not_a_server_error,
    schemathesis.checks.status_code_conformance,
    schemathesis.checks.content_type_conformance,
    schemathesis.checks.response_schema_conformance,
]
SETTINGS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    derandomize=os.environ.get("OPENTMS_TEST_SCHEMATHESIS_RANDOM") != "1",
    suppress_health_check=list(HealthCheck),
    print_blob=True,
)


@pytest.fixture(scope="module")
def api_schema(deployment: Deployment) -> BaseSchema:
    return schemathesis.openapi.from_url(f"{deployment.server.url}/openapi.json")


@pytest.fixture(scope="module")
def signed_session(deployment: Deployment) -> Iterator[requests.Session]:
    session = requests.Session()
    session.auth = RequestsSignatureAuth(deployment.merchant)
    yield session
    session.close()


def real_ids(deployment: Deployment) -> dict[str, str]:
    """A customer with a Visa payment instrument and a shipping address, an
    instrument identifier and its network token, all of the signing merchant:
    path parameter name → id."""
    with client(deployment.server, deployment.merchant) as http:
        customer = http.post(CUSTOMERS, json={"buyerInformation": {"merchantCustomerID": "st"}})
        customer_id = customer.json()["id"]
        body = {
            "card": {**EXPIRY, "type": "001"},
            "instrumentIdentifier": {"card": {"number": make_pan()}},
        }
        pi = http.post(f"{CUSTOMERS}/{customer_id}/payment-instruments", json=body).json()
        address = http.post(
            f"{CUSTOMERS}/{customer_id}/shipping-addresses",
            json={"shipTo": {"firstName": "A", "lastName": "B", "country": "US"}},
        ).json()
        ii = http.post(II, json={"card": {"number": make_pan(), **EXPIRY}}).json()
        # A webhook whose receiver never answers (nothing listens on port 9 here).
        webhook = http.post(
            "/notification-subscriptions/v2/webhooks",
            json={
                "products": [{"productId": "tokenManagement", "eventTypes": ["tms.token.created"]}],
                "webhookUrl": "http://127.0.0.1:9/hook",
            },
        ).json()
    token_href: str = ii["_links"]["tokenized-cards"]["href"]
    return {
        "customerId": customer_id,
        "paymentInstrumentId": pi["id"],
        "shippingAddressId": address["id"],
        "instrumentIdentifierId": ii["id"],
        "tokenizedCardId": token_href.rsplit("/", 1)[1],
        "tokenId": customer_id,
        "tokenProvider": "vts",
        "assetType": "card-art-combined",
        "webhookId": webhook["webhookId"],
        "organizationId": deployment.merchant.id,
    }


Operation = APIOperation[Any, Any, Any, Any]


def run_operation(
    operation: Operation,
    session: requests.Session,
    merchant: BundleMerchant,
    ids: dict[str, str],
    tally: dict[str, int],
) -> list[str]:
    """The failures of the three runs of ``operation``."""
    names = [parameter.name for parameter in operation.path_parameters]
    fixed = {name: ids[name] for name in names if name in ids}
    strategies = {
        "positive": operation.as_strategy(),
        "negative": operation.as_strategy(generation_mode=GenerationMode.NEGATIVE),
        "positive, real ids": operation.as_strategy(
            path_parameters=fixed, headers={"profile-id": merchant.profile_id}
        ),
    }
    failures = []
    for mode, strategy in strategies.items():

        @SETTINGS
        @given(case=strategy)
        def check(case: Case[Operation]) -> None:
            response = case.call(session=session)
            tally["requests"] += 1
            tally["5xx"] += response.status_code >= 500
            tally[f"{response.status_code}"] = tally.get(f"{response.status_code}", 0) + 1
            case.validate_response(response, checks=CHECKS)

        try:
            check()
        except (Exception, FailureGroup) as exc:  # every run goes on; all failures are reported
            failures.append(f"{operation.label} ({mode}): {exc}")
    return failures


def test_every_operation_conforms_to_the_document(
    deployment: Deployment, api_schema: BaseSchema, signed_session: requests.Session
) -> None:
    ids = real_ids(deployment)
    tally = {"requests": 0, "5xx": 0}
    failures: list[str] = []
    operations = 0
    for result in api_schema.get_all_operations():
        if not isinstance(result, Ok):
            failures.append(f"the document has an invalid operation: {result.err()}")
            continue
        operation = result.ok()
        operations += 1
        failures += run_operation(operation, signed_session, deployment.merchant, ids, tally)
    statuses = {name: count for name, count in sorted(tally.items()) if name.isdigit()}
    report(
        "schemathesis",
        operations=operations,
        examples_per_run=EXAMPLES,
        requests_sent=tally["requests"],
        server_errors=tally["5xx"],
        failing_runs=len(failures),
        statuses=statuses,
    )
    assert httpx.get(f"{deployment.server.url}/healthz").status_code == 200
    assert not failures, "\n\n".join(failures)


def test_known_refusals_are_documented(
    deployment: Deployment, api_schema: BaseSchema, signed_session: requests.Session
) -> None:
    """Requests whose refusal docs/simulators.md describes, checked like the
    generated ones: a card the token service declines (403 ``declined``) and
    payment credentials for a suspended token (403)."""
    merchant = deployment.merchant
    with client(deployment.server, merchant) as http:
        ii = http.post(II, json={"card": {"number": make_pan(), **EXPIRY}}).json()
        token = ii["_links"]["tokenized-cards"]["href"].rsplit("/", 1)[1]
        suspended = http.post(
            f"/tms/v2/tokenized-cards/{token}/issuer-life-cycle-event-simulations",
            json={"state": "SUSPENDED"},
            headers={"profile-id": merchant.profile_id},
        )
        assert suspended.status_code == 204, suspended.text
    cases = [
        api_schema["/tms/v2/tokenized-cards"]["POST"].Case(
            body={"source": "ONFILE", "card": {"number": DECLINED_CARD, **EXPIRY}},
            media_type="application/json",
        ),
        api_schema["/tms/v2/tokens/{tokenId}/payment-credentials"]["POST"].Case(
            path_parameters={"tokenId": ii["id"]}, body={}, media_type="application/json"
        ),
    ]
    failures = []
    for case in cases:
        response = case.call(session=signed_session)
        assert response.status_code == 403, response.text
        try:
            case.validate_response(response, checks=CHECKS)
        except FailureGroup as exc:  # both cases run; all failures are reported
            failures.append(f"{case.operation.label}: {exc}")
    assert not failures, "\n\n".join(failures)
