"""The error envelope (tms-api.md §4) for what a client can get wrong: bodies,
fields, routes, methods, ids and profiles; never a 500, never a partial write."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from opentms.bootstrap import Services
from tests.api.envelopes import assert_error
from tests.api.factories import (
    CUSTOMERS,
    II,
    PI,
    customer_addresses,
    customer_pis,
    failing_luhn,
    json_of,
    make_customer,
)
from tests.api.signing import call_asgi
from tests.support import Merchant, make_pan

UNKNOWN_II = "7010000000016241112"
UNKNOWN_TOKEN = "F2F3ADA770102B51E053A2598D0A9078"


@pytest.mark.parametrize(
    "content",
    [
        pytest.param(b'{"card": {"number": ', id="truncated-json"),
        pytest.param(b"{'card': 1}", id="single-quotes"),
        pytest.param(b'[{"card": {"number": "4111111111111111"}}]', id="json-array"),
        pytest.param(b'"card"', id="json-string"),
        pytest.param(b"42", id="json-number"),
        pytest.param(b"null", id="json-null"),
        pytest.param(b'{"card": {"number": "\xff\xfe"}}', id="invalid-utf-8"),
        pytest.param(b"\xef\xbb\xbf\x00\x01", id="binary"),
        pytest.param(b"[" * 5000 + b"]" * 5000, id="nested-too-deep"),
    ],
)
def test_body_that_is_not_a_json_object_is_400_naming_body(
    client: httpx.Client, content: bytes
) -> None:
    response = client.post(II, content=content)
    assert_error(response, 400, "invalidFields", field="body", location="body")


@pytest.mark.parametrize(
    ("path", "body", "error_type", "field"),
    [
        pytest.param(
            II,
            {"card": {"number": 4111111111111111}},
            "invalidFields",
            "card.number",
            id="number-as-json-number",
        ),
        pytest.param(
            II, {"card": {"number": failing_luhn()}}, "invalidFields", "card.number", id="bad-luhn"
        ),
        pytest.param(
            II,
            {"card": {"number": make_pan("411111", 11)}},
            "invalidFields",
            "card.number",
            id="11-digits",
        ),
        pytest.param(
            II,
            {"card": {"number": make_pan("411111", 20)}},
            "invalidFields",
            "card.number",
            id="20-digits",
        ),
        pytest.param(
            II,
            {"card": {"number": "4111 1111 1111 1111"}},
            "invalidFields",
            "card.number",
            id="spaces",
        ),
        pytest.param(
            II,
            {"card": {"number": "4111-1111-1111-1111"}},
            "invalidFields",
            "card.number",
            id="dashes",
        ),
        pytest.param(
            II,
            {"card": {"number": "\u0664" * 16}},
            "invalidFields",
            "card.number",
            id="non-ascii-digits",
        ),
        pytest.param(II, {"card": {"number": ""}}, "invalidFields", "card.number", id="empty"),
        pytest.param(
            II, {"card": {"number": "4" * 40}}, "invalidFields", "card.number", id="40-digits"
        ),
        pytest.param(
            II, {"card": "4111111111111111"}, "invalidFields", "card", id="string-for-object"
        ),
        pytest.param(II, {"card": {}}, "missingFields", "card.number", id="no-number"),
        pytest.param(II, {}, "missingFields", "card.number", id="empty-body"),
        pytest.param(
            II,
            {"card": {"number": make_pan(), "expirationMonth": "13"}},
            "invalidFields",
            "card.expirationMonth",
            id="month-13",
        ),
        pytest.param(
            II,
            {"card": {"number": make_pan(), "expirationMonth": "00"}},
            "invalidFields",
            "card.expirationMonth",
            id="month-00",
        ),
        pytest.param(
            II,
            {"card": {"number": make_pan(), "expirationMonth": 12}},
            "invalidFields",
            "card.expirationMonth",
            id="month-as-number",
        ),
        pytest.param(
            II,
            {"card": {"number": make_pan(), "expirationYear": "31"}},
            "invalidFields",
            "card.expirationYear",
            id="two-digit-year",
        ),
        pytest.param(
            II,
            {"card": {"number": make_pan(), "securityCode": "12345"}},
            "invalidFields",
            "card.securityCode",
            id="long-security-code",
        ),
        pytest.param(
            II,
            {"card": {"number": make_pan()}, "type": "card"},
            "invalidFields",
            "type",
            id="unknown-type",
        ),
        pytest.param(
            II,
            {
                "card": {"number": make_pan()},
                "tokenProvisioningInformation": {"consumerConsentObtained": "true"},
            },
            "invalidFields",
            "tokenProvisioningInformation.consumerConsentObtained",
            id="string-true-for-boolean",
        ),
        pytest.param(
            II,
            {
                "card": {"number": make_pan()},
                "pointOfSaleInformation": {"emvTags": [{"value": "x", "source": "CARD"}]},
            },
            "missingFields",
            "pointOfSaleInformation.emvTags[0].tag",
            id="emv-tag-without-tag",
        ),
        pytest.param(
            II,
            {
                "card": {"number": make_pan()},
                "pointOfSaleInformation": {
                    "emvTags": [{"tag": "XYZ", "value": "x", "source": "CARD"}]
                },
            },
            "invalidFields",
            "pointOfSaleInformation.emvTags[0].tag",
            id="emv-tag-not-hex",
        ),
        pytest.param(
            II,
            {
                "card": {"number": make_pan()},
                "processingInformation": {
                    "authorizationOptions": {
                        "initiator": {
                            "merchantInitiatedTransaction": {"previousTransactionId": "1" * 16}
                        }
                    }
                },
            },
            "invalidFields",
            "processingInformation.authorizationOptions.initiator.merchantInitiatedTransaction.previousTransactionId",
            id="long-previous-transaction-id",
        ),
        pytest.param(
            PI,
            {
                "billTo": {"firstName": "a" * 61},
                "instrumentIdentifier": {"card": {"number": make_pan()}},
            },
            "invalidFields",
            "billTo.firstName",
            id="long-first-name",
        ),
        pytest.param(
            PI,
            {"billTo": {"firstName": 7}, "instrumentIdentifier": {"card": {"number": make_pan()}}},
            "invalidFields",
            "billTo.firstName",
            id="number-for-string",
        ),
        pytest.param(
            PI,
            {
                "processingInformation": {"billPaymentProgramEnabled": "true"},
                "instrumentIdentifier": {"card": {"number": make_pan()}},
            },
            "invalidFields",
            "processingInformation.billPaymentProgramEnabled",
            id="pi-string-true-for-boolean",
        ),
        pytest.param(
            PI,
            {
                "card": {"expirationMonth": "13"},
                "instrumentIdentifier": {"card": {"number": make_pan()}},
            },
            "invalidFields",
            "card.expirationMonth",
            id="pi-month-13",
        ),
        pytest.param(
            PI,
            {
                "buyerInformation": {"currency": "DOLLARS"},
                "instrumentIdentifier": {"card": {"number": make_pan()}},
            },
            "invalidFields",
            "buyerInformation.currency",
            id="long-currency",
        ),
        pytest.param(
            PI,
            {"instrumentIdentifier": {"id": "../../etc"}},
            "invalidFields",
            "instrumentIdentifier.id",
            id="id-with-slashes",
        ),
        pytest.param(
            PI,
            {"instrumentIdentifier": {"card": {"number": make_pan("411111", 20)}}},
            "invalidFields",
            "instrumentIdentifier.card.number",
            id="pi-20-digits",
        ),
        pytest.param(
            CUSTOMERS,
            {"merchantDefinedInformation": [{"name": "data1"}] * 9},
            "invalidFields",
            "merchantDefinedInformation",
            id="too-many-mdd",
        ),
        pytest.param(
            CUSTOMERS,
            {"objectInformation": {"comment": "c" * 151}},
            "invalidFields",
            "objectInformation.comment",
            id="long-comment",
        ),
        pytest.param(
            CUSTOMERS,
            {"defaultPaymentInstrument": {"id": ""}},
            "invalidFields",
            "defaultPaymentInstrument.id",
            id="empty-id",
        ),
    ],
)
def test_invalid_field_is_400_naming_the_field(
    client: httpx.Client, path: str, body: dict[str, Any], error_type: str, field: str
) -> None:
    response = client.post(path, json=body)
    first = assert_error(response, 400, error_type, field=field, location="body")
    assert "input" not in first
    for value in strings_in(body):
        if len(value) >= 12 and value.isdigit():
            assert value not in response.text


def strings_in(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from strings_in(item)
    elif isinstance(value, list):
        for item in value:
            yield from strings_in(item)


def test_body_over_the_limit_is_400_naming_body(client: httpx.Client, services: Services) -> None:
    limit = services.settings.max_body_bytes
    assert limit == 65_536
    pan = make_pan()
    content = b'{"card": {"number": "' + pan.encode() + b'"}}'
    padded = content[:-1] + b" " * (limit + 1 - len(content)) + b"}"
    assert len(padded) == limit + 1
    response = client.post(II, content=padded)
    assert_error(response, 400, "invalidFields", field="body", location="body")
    # Exactly at the limit is fine, and proves the card was not stored before.
    at_limit = content[:-1] + b" " * (limit - len(content)) + b"}"
    json_of(client.post(II, content=at_limit), 201)


def test_streamed_body_over_the_limit_is_400_naming_body(
    app: Starlette, services: Services
) -> None:
    """A chunked body (no Content-Length) is cut off at the limit too."""
    body = b" " * (services.settings.max_body_bytes + 4096)
    status, headers, content = call_asgi(app, "POST", II, [], body, declare_length=False)
    assert status == 400
    assert headers["v-c-correlation-id"]
    error = json.loads(content)["errors"][0]
    assert error["type"] == "invalidFields"
    assert error["details"] == [{"name": "body", "location": "body"}]


@pytest.mark.parametrize(
    "path",
    [
        pytest.param("/", id="root"),
        pytest.param("/tms/v1/unknown", id="unknown-collection"),
        pytest.param("/tms/v3/customers", id="unknown-version"),
        pytest.param(f"{CUSTOMERS}/{UNKNOWN_TOKEN}/unknown", id="unknown-sub-resource"),
        pytest.param(f"{II}/{UNKNOWN_II}/enrollment/extra", id="too-deep"),
    ],
)
def test_unknown_route_is_404_envelope(client: httpx.Client, path: str) -> None:
    assert_error(client.get(path), 404, "notFound")


@pytest.mark.parametrize(
    ("method", "path"),
    [
        pytest.param("POST", f"{CUSTOMERS}/", id="collection-with-trailing-slash"),
        pytest.param("GET", f"{II}/{UNKNOWN_II}/", id="token-with-trailing-slash"),
        pytest.param("GET", f"{CUSTOMERS}//", id="double-slash"),
    ],
)
def test_paths_with_a_trailing_slash_are_never_redirected(
    client: httpx.Client, method: str, path: str
) -> None:
    """Redirects resend a now-invalid signature to another URL (tms-api.md §8.13):
    a path that is not a route is an unknown route."""
    response = client.request(method, path, json={} if method == "POST" else None)
    assert not 300 <= response.status_code < 400, response.headers.get("location")
    assert "location" not in response.headers
    assert_error(response, 404, "notFound")


@pytest.mark.parametrize(
    ("method", "path"),
    [
        pytest.param("PUT", II, id="put-instrument-identifiers"),
        pytest.param("DELETE", II, id="delete-collection"),
        pytest.param("GET", PI, id="list-standalone-payment-instruments"),
        pytest.param("POST", f"{CUSTOMERS}/{UNKNOWN_TOKEN}", id="post-on-a-customer"),
        pytest.param("PATCH", CUSTOMERS, id="patch-collection"),
        pytest.param("PUT", f"{PI}/{UNKNOWN_TOKEN}", id="put-payment-instrument"),
    ],
)
def test_wrong_method_is_405_envelope(client: httpx.Client, method: str, path: str) -> None:
    response = client.request(method, path, json={})
    first = assert_error(response, 405, response.json()["errors"][0]["type"])
    assert method in first["message"]


CUSTOMER_PIS = customer_pis("{customer}")
ADDRESSES = customer_addresses("{customer}")


@pytest.mark.parametrize(
    ("method", "path"),
    [
        pytest.param(method, path, id=f"{method}-{name}")
        for method, path, name in [
            ("GET", f"{II}/{UNKNOWN_II}", "instrument-identifier"),
            ("PATCH", f"{II}/{UNKNOWN_II}", "instrument-identifier"),
            ("DELETE", f"{II}/{UNKNOWN_II}", "instrument-identifier"),
            ("GET", f"{II}/{UNKNOWN_II}/paymentinstruments", "ii-payment-instruments"),
            ("GET", f"{II}/not-an-id", "malformed-ii-id"),
            ("GET", f"{PI}/{UNKNOWN_TOKEN}", "payment-instrument"),
            ("PATCH", f"{PI}/{UNKNOWN_TOKEN}", "payment-instrument"),
            ("DELETE", f"{PI}/{UNKNOWN_TOKEN}", "payment-instrument"),
            ("GET", f"{CUSTOMERS}/{UNKNOWN_TOKEN}", "customer"),
            ("PATCH", f"{CUSTOMERS}/{UNKNOWN_TOKEN}", "customer"),
            ("DELETE", f"{CUSTOMERS}/{UNKNOWN_TOKEN}", "customer"),
            ("GET", f"{CUSTOMERS}/{UNKNOWN_TOKEN.lower()}", "lower-case-customer-id"),
            ("GET", customer_pis(UNKNOWN_TOKEN), "payment-instruments-of-unknown-customer"),
            ("POST", customer_pis(UNKNOWN_TOKEN), "payment-instruments-of-unknown-customer"),
            ("GET", f"{customer_pis(UNKNOWN_TOKEN)}/{UNKNOWN_TOKEN}", "pi-of-unknown-customer"),
            ("GET", f"{CUSTOMER_PIS}/{UNKNOWN_TOKEN}", "customer-payment-instrument"),
            ("PATCH", f"{CUSTOMER_PIS}/{UNKNOWN_TOKEN}", "customer-payment-instrument"),
            ("DELETE", f"{CUSTOMER_PIS}/{UNKNOWN_TOKEN}", "customer-payment-instrument"),
            ("GET", customer_addresses(UNKNOWN_TOKEN), "addresses-of-unknown-customer"),
            ("POST", customer_addresses(UNKNOWN_TOKEN), "addresses-of-unknown-customer"),
            ("GET", f"{ADDRESSES}/{UNKNOWN_TOKEN}", "shipping-address"),
            ("PATCH", f"{ADDRESSES}/{UNKNOWN_TOKEN}", "shipping-address"),
            ("DELETE", f"{ADDRESSES}/{UNKNOWN_TOKEN}", "shipping-address"),
        ]
    ],
)
def test_unknown_id_is_404_token_not_found(client: httpx.Client, method: str, path: str) -> None:
    if "{customer}" in path:
        path = path.format(customer=make_customer(client)["id"])
    if method in ("POST", "PATCH"):
        body = {"instrumentIdentifier": {"card": {"number": make_pan()}}}
        response = client.request(method, path, json=body)
    else:
        response = client.request(method, path)
    assert_error(response, 404, "notFound", message="Token not found")


@pytest.mark.parametrize(
    "profile_id",
    [
        pytest.param(str(uuid.uuid4()).upper(), id="unknown-uuid"),
        pytest.param("not-a-profile", id="not-a-uuid"),
    ],
)
def test_unknown_profile_is_424(client: httpx.Client, profile_id: str) -> None:
    pan = make_pan()
    headers = {"profile-id": profile_id}
    created = client.post(II, json={"card": {"number": pan}}, headers=headers)
    assert_error(created, 424, "notFound", message="Profile not found")
    assert_error(client.get(f"{CUSTOMERS}/{UNKNOWN_TOKEN}", headers=headers), 424, "notFound")
    # The failed create stored nothing.
    json_of(client.post(II, json={"card": {"number": pan}}), 201)


def test_another_merchants_profile_is_424(client: httpx.Client, other_merchant: Merchant) -> None:
    headers = {"profile-id": other_merchant.registration.default_profile_id}
    response = client.post(CUSTOMERS, json={}, headers=headers)
    assert_error(response, 424, "notFound", message="Profile not found")


def test_a_registered_profile_of_the_merchant_works(
    client: httpx.Client, merchant: Merchant, services: Services
) -> None:
    profile = services.merchants.add_profile(merchant.id, f"second-{uuid.uuid4()}", False)
    for profile_id in (profile.id, profile.id.lower(), merchant.registration.default_profile_id):
        headers = {"profile-id": profile_id}
        created = json_of(
            client.post(II, json={"card": {"number": make_pan()}}, headers=headers), 201
        )
        json_of(client.get(f"{II}/{created['id']}", headers=headers), 200)


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        pytest.param("POST", CUSTOMERS, 201, id="created"),
        pytest.param("GET", f"{CUSTOMERS}/{UNKNOWN_TOKEN}", 404, id="not-found"),
        pytest.param("POST", II, 400, id="bad-request"),
        pytest.param("PUT", II, 405, id="wrong-method"),
        pytest.param("GET", "/tms/v9/nothing", 404, id="unknown-route"),
    ],
)
def test_correlation_id_is_echoed_and_transaction_id_is_fresh(
    client: httpx.Client, method: str, path: str, status: int
) -> None:
    correlation = f"corr-{uuid.uuid4()}"
    first = client.request(method, path, json={}, headers={"v-c-correlation-id": correlation})
    second = client.request(method, path, json={})
    assert first.status_code == status, first.text
    assert first.headers["v-c-correlation-id"] == correlation
    assert second.headers["v-c-correlation-id"]
    assert second.headers["v-c-correlation-id"] != correlation
    assert first.headers["uniqueTransactionID"]
    assert first.headers["uniqueTransactionID"] != second.headers["uniqueTransactionID"]


def test_correlation_id_is_echoed_on_401(raw_client: httpx.Client) -> None:
    response = raw_client.get(
        f"{CUSTOMERS}/{UNKNOWN_TOKEN}", headers={"v-c-correlation-id": "c-401"}
    )
    assert_error(response, 401, response.json()["errors"][0]["type"])
    assert response.headers["v-c-correlation-id"] == "c-401"


def test_invalid_query_parameter_on_create_stores_nothing(client: httpx.Client) -> None:
    pan = make_pan()
    response = client.post(
        II, params={"retrieveBinDetails": "perhaps"}, json={"card": {"number": pan}}
    )
    assert_error(response, 400, "invalidFields", field="retrieveBinDetails", location="query")
    json_of(client.post(II, json={"card": {"number": pan}}), 201)


def test_invalid_payment_instrument_stores_no_card(client: httpx.Client) -> None:
    pan = make_pan()
    response = client.post(
        PI,
        json={
            "billTo": {"country": "United States"},
            "instrumentIdentifier": {"card": {"number": pan}},
        },
    )
    assert_error(response, 400, "invalidFields", field="billTo.country")
    json_of(client.post(II, json={"card": {"number": pan}}), 201)


def test_unknown_fields_are_ignored(client: httpx.Client) -> None:
    pan = make_pan()
    body = {"card": {"number": pan, "color": "blue"}, "somethingElse": {"x": 1}}
    created = json_of(client.post(II, json=body), 201)
    assert "somethingElse" not in created
    assert created["card"] == {"number": pan[:6] + "XXXXXX" + pan[-4:]}
