"""Authentication attacks on a real server: forged, tampered and replayed HTTP
Signatures and JWTs, the wrong merchant, algorithm confusion and clock skew.
Every one must be answered 401 with the reason docs/api.md names; none may be
accepted. Requests sent and accepted are reported at the end of the run.

Not attacked here, because docs/security.md documents it as accepted: the same
HTTP Signature request sent again within the Date window (the signature covers
the Date to the second, so a client's two identical requests in one second are
indistinguishable from a replay).
"""

from __future__ import annotations

import base64
import json
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from tests import jose_attacks
from tests.api.signing import b64url, digest_of, http_date
from tests.robustness.support import (
    CUSTOMERS,
    BundleMerchant,
    Deployment,
    client,
    encode_jwt,
    jwt_claims,
    report,
    signature_headers,
)

BODY = b'{"buyerInformation":{"merchantCustomerID":"attack"}}'
OTHER_BODY = b'{"buyerInformation":{"merchantCustomerID":"tampered"}}'
# Beyond the default OPENTMS_CLOCK_SKEW_SECONDS (900).
SKEW = 900 + 120
TALLY = {"sent": 0, "accepted": 0}


@dataclass(frozen=True)
class Context:
    """What attacks are built from: merchant A (the victim or the attacker),
    merchant B, the server's host and two customers of A."""

    host: str
    a: BundleMerchant
    b: BundleMerchant
    customer: str  # path of a customer of A
    other_customer: str  # path of another customer of A


@dataclass(frozen=True)
class Attack:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes = b""
    reason: str | None = None  # the errors[0].reason expected
    extra: dict[str, str] = field(default_factory=dict)


@pytest.fixture(scope="module")
def context(deployment: Deployment) -> Iterator[Context]:
    with client(deployment.server, deployment.merchant) as http:
        paths = []
        for _ in range(2):
            created = http.post(CUSTOMERS, json={})
            assert created.status_code == 201, created.text
            paths.append(f"{CUSTOMERS}/{created.json()['id']}")
    yield Context(
        f"127.0.0.1:{deployment.server.port}",
        deployment.merchant,
        deployment.other,
        paths[0],
        paths[1],
    )
    report("authentication attacks", requests_sent=TALLY["sent"], accepted=TALLY["accepted"])


def send(deployment: Deployment, attack: Attack) -> httpx.Response:
    """Send ``attack`` as built (headers as given, Host included) and count it."""
    with httpx.Client(base_url=deployment.server.url, timeout=30.0) as http:
        response = http.request(
            attack.method,
            attack.path,
            content=attack.body if attack.method in ("POST", "PATCH") else None,
            headers={"content-type": "application/json", **attack.headers},
        )
    TALLY["sent"] += 1
    TALLY["accepted"] += response.status_code < 400
    return response


def assert_refused(response: httpx.Response, reason: str | None) -> None:
    assert response.status_code == 401, (response.status_code, response.text[:500])
    error = response.json()["errors"][0]
    assert error["type"] == "authenticationFailed"
    if reason is not None:
        assert error["reason"] == reason, error


def new_secret() -> str:
    return base64.b64encode(uuid.uuid4().bytes + uuid.uuid4().bytes).decode()


def rs256(c: Context, method: str, path: str, body: bytes = b"", **claims: object) -> str:
    """An RS256 JWT of merchant A, as the SDK makes it; ``claims`` override."""
    header = {"alg": "RS256", "kid": c.a.jwt_kid, "typ": "JWT"}
    return encode_jwt(
        header, jwt_claims(c.a.id, c.host, method, path, body, **claims), key=c.a.jwt_key
    )


def bearer(token: str) -> dict[str, str]:
    return {"authorization": f"Bearer {token}"}


# HTTP Signature -----------------------------------------------------------------------------------


def sig_forged_secret(c: Context) -> Attack:
    headers = signature_headers(c.a, c.host, "POST", CUSTOMERS, BODY, secret=new_secret())
    return Attack("POST", CUSTOMERS, headers, BODY, "bad_signature")


def sig_unknown_key_id(c: Context) -> Attack:
    headers = signature_headers(c.a, c.host, "POST", CUSTOMERS, BODY, key_id=uuid.uuid4().hex)
    return Attack("POST", CUSTOMERS, headers, BODY, "unknown_key_id")


def sig_body_tampered(c: Context) -> Attack:
    headers = signature_headers(c.a, c.host, "POST", CUSTOMERS, BODY)
    return Attack("POST", CUSTOMERS, headers, OTHER_BODY, "digest_mismatch")


def sig_body_and_digest_tampered(c: Context) -> Attack:
    headers = signature_headers(c.a, c.host, "POST", CUSTOMERS, BODY)
    headers["digest"] = "SHA-256=" + digest_of(OTHER_BODY)
    return Attack("POST", CUSTOMERS, headers, OTHER_BODY, "bad_signature")


def sig_date_tampered(c: Context) -> Attack:
    headers = signature_headers(c.a, c.host, "GET", c.customer, date=http_date(-30))
    headers["date"] = http_date()
    return Attack("GET", c.customer, headers, reason="bad_signature")


def sig_host_tampered(c: Context) -> Attack:
    headers = signature_headers(c.a, c.host, "GET", c.customer)
    headers["host"] = "tms.attacker.example"
    return Attack("GET", c.customer, headers, reason="bad_signature")


def sig_merchant_header_tampered(c: Context) -> Attack:
    headers = signature_headers(c.a, c.host, "GET", c.customer)
    headers["v-c-merchant-id"] = c.b.id
    return Attack("GET", c.customer, headers, reason="merchant_mismatch")


def sig_path_tampered(c: Context) -> Attack:
    headers = signature_headers(c.a, c.host, "GET", c.customer)
    return Attack("GET", c.other_customer, headers, reason="bad_signature")


def sig_query_tampered(c: Context) -> Attack:
    signed = f"{c.customer}/payment-instruments?limit=1"
    headers = signature_headers(c.a, c.host, "GET", signed)
    tampered = f"{c.customer}/payment-instruments?limit=100"
    return Attack("GET", tampered, headers, reason="bad_signature")


def sig_method_tampered(c: Context) -> Attack:
    headers = signature_headers(c.a, c.host, "GET", c.customer)
    return Attack("DELETE", c.customer, headers, reason="bad_signature")


def sig_digest_not_signed(c: Context) -> Attack:
    signed = ("host", "date", "request-target", "v-c-merchant-id")
    headers = signature_headers(c.a, c.host, "POST", CUSTOMERS, BODY, signed=signed)
    return Attack("POST", CUSTOMERS, headers, OTHER_BODY, "unsigned_header")


def sig_merchant_not_signed(c: Context) -> Attack:
    signed = ("host", "date", "request-target")
    headers = signature_headers(c.a, c.host, "GET", c.customer, signed=signed)
    headers["v-c-merchant-id"] = c.b.id
    return Attack("GET", c.customer, headers, reason="unsigned_header")


def sig_a_key_claiming_b(c: Context) -> Attack:
    headers = signature_headers(c.a, c.host, "POST", CUSTOMERS, BODY, merchant_id=c.b.id)
    return Attack("POST", CUSTOMERS, headers, BODY, "merchant_mismatch")


def sig_b_key_id_with_a_secret(c: Context) -> Attack:
    headers = signature_headers(
        c.a, c.host, "POST", CUSTOMERS, BODY, key_id=c.b.key_id, merchant_id=c.b.id
    )
    return Attack("POST", CUSTOMERS, headers, BODY, "bad_signature")


def sig_hmac_sha1(c: Context) -> Attack:
    headers = signature_headers(c.a, c.host, "GET", c.customer, algorithm="HmacSHA1")
    return Attack("GET", c.customer, headers, reason="unsupported_algorithm")


def sig_date_behind(c: Context) -> Attack:
    headers = signature_headers(c.a, c.host, "POST", CUSTOMERS, BODY, date=http_date(-SKEW))
    return Attack("POST", CUSTOMERS, headers, BODY, "stale_date")


def sig_date_ahead(c: Context) -> Attack:
    headers = signature_headers(c.a, c.host, "POST", CUSTOMERS, BODY, date=http_date(SKEW))
    return Attack("POST", CUSTOMERS, headers, BODY, "stale_date")


def sig_date_garbage(c: Context) -> Attack:
    headers = signature_headers(c.a, c.host, "GET", c.customer, date="yesterday")
    return Attack("GET", c.customer, headers, reason="invalid_date")


def sig_malformed(c: Context) -> Attack:
    headers = signature_headers(c.a, c.host, "GET", c.customer)
    headers["signature"] = 'keyid="x", signature="AAAA"'
    return Attack("GET", c.customer, headers, reason="malformed_signature")


# JWT ----------------------------------------------------------------------------------------------


def jwt_forged_key(c: Context) -> Attack:
    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    claims = jwt_claims(c.a.id, c.host, "POST", CUSTOMERS, BODY)
    token = encode_jwt({"alg": "RS256", "kid": c.a.jwt_kid}, claims, key=stranger)
    return Attack("POST", CUSTOMERS, bearer(token), BODY, "bad_signature")


def jwt_body_tampered(c: Context) -> Attack:
    token = rs256(c, "POST", CUSTOMERS, BODY)
    return Attack("POST", CUSTOMERS, bearer(token), OTHER_BODY, "digest_mismatch")


def jwt_claims_tampered(c: Context) -> Attack:
    header, _, signature = rs256(c, "POST", CUSTOMERS, BODY).split(".")
    claims = jwt_claims(c.b.id, c.host, "POST", CUSTOMERS, BODY)
    token = f"{header}.{b64url(json.dumps(claims).encode())}.{signature}"
    return Attack("POST", CUSTOMERS, bearer(token), BODY, "bad_signature")


def jwt_path_tampered(c: Context) -> Attack:
    return Attack(
        "GET", c.other_customer, bearer(rs256(c, "GET", c.customer)), reason="path_mismatch"
    )


def jwt_query_added(c: Context) -> Attack:
    """A token for a path without a query, sent with one (issue 9, point 7)."""
    token = rs256(c, "GET", c.customer)
    return Attack("GET", f"{c.customer}?limit=1", bearer(token), reason="path_mismatch")


def jwt_used_token_wrapped_in_json(c: Context) -> Attack:
    """Issue 9, point 1: a used token in the JWS JSON serialisation, carrying
    the attacker's own claims where a dot-splitting reader finds them."""
    genuine = rs256(c, "GET", c.customer)
    first = httpx.get(f"http://{c.host}{c.customer}", headers=bearer(genuine), timeout=30.0)
    assert first.status_code == 200, first.text
    header = {"alg": "RS256", "kid": c.a.jwt_kid, "typ": "JWT"}
    claims = jwt_claims(c.a.id, c.host, "POST", CUSTOMERS, BODY)
    token = jose_attacks.wrapped(genuine, header, claims, "flattened")
    return Attack("POST", CUSTOMERS, bearer(token), BODY, "malformed_token")


def jwt_method_tampered(c: Context) -> Attack:
    token = rs256(c, "GET", c.customer)
    return Attack("DELETE", c.customer, bearer(token), reason="method_mismatch")


def jwt_a_key_claiming_b(c: Context) -> Attack:
    token = rs256(c, "POST", CUSTOMERS, BODY, **{"v-c-merchant-id": c.b.id, "iss": c.b.id})
    return Attack("POST", CUSTOMERS, bearer(token), BODY, "merchant_mismatch")


def jwt_a_key_with_b_kid(c: Context) -> Attack:
    claims = jwt_claims(c.b.id, c.host, "POST", CUSTOMERS, BODY)
    token = encode_jwt({"alg": "RS256", "kid": c.b.jwt_kid}, claims, key=c.a.jwt_key)
    return Attack("POST", CUSTOMERS, bearer(token), BODY, "bad_signature")


def jwt_merchant_header_b(c: Context) -> Attack:
    token = rs256(c, "GET", c.customer)
    headers = {**bearer(token), "v-c-merchant-id": c.b.id}
    return Attack("GET", c.customer, headers, reason="merchant_mismatch")


def jwt_alg_none(c: Context) -> Attack:
    claims = jwt_claims(c.a.id, c.host, "POST", CUSTOMERS, BODY)
    token = encode_jwt({"alg": "none", "kid": c.a.jwt_kid}, claims)
    return Attack("POST", CUSTOMERS, bearer(token), BODY, "unsupported_algorithm")


def _public_pem(merchant: BundleMerchant) -> bytes:
    return merchant.jwt_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def jwt_alg_confusion_rsa_kid(c: Context) -> Attack:
    """HS256 keyed with A's RSA public key (which anyone may have), under A's
    RS256 kid: the classic RS256 → HS256 confusion."""
    claims = jwt_claims(c.a.id, c.host, "POST", CUSTOMERS, BODY)
    token = encode_jwt({"alg": "HS256", "kid": c.a.jwt_kid}, claims, secret=_public_pem(c.a))
    return Attack("POST", CUSTOMERS, bearer(token), BODY, "unknown_key_id")


def jwt_alg_confusion_shared_kid(c: Context) -> Attack:
    """The same, under A's HTTP Signature key id (HS256's kid)."""
    claims = jwt_claims(c.a.id, c.host, "POST", CUSTOMERS, BODY)
    token = encode_jwt({"alg": "HS256", "kid": c.a.key_id}, claims, secret=_public_pem(c.a))
    return Attack("POST", CUSTOMERS, bearer(token), BODY, "bad_signature")


def jwt_iat_behind(c: Context) -> Attack:
    token = rs256(c, "POST", CUSTOMERS, BODY, iat=int(time.time()) - SKEW)
    return Attack("POST", CUSTOMERS, bearer(token), BODY, "stale_date")


def jwt_iat_ahead(c: Context) -> Attack:
    now = int(time.time())
    token = rs256(c, "POST", CUSTOMERS, BODY, iat=now + SKEW, exp=now + SKEW + 120)
    return Attack("POST", CUSTOMERS, bearer(token), BODY, "stale_date")


def jwt_expired(c: Context) -> Attack:
    token = rs256(c, "POST", CUSTOMERS, BODY, exp=int(time.time()) - SKEW)
    return Attack("POST", CUSTOMERS, bearer(token), BODY, "expired_token")


def jwt_without_iat(c: Context) -> Attack:
    token = rs256(c, "POST", CUSTOMERS, BODY, iat=None)
    return Attack("POST", CUSTOMERS, bearer(token), BODY, "malformed_token")


def jwt_legacy_x5c_claiming_b(c: Context) -> Attack:
    """The legacy format (no kid; x5c and v-c-merchant-id in the header): A's
    certificate and key, B's merchant id."""
    header = {
        "alg": "RS256",
        "x5c": [base64.b64encode(c.a.jwt_certificate_der).decode()],
        "v-c-merchant-id": c.b.id,
    }
    claims = {"iat": http_date(), "digest": digest_of(BODY), "digestAlgorithm": "SHA-256"}
    token = encode_jwt(header, claims, key=c.a.jwt_key)
    return Attack("POST", CUSTOMERS, bearer(token), BODY, "unknown_certificate")


def hs256_a_key_claiming_b(c: Context) -> Attack:
    claims = jwt_claims(c.b.id, c.host, "POST", CUSTOMERS, BODY)
    secret = base64.b64decode(c.a.shared_secret)
    token = encode_jwt({"alg": "HS256", "kid": c.a.key_id}, claims, secret=secret)
    return Attack("POST", CUSTOMERS, bearer(token), BODY, "merchant_mismatch")


def hs256_forged_secret(c: Context) -> Attack:
    claims = jwt_claims(c.a.id, c.host, "POST", CUSTOMERS, BODY)
    secret = base64.b64decode(new_secret())
    token = encode_jwt({"alg": "HS256", "kid": c.a.key_id}, claims, secret=secret)
    return Attack("POST", CUSTOMERS, bearer(token), BODY, "bad_signature")


def hs256_b_kid_a_secret(c: Context) -> Attack:
    claims = jwt_claims(c.b.id, c.host, "POST", CUSTOMERS, BODY)
    secret = base64.b64decode(c.a.shared_secret)
    token = encode_jwt({"alg": "HS256", "kid": c.b.key_id}, claims, secret=secret)
    return Attack("POST", CUSTOMERS, bearer(token), BODY, "bad_signature")


def basic_authorization(c: Context) -> Attack:
    headers = {"authorization": "Basic " + base64.b64encode(f"{c.a.id}:x".encode()).decode()}
    return Attack("GET", c.customer, headers, reason="malformed_authorization")


def garbage_bearer_beside_valid_signature(c: Context) -> Attack:
    headers = signature_headers(c.a, c.host, "GET", c.customer)
    headers["authorization"] = "Bearer not.a.jwt"
    return Attack("GET", c.customer, headers, reason=None)


def no_credentials(c: Context) -> Attack:
    return Attack("GET", c.customer, {}, reason="missing_credentials")


ATTACKS: list[Callable[[Context], Attack]] = [
    sig_forged_secret,
    sig_unknown_key_id,
    sig_body_tampered,
    sig_body_and_digest_tampered,
    sig_date_tampered,
    sig_host_tampered,
    sig_merchant_header_tampered,
    sig_path_tampered,
    sig_query_tampered,
    sig_method_tampered,
    sig_digest_not_signed,
    sig_merchant_not_signed,
    sig_a_key_claiming_b,
    sig_b_key_id_with_a_secret,
    sig_hmac_sha1,
    sig_date_behind,
    sig_date_ahead,
    sig_date_garbage,
    sig_malformed,
    jwt_forged_key,
    jwt_body_tampered,
    jwt_claims_tampered,
    jwt_path_tampered,
    jwt_method_tampered,
    jwt_query_added,
    jwt_used_token_wrapped_in_json,
    jwt_a_key_claiming_b,
    jwt_a_key_with_b_kid,
    jwt_merchant_header_b,
    jwt_alg_none,
    jwt_alg_confusion_rsa_kid,
    jwt_alg_confusion_shared_kid,
    jwt_iat_behind,
    jwt_iat_ahead,
    jwt_expired,
    jwt_without_iat,
    jwt_legacy_x5c_claiming_b,
    hs256_a_key_claiming_b,
    hs256_forged_secret,
    hs256_b_kid_a_secret,
    basic_authorization,
    garbage_bearer_beside_valid_signature,
    no_credentials,
]


@pytest.mark.parametrize("build", [pytest.param(b, id=b.__name__) for b in ATTACKS])
def test_attack_is_refused(
    deployment: Deployment, context: Context, build: Callable[[Context], Attack]
) -> None:
    attack = build(context)
    assert_refused(send(deployment, attack), attack.reason)


def test_the_attacks_changed_nothing(deployment: Deployment, context: Context) -> None:
    """The customers the attacks aimed at are intact, and merchant B owns nothing."""
    with client(deployment.server, deployment.merchant) as http:
        for path in (context.customer, context.other_customer):
            assert http.get(path).status_code == 200
    with client(deployment.server, deployment.other) as http:
        assert http.get(context.customer).status_code == 404


# Replayed JWTs ------------------------------------------------------------------------------------


def first_use(deployment: Deployment, token: str) -> None:
    """The legitimate use of ``token`` (not counted as an attack)."""
    with httpx.Client(base_url=deployment.server.url, timeout=30.0) as http:
        response = http.post(
            CUSTOMERS, content=BODY, headers={"content-type": "application/json", **bearer(token)}
        )
    assert response.status_code == 201, response.text


def fresh_token(context: Context, mode: str) -> str:
    if mode == "rs256":
        return rs256(context, "POST", CUSTOMERS, BODY)
    claims = jwt_claims(context.a.id, context.host, "POST", CUSTOMERS, BODY)
    secret = base64.b64decode(context.a.shared_secret)
    return encode_jwt({"alg": "HS256", "kid": context.a.key_id}, claims, secret=secret)


MODES = [pytest.param("rs256", id="rs256"), pytest.param("hs256", id="hs256")]


@pytest.mark.parametrize("mode", MODES)
def test_a_replayed_jwt_is_refused(deployment: Deployment, context: Context, mode: str) -> None:
    token = fresh_token(context, mode)
    first_use(deployment, token)
    replay = Attack("POST", CUSTOMERS, bearer(token), BODY, "replayed_token")
    assert_refused(send(deployment, replay), "replayed_token")


ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


def spellings(token: str) -> list[str]:
    """Other spellings of the same signed token: the signature segment with its
    unused trailing bits set (base64url decoders ignore them) and with '='
    padding, which RFC 7515 forbids and lenient decoders skip."""
    index = ALPHABET.index(token[-1])
    # 32 bytes (HS256) take 43 characters, 2 bits unused; 256 (RS256) 342, 4 unused.
    unused = 2 if len(token.rsplit(".", 1)[1]) == 43 else 4
    variants = [token[:-1] + ALPHABET[index ^ bit] for bit in range(1, 1 << unused)]
    return [*variants[:3], token + "=", token + "==", token + "=" * 10]


@pytest.mark.parametrize("mode", MODES)
def test_a_replayed_jwt_spelled_differently_is_refused(
    deployment: Deployment, context: Context, mode: str
) -> None:
    """The signature bytes are the same, so it is the same JWT: a replay."""
    token = fresh_token(context, mode)
    first_use(deployment, token)
    accepted = []
    for variant in spellings(token):
        response = send(deployment, Attack("POST", CUSTOMERS, bearer(variant), BODY))
        if response.status_code != 401:
            accepted.append((variant[-12:], response.status_code))
    assert not accepted, f"replays accepted (token tail, status): {accepted}"
