"""Another merchant's webhooks do not exist; wrong requests get the TMS
error envelope naming the field at fault, never a 500."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.applications import Starlette

from tests.conftest import client_for
from tests.support import Merchant
from tests.webhooks.api.conftest import (
    WEBHOOKS,
    WEBHOOKS_V1,
    Receiver,
    create_webhook,
    webhook_body,
)


def test_another_merchants_webhook_does_not_exist(
    client: httpx.Client,
    other_client: httpx.Client,
    receiver: Receiver,
    other_merchant: Merchant,
) -> None:
    created = create_webhook(client, receiver.url)
    webhook_id = created["webhookId"]
    url = f"{WEBHOOKS}/{webhook_id}"

    attempts = [
        other_client.get(url),
        other_client.get(f"{WEBHOOKS_V1}/{webhook_id}"),
        other_client.patch(url, json={"name": "mine now"}),
        other_client.put(url + "/status", json={"status": "INACTIVE"}),
        other_client.get(url + "/deliveries"),
        other_client.post(f"{WEBHOOKS_V1}/{webhook_id}"),
        other_client.post(
            f"/nrtf/v1/webhooks/{webhook_id}/replays",
            json={"byDeliveryStatus": {"status": "FAILED"}},
        ),
        other_client.delete(url),
    ]

    assert [a.status_code for a in attempts] == [404] * len(attempts)
    assert {a.json()["errors"][0]["type"] for a in attempts} == {"notFound"}
    listed = other_client.get(WEBHOOKS, params={"organizationId": other_merchant.id}).json()
    assert webhook_id not in [w["webhookId"] for w in listed]
    # Untouched: still there, still named as created, never sent a test.
    assert client.get(url).json()["name"] == created["name"]
    assert client.get(url).json()["status"] == "ACTIVE"
    assert receiver.posts() == []


def test_listing_another_organization_is_not_found(
    client: httpx.Client, other_merchant: Merchant
) -> None:
    answer = client.get(WEBHOOKS, params={"organizationId": other_merchant.id})

    assert answer.status_code == 404
    assert answer.json()["errors"][0]["type"] == "notFound"


def _with(receiver_url: str, **changes: Any) -> dict[str, Any]:
    body = webhook_body(receiver_url)
    for name, value in changes.items():
        if value is _DROP:
            body.pop(name, None)
        else:
            body[name] = value
    return body


_DROP = object()


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        pytest.param({"webhookUrl": "ftp://127.0.0.1/x"}, "webhookUrl", id="ftp-url"),
        pytest.param({"webhookUrl": "file:///etc/passwd"}, "webhookUrl", id="file-url"),
        pytest.param({"webhookUrl": "not a url"}, "webhookUrl", id="no-scheme"),
        pytest.param({"healthCheckUrl": "gopher://x/"}, "healthCheckUrl", id="health-scheme"),
        pytest.param({"webhookUrl": 42}, "webhookUrl", id="url-number"),
        pytest.param({"webhookUrl": _DROP}, "webhookUrl", id="url-missing"),
        pytest.param(
            {"products": [{"productId": "tokenManagement", "eventTypes": ["tms.nope"]}]},
            "products[0].eventTypes[0]",
            id="unknown-event",
        ),
        pytest.param(
            {"products": [{"productId": "payments", "eventTypes": ["tms.token.created"]}]},
            "products[0].productId",
            id="unknown-product",
        ),
        pytest.param({"products": []}, "products", id="no-products"),
        pytest.param({"products": "tokenManagement"}, "products", id="products-string"),
        pytest.param(
            {"retryPolicy": {"algorithm": "EXPONENTIAL"}}, "retryPolicy.algorithm", id="algorithm"
        ),
        pytest.param(
            {"retryPolicy": {"numberOfRetries": 11}},
            "retryPolicy.numberOfRetries",
            id="too-many-retries",
        ),
        pytest.param(
            {"retryPolicy": {"firstRetry": "1"}}, "retryPolicy.firstRetry", id="retry-string"
        ),
        pytest.param(
            {"retryPolicy": {"deactivateFlag": "yes"}},
            "retryPolicy.deactivateFlag",
            id="deactivate-flag",
        ),
        pytest.param(
            {
                "retryPolicy": {
                    "algorithm": "GEOMETRIC",
                    "firstRetry": 1440,
                    "interval": 1440,
                    "numberOfRetries": 10,
                }
            },
            "retryPolicy",
            id="geometric-overflow",
        ),
        pytest.param({"notificationScope": "EVERYONE"}, "notificationScope", id="scope"),
        pytest.param({"name": ["a"]}, "name", id="name-list"),
    ],
)
def test_invalid_create_is_a_400_naming_the_field(
    client: httpx.Client, receiver: Receiver, changes: dict[str, Any], field: str
) -> None:
    answer = client.post(WEBHOOKS, json=_with(receiver.url, **changes))

    assert answer.status_code == 400, answer.text
    error = answer.json()["errors"][0]
    assert error["type"] in ("invalidFields", "missingFields")
    names = [d["name"] for d in error["details"]]
    assert any(n == field or n.startswith(field + ".") for n in names), names
    assert receiver.requests == []  # nothing was pinged


def test_invalid_v1_event_type_names_the_field(client: httpx.Client, receiver: Receiver) -> None:
    answer = client.post(
        WEBHOOKS_V1,
        json={
            "productId": "tokenManagement",
            "eventTypes": ["tms.networktoken.provisioned", "payments.x"],
            "webhookUrl": receiver.url,
        },
    )

    assert answer.status_code == 400
    assert answer.json()["errors"][0]["details"] == [{"name": "eventTypes[1]", "location": "body"}]


def test_patch_errors_name_the_fields_of_the_request_generation(
    client: httpx.Client, receiver: Receiver
) -> None:
    created = create_webhook(client, receiver.url)  # through v2
    webhook_id = created["webhookId"]

    v1 = client.patch(f"{WEBHOOKS_V1}/{webhook_id}", json={"eventTypes": ["tms.x"]})
    v2 = client.patch(
        f"{WEBHOOKS}/{webhook_id}",
        json={"products": [{"productId": "tokenManagement", "eventTypes": ["tms.x"]}]},
    )

    assert v1.json()["errors"][0]["details"] == [{"name": "eventTypes[0]", "location": "body"}]
    assert v2.json()["errors"][0]["details"] == [
        {"name": "products[0].eventTypes[0]", "location": "body"}
    ]


def test_invalid_patch_changes_nothing(client: httpx.Client, receiver: Receiver) -> None:
    created = create_webhook(client, receiver.url)
    url = f"{WEBHOOKS}/{created['webhookId']}"

    answer = client.patch(url, json={"name": "new", "webhookUrl": "javascript:alert(1)"})

    assert answer.status_code == 400
    assert answer.json()["errors"][0]["details"][0]["name"] == "webhookUrl"
    assert client.get(url).json()["name"] == created["name"]


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(b"{", id="truncated"),
        pytest.param(b"[]", id="array"),
        pytest.param(b"\xff\xfe", id="not-utf8"),
        pytest.param(b'{"products": [1, 2', id="truncated-list"),
    ],
)
def test_malformed_json_is_the_error_envelope(client: httpx.Client, body: bytes) -> None:
    answer = client.post(WEBHOOKS, content=body, headers={"content-type": "application/json"})

    assert answer.status_code == 400
    assert answer.json()["errors"][0]["type"] == "invalidFields"


_json = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=20,
)
_fields = st.sampled_from(
    [
        "name",
        "description",
        "organizationId",
        "products",
        "productId",
        "eventTypes",
        "webhookUrl",
        "healthCheckUrl",
        "retryPolicy",
        "notificationScope",
        "securityPolicy",
    ]
)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    body=st.dictionaries(_fields, _json, max_size=8),
    version=st.sampled_from([WEBHOOKS, WEBHOOKS_V1]),
)
def test_arbitrary_create_bodies_never_fail_the_server(
    client: httpx.Client, dead_url: str, body: dict[str, Any], version: str
) -> None:
    if isinstance(body.get("webhookUrl"), str):
        body["webhookUrl"] = dead_url  # never a real request to elsewhere
    body.pop("healthCheckUrl", None)

    answer = client.post(version, json=body)

    assert answer.status_code in (201, 400), answer.text
    assert "errors" in answer.json() or "webhookId" in answer.json()


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(field=_fields, value=_json, nested=st.booleans())
def test_a_valid_body_with_one_arbitrary_field_never_fails_the_server(
    client: httpx.Client, dead_url: str, field: str, value: Any, nested: bool
) -> None:
    body = webhook_body(dead_url)
    if nested:
        body["retryPolicy"] = {**body["retryPolicy"], field: value}
    elif field not in ("webhookUrl", "healthCheckUrl") or not isinstance(value, str):
        body[field] = value

    answer = client.post(WEBHOOKS, json=body)

    assert answer.status_code in (201, 400), answer.text


_bodies = st.dictionaries(
    st.sampled_from(
        [
            "status",
            "name",
            "products",
            "eventTypes",
            "retryPolicy",
            "byTransactionTraceIdentifiers",
            "byDeliveryStatus",
            "clientRequestAction",
            "keyInformation",
            "clientReferenceInformation",
        ]
    ),
    _json,
    max_size=4,
)


@pytest.fixture(scope="module")
def module_webhook(app: Starlette, merchant: Merchant) -> str:
    with client_for(app, merchant) as c:
        body = webhook_body("http://127.0.0.1:9/hook")
        return str(c.post(WEBHOOKS, json=body).json()["webhookId"])


@settings(
    max_examples=80,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    body=_bodies,
    target=st.sampled_from(["patch", "patch-v1", "status", "replay", "key"]),
    key_information=st.dictionaries(
        st.sampled_from(["keyType", "organizationId", "expiryDuration", "provider", "tenant"]),
        _json,
        max_size=4,
    ),
)
def test_arbitrary_bodies_to_the_other_operations_never_fail_the_server(
    client: httpx.Client,
    module_webhook: str,
    body: dict[str, Any],
    target: str,
    key_information: dict[str, Any],
) -> None:
    if isinstance(body.get("webhookUrl"), str):
        body.pop("webhookUrl")
    if target == "patch":
        answer = client.patch(f"{WEBHOOKS}/{module_webhook}", json=body)
    elif target == "patch-v1":
        answer = client.patch(f"{WEBHOOKS_V1}/{module_webhook}", json=body)
    elif target == "status":
        answer = client.put(f"{WEBHOOKS}/{module_webhook}/status", json=body)
    elif target == "replay":
        answer = client.post(f"/nrtf/v1/webhooks/{module_webhook}/replays", json=body)
    else:
        body = {"clientRequestAction": "CREATE", **body, "keyInformation": key_information}
        answer = client.post("/kms/egress/v2/keys-sym", json=body)

    assert answer.status_code < 500, answer.text
