"""Request authentication (tms-api.md §6.3, §6.4; DESIGN.md decision 3): every
failed check is a 401 whose ``errors[0].reason`` names the check, and no 401
ever carries the shared secret or the token."""

from __future__ import annotations

import base64
import json
import time
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from opentms.bootstrap import Services
from tests import jose_attacks
from tests.api.envelopes import assert_error
from tests.api.factories import CUSTOMERS, II, JSON, customer_pis, json_of
from tests.api.signing import (
    bearer,
    call_asgi,
    certificate_der_b64,
    digest_of,
    encode_jwt,
    http_date,
    jwt_claims,
    new_private_key,
    new_secret,
    private_key,
    signature_headers,
    signing_string,
)
from tests.support import Merchant, make_pan

BODY = b'{"clientReferenceInformation": {"code": "auth"}}'


def assert_unauthorized(
    response: httpx.Response, reason: str, merchant: Merchant, token: str | None = None
) -> JSON:
    first = assert_error(response, 401, response.json()["errors"][0]["type"])
    assert first["reason"] == reason, first
    assert merchant.registration.shared_secret not in response.text
    if token is not None:
        assert token not in response.text
        for segment in token.split("."):
            if len(segment) >= 8:
                assert segment not in response.text
    return first


def post_customer(
    raw_client: httpx.Client, headers: dict[str, str], body: bytes = BODY
) -> httpx.Response:
    return raw_client.post(CUSTOMERS, content=body, headers=headers)


def skew(services: Services) -> int:
    return services.settings.clock_skew_seconds


# HTTP Signature ----------------------------------------------------------------


def test_hand_signed_http_signature_request_succeeds(
    raw_client: httpx.Client, merchant: Merchant
) -> None:
    headers = signature_headers(merchant.registration, "POST", CUSTOMERS, BODY)
    created = json_of(post_customer(raw_client, headers), 201)
    target = f"{CUSTOMERS}/{created['id']}"
    get_headers = signature_headers(merchant.registration, "GET", target)
    assert "digest" not in get_headers
    assert json_of(raw_client.get(target, headers=get_headers), 200)["id"] == created["id"]


def test_request_without_credentials_is_401(raw_client: httpx.Client, merchant: Merchant) -> None:
    response = raw_client.post(CUSTOMERS, content=BODY)
    assert_unauthorized(response, "missing_credentials", merchant)


def test_authentication_comes_before_body_validation(
    raw_client: httpx.Client, merchant: Merchant
) -> None:
    response = raw_client.post(CUSTOMERS, content=b"{not json")
    assert_unauthorized(response, "missing_credentials", merchant)


@pytest.mark.parametrize(
    "authorization",
    [
        pytest.param("Basic dXNlcjpwYXNz", id="basic"),
        pytest.param("Bearer ", id="empty-bearer"),
    ],
)
def test_authorization_that_is_not_a_bearer_token_is_401(
    raw_client: httpx.Client, merchant: Merchant, authorization: str
) -> None:
    response = post_customer(raw_client, {"authorization": authorization})
    assert_unauthorized(response, "malformed_authorization", merchant)


@pytest.mark.parametrize(
    "signature",
    [
        pytest.param("garbage", id="not-parameters"),
        pytest.param('keyid="k"', id="only-keyid"),
        pytest.param(
            'keyid="k", algorithm="HmacSHA256", headers="host date"', id="no-signature-value"
        ),
        pytest.param('algorithm="HmacSHA256", headers="host", signature="c2ln"', id="no-keyid"),
    ],
)
def test_malformed_signature_header_is_401(
    raw_client: httpx.Client, merchant: Merchant, signature: str
) -> None:
    headers = signature_headers(merchant.registration, "POST", CUSTOMERS, BODY)
    headers["signature"] = signature
    assert_unauthorized(post_customer(raw_client, headers), "malformed_signature", merchant)


@pytest.mark.parametrize(
    "algorithm",
    [
        pytest.param("HmacSHA512", id="hmac-sha512"),
        pytest.param("rsa-sha256", id="rsa-sha256"),
        pytest.param("hs2019", id="hs2019"),
    ],
)
def test_signature_algorithm_other_than_hmac_sha256_is_401(
    raw_client: httpx.Client, merchant: Merchant, algorithm: str
) -> None:
    headers = signature_headers(merchant.registration, "POST", CUSTOMERS, BODY, algorithm=algorithm)
    assert_unauthorized(post_customer(raw_client, headers), "unsupported_algorithm", merchant)


@pytest.mark.parametrize(
    "left_out",
    [
        pytest.param("host", id="host"),
        pytest.param("date", id="date"),
        pytest.param("request-target", id="request-target"),
        pytest.param("digest", id="digest"),
        pytest.param("v-c-merchant-id", id="v-c-merchant-id"),
    ],
)
def test_signature_that_leaves_out_a_required_header_is_401(
    raw_client: httpx.Client, merchant: Merchant, left_out: str
) -> None:
    signed = [
        name
        for name in ("host", "date", "request-target", "digest", "v-c-merchant-id")
        if name != left_out
    ]
    headers = signature_headers(merchant.registration, "POST", CUSTOMERS, BODY, signed=signed)
    first = assert_unauthorized(post_customer(raw_client, headers), "unsigned_header", merchant)
    assert left_out in first["message"]


def test_get_signature_without_date_is_401(raw_client: httpx.Client, merchant: Merchant) -> None:
    target = f"{CUSTOMERS}/F2F3ADA770102B51E053A2598D0A9078"
    headers = signature_headers(
        merchant.registration, "GET", target, signed=["host", "request-target", "v-c-merchant-id"]
    )
    assert_unauthorized(raw_client.get(target, headers=headers), "unsigned_header", merchant)


def test_unknown_key_id_is_401(raw_client: httpx.Client, merchant: Merchant) -> None:
    headers = signature_headers(
        merchant.registration, "POST", CUSTOMERS, BODY, key_id="no-such-key", secret=new_secret()
    )
    assert_unauthorized(post_customer(raw_client, headers), "unknown_key_id", merchant)


def test_merchant_header_that_does_not_own_the_key_is_401(
    raw_client: httpx.Client, merchant: Merchant, other_merchant: Merchant
) -> None:
    headers = signature_headers(
        merchant.registration, "POST", CUSTOMERS, BODY, merchant_id=other_merchant.id
    )
    response = post_customer(raw_client, headers)
    assert_unauthorized(response, "merchant_mismatch", merchant)
    assert other_merchant.registration.shared_secret not in response.text


@pytest.mark.parametrize(
    "direction",
    [pytest.param(-1, id="stale"), pytest.param(1, id="future")],
)
def test_date_outside_the_clock_skew_is_401(
    raw_client: httpx.Client, merchant: Merchant, services: Services, direction: int
) -> None:
    date = http_date(direction * (skew(services) + 60))
    headers = signature_headers(merchant.registration, "POST", CUSTOMERS, BODY, date=date)
    assert_unauthorized(post_customer(raw_client, headers), "stale_date", merchant)


def test_date_inside_the_clock_skew_is_accepted(
    raw_client: httpx.Client, merchant: Merchant, services: Services
) -> None:
    date = http_date(-(skew(services) - 60))
    headers = signature_headers(merchant.registration, "POST", CUSTOMERS, BODY, date=date)
    json_of(post_customer(raw_client, headers), 201)


@pytest.mark.parametrize(
    "date",
    [
        pytest.param("yesterday", id="words"),
        pytest.param("2026-11-24T12:00:00Z", id="iso-8601"),
        pytest.param("Tue, 24 Nov 2026 12:00:00 -0000", id="no-time-zone"),
        pytest.param("Tue, 31 Feb 2026 12:00:00 GMT", id="no-such-day"),
    ],
)
def test_invalid_date_is_401(raw_client: httpx.Client, merchant: Merchant, date: str) -> None:
    headers = signature_headers(merchant.registration, "POST", CUSTOMERS, BODY, date=date)
    assert_unauthorized(post_customer(raw_client, headers), "invalid_date", merchant)


def test_body_altered_after_signing_is_401_digest_mismatch(
    raw_client: httpx.Client, merchant: Merchant
) -> None:
    headers = signature_headers(merchant.registration, "POST", CUSTOMERS, BODY)
    altered = BODY.replace(b"auth", b"evil")
    response = post_customer(raw_client, headers, altered)
    assert_unauthorized(response, "digest_mismatch", merchant)


def test_digest_that_is_not_sha256_is_401(raw_client: httpx.Client, merchant: Merchant) -> None:
    headers = signature_headers(
        merchant.registration, "POST", CUSTOMERS, BODY, digest="MD5=" + digest_of(BODY)
    )
    assert_unauthorized(post_customer(raw_client, headers), "missing_digest", merchant)


def test_wrong_secret_is_401_showing_the_signing_string_not_the_secret(
    raw_client: httpx.Client, merchant: Merchant
) -> None:
    wrong = new_secret()
    headers = signature_headers(merchant.registration, "POST", CUSTOMERS, BODY, secret=wrong)
    response = post_customer(raw_client, headers)
    first = assert_unauthorized(response, "bad_signature", merchant)
    assert signing_string(headers, "POST", CUSTOMERS) in first["message"]
    assert wrong not in response.text
    assert headers["signature"].rsplit('signature="', 1)[1].rstrip('"') not in response.text


def test_query_string_is_part_of_the_signed_request_target(
    raw_client: httpx.Client, merchant: Merchant
) -> None:
    target = f"{II}?retrieveBinDetails=True"
    body = json.dumps({"card": {"number": make_pan()}}).encode()
    without_query = signature_headers(merchant.registration, "POST", target, body, signed_target=II)
    response = raw_client.post(target, content=body, headers=without_query)
    assert_unauthorized(response, "bad_signature", merchant)
    headers = signature_headers(merchant.registration, "POST", target, body)
    created = json_of(raw_client.post(target, content=body, headers=headers), 201)
    assert "binLookup" in created["_embedded"]


def test_signature_for_another_path_is_401(raw_client: httpx.Client, merchant: Merchant) -> None:
    headers = signature_headers(
        merchant.registration, "POST", CUSTOMERS, BODY, signed_target="/tms/v1/paymentinstruments"
    )
    assert_unauthorized(post_customer(raw_client, headers), "bad_signature", merchant)


def test_parenthesised_request_target_also_verifies(
    raw_client: httpx.Client, merchant: Merchant
) -> None:
    signed = ["host", "date", "(request-target)", "digest", "v-c-merchant-id"]
    headers = signature_headers(merchant.registration, "POST", CUSTOMERS, BODY, signed=signed)
    json_of(post_customer(raw_client, headers), 201)


def test_signed_headers_may_come_in_any_order_and_include_extra_ones(
    raw_client: httpx.Client, merchant: Merchant
) -> None:
    headers = signature_headers(
        merchant.registration,
        "POST",
        CUSTOMERS,
        BODY,
        signed=["v-c-merchant-id", "digest", "profile-id", "request-target", "date", "host"],
        extra={"profile-id": merchant.registration.default_profile_id},
    )
    json_of(post_customer(raw_client, headers), 201)
    # The same signature with profile-id left off the request does not verify.
    del headers["profile-id"]
    first = assert_unauthorized(post_customer(raw_client, headers), "missing_header", merchant)
    assert "profile-id" in first["message"]


def test_signed_date_that_was_not_sent_is_401(raw_client: httpx.Client, merchant: Merchant) -> None:
    headers = signature_headers(merchant.registration, "POST", CUSTOMERS, BODY)
    del headers["date"]
    assert_unauthorized(post_customer(raw_client, headers), "missing_header", merchant)


def test_header_names_are_matched_in_any_case(app: Starlette, merchant: Merchant) -> None:
    signed = ["Host", "Date", "Request-Target", "Digest", "V-C-Merchant-Id"]
    headers = signature_headers(merchant.registration, "POST", CUSTOMERS, BODY, signed=signed)
    wire = [
        ("Host", headers["host"]),
        ("DATE", headers["date"]),
        ("V-C-Merchant-Id", headers["v-c-merchant-id"]),
        ("Digest", headers["digest"]),
        ("SIGNATURE", headers["signature"]),
        ("Content-Type", "application/json;charset=utf-8"),
        ("Profile-Id", merchant.registration.default_profile_id),
    ]
    status, response_headers, body = call_asgi(app, "POST", CUSTOMERS, wire, BODY)
    assert status == 201, body
    assert json.loads(body)["clientReferenceInformation"] == {"code": "auth"}
    assert response_headers["etag"] == '"1"'


# JWT -------------------------------------------------------------------------------


def rs256_header(merchant: Merchant) -> dict[str, Any]:
    return {"alg": "RS256", "kid": merchant.registration.jwt_kid, "typ": "JWT"}


def hs256_header(merchant: Merchant) -> dict[str, Any]:
    return {"alg": "HS256", "kid": merchant.registration.key_id, "typ": "JWT"}


def rs256_token(merchant: Merchant, overrides: dict[str, Any] | None = None) -> str:
    """A token for ``POST /tms/v2/customers`` with ``BODY``; ``overrides`` replace
    claims (``None`` removes one)."""
    claims = jwt_claims(merchant.id, "POST", CUSTOMERS, BODY, **(overrides or {}))
    return encode_jwt(rs256_header(merchant), claims, key=private_key(merchant.registration))


def test_hand_made_rs256_and_hs256_tokens_succeed(
    raw_client: httpx.Client, merchant: Merchant
) -> None:
    json_of(post_customer(raw_client, bearer(rs256_token(merchant))), 201)
    claims = jwt_claims(merchant.id, "POST", CUSTOMERS, BODY)
    token = encode_jwt(hs256_header(merchant), claims, secret=merchant.registration.shared_secret)
    json_of(post_customer(raw_client, bearer(token)), 201)


def test_bearer_scheme_is_case_insensitive(raw_client: httpx.Client, merchant: Merchant) -> None:
    token = rs256_token(merchant)
    json_of(post_customer(raw_client, {"authorization": f"bearer {token}"}), 201)


def test_jwt_resource_path_carries_the_query(raw_client: httpx.Client, merchant: Merchant) -> None:
    body = json.dumps({"card": {"number": make_pan()}}).encode()
    target = f"{II}?retrieveBinDetails=True"
    claims = jwt_claims(merchant.id, "POST", target, body)
    token = encode_jwt(rs256_header(merchant), claims, key=private_key(merchant.registration))
    response = raw_client.post(target, content=body, headers=bearer(token))
    assert "binLookup" in json_of(response, 201)["_embedded"]


def test_jwt_for_a_path_without_query_does_not_authorise_it_with_one(
    raw_client: httpx.Client, merchant: Merchant
) -> None:
    """Issue 9, point 7: the query is bound as the SDKs sign it."""
    customer = json_of(post_customer(raw_client, bearer(rs256_token(merchant))), 201)
    path = f"{customer_pis(customer['id'])}"
    claims = jwt_claims(merchant.id, "GET", path)
    token = encode_jwt(rs256_header(merchant), claims, key=private_key(merchant.registration))
    response = raw_client.get(f"{path}?limit=1", headers=bearer(token))
    first = assert_unauthorized(response, "path_mismatch", merchant, token)
    assert f"{path}?limit=1" in first["message"]
    claims = jwt_claims(merchant.id, "GET", f"{path}?limit=1")
    token = encode_jwt(rs256_header(merchant), claims, key=private_key(merchant.registration))
    json_of(raw_client.get(f"{path}?limit=1", headers=bearer(token)), 200)


@pytest.mark.parametrize(
    "token",
    [
        pytest.param("not-a-jwt", id="one-part"),
        pytest.param("abc.def", id="two-parts"),
        pytest.param("e30.e30.e30.e30", id="four-parts"),
        pytest.param("!!!.@@@.sig", id="not-base64url"),
        pytest.param("bm90IGpzb24.e30.c2ln", id="header-not-json"),
        pytest.param("WzFd.e30.c2ln", id="header-a-json-array"),
    ],
)
def test_malformed_token_is_401(raw_client: httpx.Client, merchant: Merchant, token: str) -> None:
    response = post_customer(raw_client, bearer(token))
    assert_unauthorized(response, "malformed_token", merchant, token)


@pytest.mark.parametrize("form", jose_attacks.FORMS)
@pytest.mark.parametrize("algorithm", ["RS256", "HS256"])
def test_a_used_jwt_wrapped_in_the_json_serialisation_authorises_nothing(
    raw_client: httpx.Client, merchant: Merchant, algorithm: str, form: str
) -> None:
    """Issue 9, point 1 (the bypass): a genuine token, already used for a GET,
    wrapped in a JWS JSON serialisation that also carries the attacker's own
    header and claims (a POST of their choosing). On fc518c7 the claims were
    read from the smuggled segments and the signature checked on the genuine
    object inside, and the POST was carried out (201)."""
    created = json_of(post_customer(raw_client, bearer(rs256_token(merchant))), 201)
    target = f"{CUSTOMERS}/{created['id']}"
    if algorithm == "RS256":
        header = rs256_header(merchant)
        sign: dict[str, Any] = {"key": private_key(merchant.registration)}
    else:
        header = hs256_header(merchant)
        sign = {"secret": merchant.registration.shared_secret}
    genuine = encode_jwt(header, jwt_claims(merchant.id, "GET", target), **sign)
    json_of(raw_client.get(target, headers=bearer(genuine)), 200)

    forged = jose_attacks.wrapped(
        genuine, header, jwt_claims(merchant.id, "POST", CUSTOMERS, BODY), form
    )
    response = post_customer(raw_client, bearer(forged))
    assert_unauthorized(response, "malformed_token", merchant)


@pytest.mark.parametrize(
    "header",
    [
        pytest.param({"alg": "none", "typ": "JWT"}, id="alg-none"),
        pytest.param({"alg": "none", "kid": "KID", "typ": "JWT"}, id="alg-none-with-kid"),
        pytest.param({"alg": "HS512", "kid": "KID", "typ": "JWT"}, id="hs512"),
        pytest.param({"alg": "ES256", "kid": "KID", "typ": "JWT"}, id="es256"),
        pytest.param({"alg": "RS256", "typ": "JWT"}, id="rs256-without-kid-or-x5c"),
    ],
)
def test_unsupported_jwt_algorithm_is_401(
    raw_client: httpx.Client, merchant: Merchant, header: dict[str, Any]
) -> None:
    header = {k: merchant.registration.jwt_kid if v == "KID" else v for k, v in header.items()}
    token = encode_jwt(header, jwt_claims(merchant.id, "POST", CUSTOMERS, BODY))
    response = post_customer(raw_client, bearer(token))
    assert_unauthorized(response, "unsupported_algorithm", merchant, token)


@pytest.mark.parametrize(
    "algorithm",
    [pytest.param("RS256", id="rs256"), pytest.param("HS256", id="hs256")],
)
def test_unknown_jwt_kid_is_401(
    raw_client: httpx.Client, merchant: Merchant, algorithm: str
) -> None:
    header = {"alg": algorithm, "kid": "999999999999", "typ": "JWT"}
    claims = jwt_claims(merchant.id, "POST", CUSTOMERS, BODY)
    if algorithm == "RS256":
        token = encode_jwt(header, claims, key=new_private_key())
    else:
        token = encode_jwt(header, claims, secret=new_secret())
    assert_unauthorized(post_customer(raw_client, bearer(token)), "unknown_key_id", merchant, token)


def test_hs256_token_naming_the_certificate_kid_is_401(
    raw_client: httpx.Client, merchant: Merchant
) -> None:
    """Algorithm confusion: the certificate is no HMAC key."""
    header = {"alg": "HS256", "kid": merchant.registration.jwt_kid, "typ": "JWT"}
    claims = jwt_claims(merchant.id, "POST", CUSTOMERS, BODY)
    pem = merchant.registration.jwt_certificate_pem
    token = encode_jwt(header, claims, secret=base64.b64encode(pem).decode())
    response = post_customer(raw_client, bearer(token))
    assert response.status_code == 401
    assert_unauthorized(response, response.json()["errors"][0]["reason"], merchant, token)


def test_rs256_token_signed_by_another_key_is_401(
    raw_client: httpx.Client, merchant: Merchant
) -> None:
    claims = jwt_claims(merchant.id, "POST", CUSTOMERS, BODY)
    token = encode_jwt(rs256_header(merchant), claims, key=new_private_key())
    assert_unauthorized(post_customer(raw_client, bearer(token)), "bad_signature", merchant, token)


def test_rs256_token_with_tampered_claims_is_401(
    raw_client: httpx.Client, merchant: Merchant, other_merchant: Merchant
) -> None:
    genuine = rs256_token(merchant)
    header, _, signature = genuine.split(".")
    forged_claims = jwt_claims(other_merchant.id, "POST", CUSTOMERS, BODY)
    forged = encode_jwt({}, forged_claims).split(".")[1]
    token = f"{header}.{forged}.{signature}"
    assert_unauthorized(post_customer(raw_client, bearer(token)), "bad_signature", merchant, token)


def test_hs256_token_with_the_wrong_secret_is_401(
    raw_client: httpx.Client, merchant: Merchant
) -> None:
    claims = jwt_claims(merchant.id, "POST", CUSTOMERS, BODY)
    token = encode_jwt(hs256_header(merchant), claims, secret=new_secret())
    assert_unauthorized(post_customer(raw_client, bearer(token)), "bad_signature", merchant, token)


def test_expired_token_is_401(
    raw_client: httpx.Client, merchant: Merchant, services: Services
) -> None:
    token = rs256_token(merchant, {"exp": int(time.time()) - skew(services) - 60})
    assert_unauthorized(post_customer(raw_client, bearer(token)), "expired_token", merchant, token)


@pytest.mark.parametrize(
    "direction",
    [pytest.param(-1, id="stale"), pytest.param(1, id="future")],
)
def test_token_issued_outside_the_clock_skew_is_401(
    raw_client: httpx.Client, merchant: Merchant, services: Services, direction: int
) -> None:
    now = int(time.time())
    iat = now + direction * (skew(services) + 60)
    token = rs256_token(merchant, {"iat": iat, "exp": iat + 120})
    assert_unauthorized(post_customer(raw_client, bearer(token)), "stale_date", merchant, token)


@pytest.mark.parametrize(
    "claims",
    [
        pytest.param({"iat": None}, id="no-iat"),
        pytest.param({"iat": "soon"}, id="iat-words"),
        pytest.param({"iat": True}, id="iat-boolean"),
        pytest.param({"exp": "later"}, id="exp-words"),
    ],
)
def test_token_with_unusable_time_claims_is_401(
    raw_client: httpx.Client, merchant: Merchant, claims: dict[str, Any]
) -> None:
    token = rs256_token(merchant, claims)
    assert_unauthorized(
        post_customer(raw_client, bearer(token)), "malformed_token", merchant, token
    )


@pytest.mark.parametrize(
    "claims",
    [
        pytest.param({"iat": 10**400}, id="iat-beyond-float"),
        pytest.param({"exp": 10**400}, id="exp-beyond-float"),
    ],
)
def test_token_with_absurd_time_claims_is_401_not_500(
    raw_client: httpx.Client, merchant: Merchant, claims: dict[str, Any]
) -> None:
    token = rs256_token(merchant, claims)
    response = post_customer(raw_client, bearer(token))
    assert response.status_code == 401, response.text
    assert_unauthorized(response, response.json()["errors"][0]["reason"], merchant, token)


def test_token_claiming_another_merchant_is_401(
    raw_client: httpx.Client, merchant: Merchant, other_merchant: Merchant
) -> None:
    token = rs256_token(merchant, {"v-c-merchant-id": other_merchant.id})
    assert_unauthorized(
        post_customer(raw_client, bearer(token)), "merchant_mismatch", merchant, token
    )


def test_token_with_a_merchant_header_naming_another_merchant_is_401(
    raw_client: httpx.Client, merchant: Merchant, other_merchant: Merchant
) -> None:
    token = rs256_token(merchant)
    headers = {**bearer(token), "v-c-merchant-id": other_merchant.id}
    assert_unauthorized(post_customer(raw_client, headers), "merchant_mismatch", merchant, token)


def test_token_signed_with_another_merchants_key_is_401(
    raw_client: httpx.Client, merchant: Merchant, other_merchant: Merchant
) -> None:
    claims = jwt_claims(merchant.id, "POST", CUSTOMERS, BODY)
    token = encode_jwt(
        rs256_header(other_merchant), claims, key=private_key(other_merchant.registration)
    )
    assert_unauthorized(
        post_customer(raw_client, bearer(token)), "merchant_mismatch", merchant, token
    )


@pytest.mark.parametrize(
    ("claims", "reason"),
    [
        pytest.param({"request-method": "GET"}, "method_mismatch", id="method"),
        pytest.param({"request-method": None}, "method_mismatch", id="no-method"),
        pytest.param({"request-resource-path": II}, "path_mismatch", id="path"),
        pytest.param({"request-resource-path": None}, "path_mismatch", id="no-path"),
        pytest.param({"digest": digest_of(b"{}")}, "digest_mismatch", id="digest"),
        pytest.param({"digest": None}, "missing_digest", id="no-digest"),
        pytest.param({"digestAlgorithm": "SHA-1"}, "missing_digest", id="digest-algorithm"),
    ],
)
def test_token_bound_to_another_request_is_401(
    raw_client: httpx.Client, merchant: Merchant, claims: dict[str, Any], reason: str
) -> None:
    token = rs256_token(merchant, claims)
    assert_unauthorized(post_customer(raw_client, bearer(token)), reason, merchant, token)


def test_token_replayed_with_an_altered_body_is_401(
    raw_client: httpx.Client, merchant: Merchant
) -> None:
    token = rs256_token(merchant)
    altered = BODY.replace(b"auth", b"evil")
    response = post_customer(raw_client, bearer(token), altered)
    assert_unauthorized(response, "digest_mismatch", merchant, token)


def legacy_token(
    merchant: Merchant, certificate_pem: bytes, body: bytes | None, **claims: Any
) -> str:
    header = {
        "alg": "RS256",
        "typ": "JWT",
        "v-c-merchant-id": merchant.id,
        "x5c": [certificate_der_b64(certificate_pem)],
    }
    payload: dict[str, Any] = {"iat": http_date()}
    if body is not None:
        payload |= {"digest": digest_of(body), "digestAlgorithm": "SHA-256"}
    payload |= claims
    return encode_jwt(header, payload, key=private_key(merchant.registration))


def test_legacy_jwt_with_x5c_and_a_date_string_iat_is_accepted(
    raw_client: httpx.Client, merchant: Merchant
) -> None:
    token = legacy_token(merchant, merchant.registration.jwt_certificate_pem, BODY)
    created = json_of(post_customer(raw_client, bearer(token)), 201)
    target = f"{CUSTOMERS}/{created['id']}"
    get_token = legacy_token(merchant, merchant.registration.jwt_certificate_pem, None)
    assert json_of(raw_client.get(target, headers=bearer(get_token)), 200)["id"] == created["id"]


def test_legacy_jwt_with_an_unregistered_certificate_is_401(
    raw_client: httpx.Client, merchant: Merchant, other_merchant: Merchant
) -> None:
    token = legacy_token(merchant, other_merchant.registration.jwt_certificate_pem, BODY)
    response = post_customer(raw_client, bearer(token))
    assert_unauthorized(response, "unknown_certificate", merchant, token)


@pytest.mark.parametrize(
    ("claims", "reason"),
    [
        pytest.param({"iat": "last Tuesday"}, "malformed_token", id="iat-words"),
        pytest.param({"iat": http_date(-86_400)}, "stale_date", id="iat-a-day-old"),
        pytest.param({"digest": digest_of(b"other")}, "digest_mismatch", id="digest"),
    ],
)
def test_legacy_jwt_checks_its_claims(
    raw_client: httpx.Client, merchant: Merchant, claims: dict[str, Any], reason: str
) -> None:
    token = legacy_token(merchant, merchant.registration.jwt_certificate_pem, BODY, **claims)
    assert_unauthorized(post_customer(raw_client, bearer(token)), reason, merchant, token)
