from __future__ import annotations

import base64
import hashlib
import hmac
import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from hypothesis import given, settings
from hypothesis import strategies as st

from opentms.domain.errors import AuthenticationFailed
from opentms.services.authentication import Authenticator, SignedRequest, _parse_signature
from tests.unit import captures
from tests.unit.captures import Capture
from tests.unit.jose import b64url, certificate_pem, oct_jwk, rsa_jwk, rsa_key, sign, unsigned

SKEW = 300
NOW = datetime(2026, 11, 24, 12, 0, 0, tzinfo=UTC)
HOST = "opentms.test:8080"
MERCHANT = "merchant_a"
KEY_ID = "6f1e9c43-8d1a-4f5e-9b4e-0c1f2a3b4c5d"
SECRET = bytes(range(100, 132))
OTHER_MERCHANT = "merchant_b"
OTHER_KEY_ID = "key-of-merchant-b"
OTHER_SECRET = bytes(range(150, 182))
KID = "1179494495299941096449"
BODY = b'{"card": {"number": "4111111111111111"}}'
PATH = "/tms/v1/instrumentidentifiers"


class FakeCredentialDirectory:
    def __init__(self) -> None:
        self.secrets: dict[str, tuple[str, bytes]] = {}
        self.certificates: dict[str, tuple[str, bytes]] = {}

    def shared_secret(self, key_id: str) -> tuple[str, bytes] | None:
        return self.secrets.get(key_id)

    def jwt_certificate(self, kid: str) -> tuple[str, bytes] | None:
        return self.certificates.get(kid)

    def jwt_certificates_of(self, merchant_id: str) -> list[bytes]:
        return [pem for owner, pem in self.certificates.values() if owner == merchant_id]


class FixedClock:
    def __init__(self, moment: datetime) -> None:
        self.moment = moment

    def now(self) -> datetime:
        return self.moment


@pytest.fixture(scope="module")
def signing_key() -> rsa.RSAPrivateKey:
    return rsa_key()


@pytest.fixture(scope="module")
def certificate(signing_key: rsa.RSAPrivateKey) -> bytes:
    return certificate_pem(signing_key, MERCHANT, KID)


@pytest.fixture
def directory(certificate: bytes) -> FakeCredentialDirectory:
    directory = FakeCredentialDirectory()
    directory.secrets[KEY_ID] = (MERCHANT, SECRET)
    directory.secrets[OTHER_KEY_ID] = (OTHER_MERCHANT, OTHER_SECRET)
    directory.secrets[captures.KEY_ID] = (captures.MERCHANT_ID, captures.SHARED_SECRET)
    directory.certificates[KID] = (MERCHANT, certificate)
    return directory


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(NOW)


@pytest.fixture
def authenticator(directory: FakeCredentialDirectory, clock: FixedClock) -> Authenticator:
    return Authenticator(directory, clock, SKEW)


def _secret_forms(secret: bytes) -> list[str]:
    return [
        base64.b64encode(secret).decode(),
        base64.urlsafe_b64encode(secret).decode().rstrip("="),
        secret.hex(),
        repr(secret)[2:-1],
    ]


def expect_failure(authenticator: Authenticator, request: SignedRequest, reason: str) -> str:
    with pytest.raises(AuthenticationFailed) as caught:
        authenticator.authenticate(request)
    assert caught.value.reason == reason, caught.value.message
    for secret in (SECRET, OTHER_SECRET, captures.SHARED_SECRET):
        for form in _secret_forms(secret):
            assert form not in caught.value.message
    return caught.value.message


# HTTP Signature, built here independently of opentms -------------------------------


def http_date(moment: datetime) -> str:
    return format_datetime(moment, usegmt=True)


def signed_request(
    method: str = "POST",
    target: str = PATH,
    body: bytes = BODY,
    *,
    key_id: str = KEY_ID,
    secret: bytes = SECRET,
    merchant: str = MERCHANT,
    date: str | None = None,
    signed: str | None = None,
    algorithm: str = "HmacSHA256",
    digest_algorithm: str = "SHA-256",
    drop: tuple[str, ...] = (),
    override: dict[str, str] | None = None,
) -> SignedRequest:
    """A request signed the way the SDK signs; ``override`` and ``drop`` change
    headers after signing."""
    has_body = method in ("POST", "PUT", "PATCH")
    headers = {
        "host": HOST,
        "date": http_date(NOW) if date is None else date,
        "v-c-merchant-id": merchant,
        "content-type": "application/json;charset=utf-8",
    }
    if has_body:
        digest = base64.b64encode(hashlib.sha256(body).digest()).decode()
        headers["digest"] = f"{digest_algorithm}={digest}"
    names = signed or (
        "host date request-target digest v-c-merchant-id"
        if has_body
        else "host date request-target v-c-merchant-id"
    )
    lines = []
    for name in names.split():
        if name == "request-target":
            lines.append(f"request-target: {method.lower()} {target}")
        else:
            lines.append(f"{name}: {headers.get(name, '')}")
    mac = hmac.new(secret, "\n".join(lines).encode(), hashlib.sha256).digest()
    headers["signature"] = (
        f'keyid="{key_id}", algorithm="{algorithm}", headers="{names}", '
        f'signature="{base64.b64encode(mac).decode()}"'
    )
    headers.update(override or {})
    for name in drop:
        headers.pop(name, None)
    return SignedRequest(method, target, headers, body)


def with_headers(request: SignedRequest, **changes: str | None) -> SignedRequest:
    """``request`` with headers replaced (``None`` removes one); names use ``_`` for ``-``."""
    headers = dict(request.headers)
    for name, value in changes.items():
        key = name.replace("_", "-")
        if value is None:
            headers.pop(key, None)
        else:
            headers[key] = value
    return replace(request, headers=headers)


def _from_capture(capture: Capture) -> SignedRequest:
    return SignedRequest(capture.method, capture.target, dict(capture.headers), capture.body)


# Success paths ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "capture",
    [
        pytest.param(captures.CREATE_II, id="create-instrument-identifier"),
        pytest.param(captures.RETRIEVE_II, id="retrieve-with-query"),
        pytest.param(captures.CREATE_PI, id="create-payment-instrument"),
        pytest.param(captures.PATCH_PI, id="patch-with-if-match"),
    ],
)
def test_sdk_http_signature_captures_are_accepted(
    authenticator: Authenticator, clock: FixedClock, capture: Capture
) -> None:
    clock.moment = capture.sent_at
    assert authenticator.authenticate(_from_capture(capture)).merchant_id == captures.MERCHANT_ID


@pytest.mark.parametrize(
    "capture",
    [
        pytest.param(captures.HS256_CREATE_II, id="create-instrument-identifier"),
        pytest.param(captures.HS256_RETRIEVE_II, id="retrieve-with-query"),
    ],
)
def test_sdk_hs256_jwt_captures_are_accepted(
    authenticator: Authenticator, clock: FixedClock, capture: Capture
) -> None:
    clock.moment = capture.sent_at
    assert authenticator.authenticate(_from_capture(capture)).merchant_id == captures.MERCHANT_ID


def test_sdk_capture_is_accepted_at_the_edges_of_the_skew_window(
    authenticator: Authenticator, clock: FixedClock
) -> None:
    request = _from_capture(captures.CREATE_II)
    for offset in (-SKEW, SKEW):
        clock.moment = captures.CREATE_II.sent_at + timedelta(seconds=offset)
        assert authenticator.authenticate(request).merchant_id == captures.MERCHANT_ID


@pytest.mark.parametrize(
    ("offset", "direction"),
    [pytest.param(SKEW + 1, "behind", id="late"), pytest.param(-SKEW - 1, "ahead", id="early")],
)
def test_sdk_capture_outside_the_skew_window_is_stale(
    authenticator: Authenticator, clock: FixedClock, offset: int, direction: str
) -> None:
    clock.moment = captures.CREATE_II.sent_at + timedelta(seconds=offset)
    message = expect_failure(authenticator, _from_capture(captures.CREATE_II), "stale_date")
    assert direction in message
    assert str(SKEW) in message


def test_sdk_capture_with_another_body_fails_the_digest(
    authenticator: Authenticator, clock: FixedClock
) -> None:
    clock.moment = captures.CREATE_II.sent_at
    request = replace(_from_capture(captures.CREATE_II), body=captures.CREATE_II_BODY + b" ")
    expect_failure(authenticator, request, "digest_mismatch")


def test_sdk_capture_with_another_host_fails_the_signature(
    authenticator: Authenticator, clock: FixedClock
) -> None:
    clock.moment = captures.CREATE_II.sent_at
    request = with_headers(_from_capture(captures.CREATE_II), host="127.0.0.1:18081")
    message = expect_failure(authenticator, request, "bad_signature")
    assert "host: 127.0.0.1:18081\n" in message
    assert captures.KEY_ID in message


def test_sdk_capture_with_another_path_fails_the_signature(
    authenticator: Authenticator, clock: FixedClock
) -> None:
    clock.moment = captures.RETRIEVE_II.sent_at
    request = replace(
        _from_capture(captures.RETRIEVE_II),
        target="/tms/v1/instrumentidentifiers/7011233217898191240?retrieveBinDetails=False",
    )
    expect_failure(authenticator, request, "bad_signature")


@pytest.mark.parametrize(
    ("method", "target", "body"),
    [
        pytest.param("GET", f"{PATH}/7010000000016241110?retrieveBinDetails=True", b"", id="get"),
        pytest.param("DELETE", f"{PATH}/7010000000016241110", b"", id="delete"),
        pytest.param("POST", PATH, BODY, id="post"),
        pytest.param("PATCH", f"{PATH}/7010000000016241110", b'{"a": 1}', id="patch"),
        pytest.param("PUT", f"{PATH}/7010000000016241110", b"{}", id="put"),
    ],
)
def test_http_signature_is_accepted(
    authenticator: Authenticator, method: str, target: str, body: bytes
) -> None:
    assert authenticator.authenticate(signed_request(method, target, body)).merchant_id == MERCHANT


def test_http_signature_parameter_names_are_case_insensitive(
    authenticator: Authenticator,
) -> None:
    request = signed_request()
    request = with_headers(
        request, signature=request.headers["signature"].replace("keyid", "keyId")
    )
    assert authenticator.authenticate(request).merchant_id == MERCHANT


def test_http_signature_resolves_each_merchant_by_its_key(authenticator: Authenticator) -> None:
    request = signed_request(key_id=OTHER_KEY_ID, secret=OTHER_SECRET, merchant=OTHER_MERCHANT)
    assert authenticator.authenticate(request).merchant_id == OTHER_MERCHANT


# HTTP Signature failures -----------------------------------------------------------------


def test_no_credentials(authenticator: Authenticator) -> None:
    request = signed_request(drop=("signature",))
    expect_failure(authenticator, request, "missing_credentials")


@pytest.mark.parametrize(
    "value",
    [
        pytest.param("Basic dXNlcjpwYXNz", id="basic"),
        pytest.param("Bearer", id="bearer-without-token"),
        pytest.param("Bearer    ", id="bearer-blank"),
        pytest.param("", id="empty"),
    ],
)
def test_malformed_authorization(authenticator: Authenticator, value: str) -> None:
    request = signed_request(override={"authorization": value})
    expect_failure(authenticator, request, "malformed_authorization")


@pytest.mark.parametrize(
    "value",
    [
        pytest.param("", id="empty"),
        pytest.param('algorithm="HmacSHA256", headers="host", signature="x"', id="no-keyid"),
        pytest.param(f'keyid="{KEY_ID}", headers="host", signature="x"', id="no-algorithm"),
        pytest.param(f'keyid="{KEY_ID}", algorithm="HmacSHA256", signature="x"', id="no-headers"),
        pytest.param(f'keyid="{KEY_ID}", algorithm="HmacSHA256", headers="host"', id="no-sig"),
        pytest.param("keyid=unquoted, algorithm=HmacSHA256", id="unquoted"),
        pytest.param(
            f'keyid="{KEY_ID}", junk, algorithm="HmacSHA256", headers="host", signature="x"',
            id="junk-between-parameters",
        ),
        pytest.param(
            f'keyid="{KEY_ID}", keyid="other", algorithm="HmacSHA256", headers="host", '
            'signature="x"',
            id="repeated-keyid",
        ),
        pytest.param(
            f'keyid="{KEY_ID}" algorithm="HmacSHA256", headers="host", signature="x"',
            id="no-comma",
        ),
    ],
)
def test_malformed_signature(authenticator: Authenticator, value: str) -> None:
    request = signed_request(override={"signature": value})
    expect_failure(authenticator, request, "malformed_signature")


@pytest.mark.parametrize(
    "algorithm",
    [
        pytest.param("HmacSHA512", id="sha512"),
        pytest.param("hs2019", id="hs2019"),
    ],
)
def test_http_signature_unsupported_algorithm(authenticator: Authenticator, algorithm: str) -> None:
    request = signed_request(algorithm=algorithm)
    expect_failure(authenticator, request, "unsupported_algorithm")


@pytest.mark.parametrize(
    ("method", "signed", "missing"),
    [
        pytest.param(
            "POST", "host date request-target v-c-merchant-id", "digest", id="post-digest"
        ),
        pytest.param("PATCH", "host date request-target v-c-merchant-id", "digest", id="patch"),
        pytest.param("GET", "date request-target v-c-merchant-id", "host", id="get-host"),
        pytest.param("GET", "host request-target v-c-merchant-id", "date", id="get-date"),
        pytest.param("GET", "host date v-c-merchant-id", "request-target", id="get-target"),
        pytest.param("GET", "host date request-target", "v-c-merchant-id", id="get-merchant"),
    ],
)
def test_http_signature_must_cover_the_required_headers(
    authenticator: Authenticator, method: str, signed: str, missing: str
) -> None:
    body = BODY if method != "GET" else b""
    request = signed_request(method, PATH, body, signed=signed)
    message = expect_failure(authenticator, request, "unsigned_header")
    assert missing in message


def test_http_signature_unknown_key_id(authenticator: Authenticator) -> None:
    request = signed_request(key_id="no-such-key")
    message = expect_failure(authenticator, request, "unknown_key_id")
    assert "no-such-key" in message


@pytest.mark.parametrize(
    "merchant",
    [
        pytest.param(OTHER_MERCHANT, id="other-merchant"),
        pytest.param(MERCHANT.upper(), id="case-differs"),
    ],
)
def test_http_signature_merchant_must_own_the_key(
    authenticator: Authenticator, merchant: str
) -> None:
    # Signed consistently with the claimed merchant: only ownership is wrong.
    request = signed_request(merchant=merchant)
    expect_failure(authenticator, request, "merchant_mismatch")


def test_http_signature_merchant_header_is_required(authenticator: Authenticator) -> None:
    request = signed_request(drop=("v-c-merchant-id",))
    expect_failure(authenticator, request, "merchant_mismatch")


def test_http_signature_date_header_is_required(authenticator: Authenticator) -> None:
    request = signed_request(drop=("date",))
    expect_failure(authenticator, request, "missing_header")


def test_http_signature_signed_header_not_sent(authenticator: Authenticator) -> None:
    request = signed_request(
        "GET", PATH, b"", signed="host date request-target v-c-merchant-id profile-id"
    )
    message = expect_failure(authenticator, request, "missing_header")
    assert "profile-id" in message


@pytest.mark.parametrize(
    "date",
    [
        pytest.param("yesterday", id="words"),
        pytest.param("", id="empty"),
        pytest.param("2026-11-24T12:00:00Z", id="iso-8601"),
        pytest.param("Tue, 24 Nov 2026 12:00:00 -0000", id="unknown-zone"),
        pytest.param("Tue, 24 Nov 2026 12:00:00", id="no-zone"),
        pytest.param("Tue, 31 Nov 2026 12:00:00 GMT", id="no-such-day"),
        pytest.param("Tue, 24 Nov 2026 12:00:00 +2500", id="offset-over-a-day"),
        pytest.param("Tue, 24 Nov 2026 12:00:00 +99999999999999999999", id="huge-offset"),
    ],
)
def test_http_signature_invalid_date(authenticator: Authenticator, date: str) -> None:
    request = signed_request(date=date)
    expect_failure(authenticator, request, "invalid_date")


def test_http_signature_date_in_another_zone_is_accepted(authenticator: Authenticator) -> None:
    request = signed_request(date="Tue, 24 Nov 2026 13:00:00 +0100")
    assert authenticator.authenticate(request).merchant_id == MERCHANT


@pytest.mark.parametrize(
    "moment",
    [
        pytest.param(NOW - timedelta(seconds=SKEW + 1), id="late"),
        pytest.param(NOW + timedelta(seconds=SKEW + 1), id="early"),
        pytest.param(NOW - timedelta(days=365), id="a-year-old"),
    ],
)
def test_http_signature_stale_date(authenticator: Authenticator, moment: datetime) -> None:
    request = signed_request(date=http_date(moment))
    expect_failure(authenticator, request, "stale_date")


@pytest.mark.parametrize(
    "digest",
    [
        pytest.param(None, id="absent"),
        pytest.param("", id="empty"),
        pytest.param("SHA-256=", id="no-value"),
        pytest.param("MD5=abc", id="other-algorithm"),
        pytest.param("47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=", id="no-prefix"),
    ],
)
def test_http_signature_missing_digest(authenticator: Authenticator, digest: str | None) -> None:
    request = with_headers(signed_request(), digest=digest)
    expect_failure(authenticator, request, "missing_digest")


def test_http_signature_digest_algorithm_name_is_case_insensitive(
    authenticator: Authenticator,
) -> None:
    request = signed_request(digest_algorithm="sha-256")
    assert request.headers["digest"].startswith("sha-256=")
    assert authenticator.authenticate(request).merchant_id == MERCHANT


def test_http_signature_digest_header_is_signed(authenticator: Authenticator) -> None:
    # A Digest header rewritten after signing (same body hash, other spelling)
    # no longer matches the signed string.
    request = signed_request()
    changed = request.headers["digest"].replace("SHA-256=", "sha-256=")
    expect_failure(authenticator, with_headers(request, digest=changed), "bad_signature")


def test_http_signature_digest_mismatch(authenticator: Authenticator) -> None:
    request = replace(signed_request(), body=BODY + b"\n")
    message = expect_failure(authenticator, request, "digest_mismatch")
    assert f"({len(BODY) + 1} bytes)" in message


@pytest.mark.parametrize(
    "secret",
    [
        pytest.param(OTHER_SECRET, id="wrong-secret"),
        pytest.param(base64.b64encode(SECRET), id="secret-not-decoded"),
    ],
)
def test_http_signature_bad_signature(authenticator: Authenticator, secret: bytes) -> None:
    message = expect_failure(authenticator, signed_request(secret=secret), "bad_signature")
    assert f"request-target: post {PATH}" in message


def test_http_signature_bad_signature_when_the_host_differs(authenticator: Authenticator) -> None:
    request = signed_request(override={"host": "other.test"})
    message = expect_failure(authenticator, request, "bad_signature")
    assert "host: other.test\n" in message


def test_http_signature_bad_signature_when_the_query_differs(
    authenticator: Authenticator,
) -> None:
    request = replace(signed_request("GET", f"{PATH}/1?offset=0", b""), target=f"{PATH}/1?offset=1")
    expect_failure(authenticator, request, "bad_signature")


def test_http_signature_bad_signature_when_the_method_differs(
    authenticator: Authenticator,
) -> None:
    request = replace(signed_request("GET", f"{PATH}/1", b""), method="DELETE")
    expect_failure(authenticator, request, "bad_signature")


def test_http_signature_tampered_signature_value(authenticator: Authenticator) -> None:
    request = signed_request()
    header = request.headers["signature"]
    value = header.rsplit('signature="', 1)[1].rstrip('"')
    tampered = ("A" if value[0] != "A" else "B") + value[1:]
    request = with_headers(request, signature=header.replace(value, tampered))
    expect_failure(authenticator, request, "bad_signature")


# JWT ------------------------------------------------------------------------------------


def jwt_claims(method: str = "POST", target: str = PATH, body: bytes = BODY) -> dict[str, Any]:
    claims: dict[str, Any] = {
        "iat": int(NOW.timestamp()),
        "exp": int(NOW.timestamp()) + 120,
        "iss": MERCHANT,
        "jti": "83e88cc7-373a-4884-b8ce-e9e9ff7e34ec",
        "v-c-jwt-version": "2",
        "v-c-merchant-id": MERCHANT,
        "request-host": HOST,
        "request-method": method,
        "request-resource-path": target,
    }
    if method in ("POST", "PUT", "PATCH"):
        claims["digest"] = base64.b64encode(hashlib.sha256(body).digest()).decode()
        claims["digestAlgorithm"] = "SHA-256"
    return claims


def bearer(
    token: str,
    method: str = "POST",
    target: str = PATH,
    body: bytes = BODY,
    headers: dict[str, str] | None = None,
) -> SignedRequest:
    all_headers = {"host": HOST, "authorization": f"Bearer {token}", **(headers or {})}
    return SignedRequest(method, target, all_headers, body)


def rs256(key: rsa.RSAPrivateKey, claims: dict[str, Any], **header: Any) -> str:
    return sign(rsa_jwk(key), "RS256", {"kid": KID, "typ": "JWT", **header}, claims)


def hs256(claims: dict[str, Any] | bytes, secret: bytes = SECRET, **header: Any) -> str:
    return sign(oct_jwk(secret), "HS256", {"kid": KEY_ID, "typ": "JWT", **header}, claims)


def test_rs256_jwt_is_accepted(
    authenticator: Authenticator, signing_key: rsa.RSAPrivateKey
) -> None:
    assert (
        authenticator.authenticate(bearer(rs256(signing_key, jwt_claims()))).merchant_id == MERCHANT
    )


def test_rs256_jwt_path_carries_the_query_as_sent(
    authenticator: Authenticator, signing_key: rsa.RSAPrivateKey
) -> None:
    target = f"{PATH}/1?retrieveBinDetails=True"
    token = rs256(signing_key, jwt_claims("GET", target, b""))
    assert authenticator.authenticate(bearer(token, "GET", target, b"")).merchant_id == MERCHANT


@pytest.mark.parametrize(
    ("claimed_path", "target"),
    [
        pytest.param(f"{PATH}/1", f"{PATH}/1?retrieveBinDetails=True", id="query-added"),
        pytest.param(f"{PATH}/1?limit=1", f"{PATH}/1?limit=2", id="query-changed"),
        pytest.param(f"{PATH}/1?limit=1", f"{PATH}/1", id="query-removed"),
        pytest.param(f"{PATH}/1?a=1&b=2", f"{PATH}/1?b=2&a=1", id="query-reordered"),
        pytest.param(f"{PATH}/1?", f"{PATH}/1", id="empty-query-added"),
    ],
)
def test_jwt_binds_the_query_exactly(
    authenticator: Authenticator, signing_key: rsa.RSAPrivateKey, claimed_path: str, target: str
) -> None:
    """The SDKs (Python 0.0.76 and later, Node) sign the path with its query;
    a token for one query does not authorise another (issue 9, point 7)."""
    token = rs256(signing_key, jwt_claims("GET", claimed_path, b""))
    with pytest.raises(AuthenticationFailed) as caught:
        authenticator.authenticate(bearer(token, "GET", target, b""))
    assert caught.value.reason == "path_mismatch"


def test_hs256_jwt_is_accepted(authenticator: Authenticator) -> None:
    assert authenticator.authenticate(bearer(hs256(jwt_claims()))).merchant_id == MERCHANT


def test_jwt_with_matching_merchant_header_is_accepted(authenticator: Authenticator) -> None:
    request = bearer(hs256(jwt_claims()), headers={"v-c-merchant-id": MERCHANT})
    assert authenticator.authenticate(request).merchant_id == MERCHANT


def test_bearer_scheme_is_case_insensitive(authenticator: Authenticator) -> None:
    request = bearer(hs256(jwt_claims()))
    authorization = request.headers["authorization"].replace("Bearer", "bearer")
    request = with_headers(request, authorization=authorization)
    assert authenticator.authenticate(request).merchant_id == MERCHANT


def _x5c(certificate: bytes) -> str:
    der = x509.load_pem_x509_certificate(certificate).public_bytes(serialization.Encoding.DER)
    return base64.b64encode(der).decode()


def legacy_token(
    key: rsa.RSAPrivateKey, certificate: bytes, merchant: str = MERCHANT, **claims: Any
) -> str:
    """The SDK <= 0.0.74 format: x5c instead of kid, iat as an HTTP date."""
    body_digest = base64.b64encode(hashlib.sha256(BODY).digest()).decode()
    payload = {"iat": http_date(NOW), "digest": body_digest, "digestAlgorithm": "SHA-256"}
    header = {"typ": "JWT", "v-c-merchant-id": merchant, "x5c": [_x5c(certificate)]}
    return sign(rsa_jwk(key), "RS256", header, {**payload, **claims})


def test_legacy_x5c_jwt_is_accepted(
    authenticator: Authenticator, signing_key: rsa.RSAPrivateKey, certificate: bytes
) -> None:
    assert (
        authenticator.authenticate(bearer(legacy_token(signing_key, certificate))).merchant_id
        == MERCHANT
    )


def test_legacy_x5c_jwt_with_an_unregistered_certificate(authenticator: Authenticator) -> None:
    key = rsa_key()
    token = legacy_token(key, certificate_pem(key, MERCHANT, KID))
    expect_failure(authenticator, bearer(token), "unknown_certificate")


def test_legacy_x5c_jwt_of_another_merchant(
    authenticator: Authenticator, signing_key: rsa.RSAPrivateKey, certificate: bytes
) -> None:
    token = legacy_token(signing_key, certificate, merchant=OTHER_MERCHANT)
    expect_failure(authenticator, bearer(token), "unknown_certificate")


@pytest.mark.parametrize(
    "header",
    [
        pytest.param({"x5c": ["abc"]}, id="no-merchant"),
        pytest.param({"v-c-merchant-id": MERCHANT, "x5c": []}, id="empty-x5c"),
        pytest.param({"v-c-merchant-id": MERCHANT, "x5c": [42]}, id="x5c-not-string"),
    ],
)
def test_legacy_jwt_without_merchant_or_certificate_is_malformed(
    authenticator: Authenticator, signing_key: rsa.RSAPrivateKey, header: dict[str, Any]
) -> None:
    token = sign(rsa_jwk(signing_key), "RS256", header, {"iat": http_date(NOW)})
    expect_failure(authenticator, bearer(token), "malformed_token")


@pytest.mark.parametrize(
    "token",
    [
        pytest.param("not-a-jwt", id="one-part"),
        pytest.param("a.b.c", id="not-base64-json"),
        pytest.param(f"{b64url(b'[' * 4000)}.{b64url(b'{}')}.x", id="deeply-nested-header"),
    ],
)
def test_jwt_malformed_token(authenticator: Authenticator, token: str) -> None:
    expect_failure(authenticator, bearer(token), "malformed_token")


@pytest.mark.parametrize(
    "header",
    [
        pytest.param({"alg": "none", "kid": KEY_ID}, id="none"),
        pytest.param({"alg": "ES256", "kid": KID}, id="es256"),
        pytest.param({"alg": "RS512", "kid": KID}, id="rs512"),
        pytest.param({"alg": "HS512", "kid": KEY_ID}, id="hs512"),
        pytest.param({"alg": "RS256"}, id="rs256-without-kid-or-x5c"),
        pytest.param({"alg": "HS256"}, id="hs256-without-kid"),
        pytest.param({"alg": "HS256", "kid": 42}, id="kid-not-a-string"),
    ],
)
def test_jwt_unsupported_algorithm(authenticator: Authenticator, header: dict[str, Any]) -> None:
    token = unsigned(header, jwt_claims(), b"signature")
    expect_failure(authenticator, bearer(token), "unsupported_algorithm")


def test_rs256_jwt_unknown_kid(
    authenticator: Authenticator, signing_key: rsa.RSAPrivateKey
) -> None:
    token = rs256(signing_key, jwt_claims(), kid="0000000000000000000000")
    message = expect_failure(authenticator, bearer(token), "unknown_key_id")
    assert "0000000000000000000000" in message


def test_hs256_jwt_unknown_kid(authenticator: Authenticator) -> None:
    expect_failure(authenticator, bearer(hs256(jwt_claims(), kid="nope")), "unknown_key_id")


def test_rs256_jwt_signed_by_another_key(authenticator: Authenticator) -> None:
    expect_failure(authenticator, bearer(rs256(rsa_key(), jwt_claims())), "bad_signature")


def test_hs256_jwt_signed_with_another_secret(authenticator: Authenticator) -> None:
    token = hs256(jwt_claims(), secret=OTHER_SECRET)
    expect_failure(authenticator, bearer(token), "bad_signature")


def test_rs256_jwt_with_hs256_signature_by_the_certificate(
    authenticator: Authenticator, certificate: bytes
) -> None:
    forged = hs256(jwt_claims(), secret=certificate, kid=KID)
    header = base64.urlsafe_b64decode(forged.split(".")[0] + "==")
    assert json.loads(header)["alg"] == "HS256"
    # HS256 with kid=KID looks the kid up as a shared secret: unknown there.
    expect_failure(authenticator, bearer(forged), "unknown_key_id")
    swapped = b64url(json.dumps({"alg": "RS256", "kid": KID}).encode())
    relabelled = ".".join([swapped, *forged.split(".")[1:]])
    expect_failure(authenticator, bearer(relabelled), "bad_signature")


def test_jwt_tampered_claims(authenticator: Authenticator) -> None:
    token = hs256(jwt_claims())
    header, _, signature = token.split(".")
    claims = b64url(json.dumps({**jwt_claims(), "v-c-merchant-id": OTHER_MERCHANT}).encode())
    expect_failure(authenticator, bearer(f"{header}.{claims}.{signature}"), "bad_signature")


def test_jwt_merchant_claim_must_own_the_key(authenticator: Authenticator) -> None:
    claims = {**jwt_claims(), "v-c-merchant-id": OTHER_MERCHANT}
    expect_failure(authenticator, bearer(hs256(claims)), "merchant_mismatch")


def test_jwt_merchant_claim_is_required(authenticator: Authenticator) -> None:
    claims = jwt_claims()
    del claims["v-c-merchant-id"]
    expect_failure(authenticator, bearer(hs256(claims)), "merchant_mismatch")


def test_jwt_merchant_header_must_match(authenticator: Authenticator) -> None:
    request = bearer(hs256(jwt_claims()), headers={"v-c-merchant-id": OTHER_MERCHANT})
    expect_failure(authenticator, request, "merchant_mismatch")


@pytest.mark.parametrize(
    "iat",
    [
        pytest.param(int(NOW.timestamp()) - SKEW - 1, id="late"),
        pytest.param(int(NOW.timestamp()) + SKEW + 1, id="early"),
        pytest.param(0, id="epoch"),
        pytest.param(http_date(NOW - timedelta(hours=1)), id="http-date-late"),
    ],
)
def test_jwt_stale_iat(authenticator: Authenticator, iat: object) -> None:
    claims = {**jwt_claims(), "iat": iat}
    expect_failure(authenticator, bearer(hs256(claims)), "stale_date")


@pytest.mark.parametrize(
    "iat",
    [
        pytest.param(float("inf"), id="infinity"),
        pytest.param(float("nan"), id="nan"),
        pytest.param(10**400, id="beyond-float"),
    ],
)
def test_jwt_non_finite_iat_is_malformed(authenticator: Authenticator, iat: object) -> None:
    claims = {**jwt_claims(), "iat": iat}
    expect_failure(authenticator, bearer(hs256(claims)), "malformed_token")


@pytest.mark.parametrize(
    "iat",
    [
        pytest.param(int(NOW.timestamp()) - SKEW, id="oldest-accepted"),
        pytest.param(int(NOW.timestamp()) + SKEW, id="newest-accepted"),
        pytest.param(NOW.timestamp() + 0.5, id="float"),
        pytest.param(http_date(NOW), id="http-date"),
    ],
)
def test_jwt_iat_within_the_window(authenticator: Authenticator, iat: object) -> None:
    claims = {**jwt_claims(), "iat": iat}
    assert authenticator.authenticate(bearer(hs256(claims))).merchant_id == MERCHANT


@pytest.mark.parametrize(
    "iat",
    [
        pytest.param(None, id="absent"),
        pytest.param(True, id="boolean"),
        pytest.param("soon", id="words"),
        pytest.param([1], id="list"),
        pytest.param("Tue, 24 Nov 2026 12:00:00 -0000", id="http-date-unknown-zone"),
    ],
)
def test_jwt_malformed_iat(authenticator: Authenticator, iat: object) -> None:
    claims = jwt_claims()
    if iat is None:
        del claims["iat"]
    else:
        claims["iat"] = iat
    expect_failure(authenticator, bearer(hs256(claims)), "malformed_token")


@pytest.mark.parametrize(
    "payload",
    [
        pytest.param(b'"iat": NaN', id="nan"),
        pytest.param(b'"iat": ' + b"9" * 400, id="huge-integer"),
        pytest.param(b'"iat": "Tue, 24 Nov 2026 12:00:00 +99999999999999999999"', id="huge-zone"),
    ],
)
def test_jwt_absurd_iat_is_refused(authenticator: Authenticator, payload: bytes) -> None:
    # A valid signature over an iat that is no usable time must not pass the
    # time window (and must not crash the check).
    claims = jwt_claims()
    del claims["iat"]
    raw = json.dumps(claims).encode()[:-1] + b", " + payload + b"}"
    with pytest.raises(AuthenticationFailed) as caught:
        authenticator.authenticate(bearer(hs256(raw)))
    assert caught.value.reason in ("malformed_token", "stale_date")


def test_jwt_absurd_exp_is_refused_cleanly(authenticator: Authenticator) -> None:
    claims = jwt_claims()
    del claims["exp"]
    raw = json.dumps(claims).encode()[:-1] + b', "exp": -' + b"9" * 400 + b"}"
    with pytest.raises(AuthenticationFailed) as caught:
        authenticator.authenticate(bearer(hs256(raw)))
    assert caught.value.reason in ("malformed_token", "expired_token")


def test_jwt_expired(authenticator: Authenticator) -> None:
    claims = {**jwt_claims(), "exp": int(NOW.timestamp()) - SKEW - 1}
    expect_failure(authenticator, bearer(hs256(claims)), "expired_token")


def test_jwt_expiry_within_the_skew_is_accepted(authenticator: Authenticator) -> None:
    claims = {**jwt_claims(), "exp": int(NOW.timestamp()) - SKEW}
    assert authenticator.authenticate(bearer(hs256(claims))).merchant_id == MERCHANT


@pytest.mark.parametrize(
    "exp",
    [pytest.param("tomorrow", id="string"), pytest.param(True, id="boolean")],
)
def test_jwt_malformed_exp(authenticator: Authenticator, exp: object) -> None:
    claims = {**jwt_claims(), "exp": exp}
    expect_failure(authenticator, bearer(hs256(claims)), "malformed_token")


@pytest.mark.parametrize(
    "method",
    [
        pytest.param("GET", id="other-method"),
        pytest.param(None, id="absent"),
        pytest.param(1, id="not-a-string"),
    ],
)
def test_jwt_method_mismatch(authenticator: Authenticator, method: object) -> None:
    claims = jwt_claims()
    if method is None:
        del claims["request-method"]
    else:
        claims["request-method"] = method
    expect_failure(authenticator, bearer(hs256(claims)), "method_mismatch")


def test_jwt_method_claim_is_case_insensitive(authenticator: Authenticator) -> None:
    claims = {**jwt_claims(), "request-method": "post"}
    assert authenticator.authenticate(bearer(hs256(claims))).merchant_id == MERCHANT


@pytest.mark.parametrize(
    "path",
    [
        pytest.param("/tms/v1/paymentinstruments", id="other-path"),
        pytest.param(PATH + "/", id="trailing-slash"),
        pytest.param(PATH + "?offset=1", id="other-query"),
        pytest.param(None, id="absent"),
    ],
)
def test_jwt_path_mismatch(authenticator: Authenticator, path: str | None) -> None:
    claims = jwt_claims()
    if path is None:
        del claims["request-resource-path"]
    else:
        claims["request-resource-path"] = path
    expect_failure(authenticator, bearer(hs256(claims)), "path_mismatch")


@pytest.mark.parametrize(
    "change",
    [
        pytest.param({"digest": None}, id="no-digest"),
        pytest.param({"digestAlgorithm": "SHA-512"}, id="other-algorithm"),
        pytest.param({"digest": 42}, id="digest-not-a-string"),
    ],
)
def test_jwt_missing_digest(authenticator: Authenticator, change: dict[str, Any]) -> None:
    claims = {**jwt_claims(), **change}
    claims = {key: value for key, value in claims.items() if value is not None}
    expect_failure(authenticator, bearer(hs256(claims)), "missing_digest")


def test_jwt_digest_mismatch(authenticator: Authenticator) -> None:
    request = replace(bearer(hs256(jwt_claims())), body=BODY + b" ")
    expect_failure(authenticator, request, "digest_mismatch")


def test_jwt_body_on_get_is_covered_by_the_digest(authenticator: Authenticator) -> None:
    token = hs256(jwt_claims("GET", PATH, b""))
    expect_failure(authenticator, bearer(token, "GET", PATH, b"smuggled"), "missing_digest")


def test_jwt_digest_algorithm_defaults_to_sha256(authenticator: Authenticator) -> None:
    claims = jwt_claims()
    del claims["digestAlgorithm"]
    assert authenticator.authenticate(bearer(hs256(claims))).merchant_id == MERCHANT


def test_sdk_hs256_capture_on_another_path_or_method(
    authenticator: Authenticator, clock: FixedClock
) -> None:
    clock.moment = captures.HS256_CREATE_II.sent_at
    request = _from_capture(captures.HS256_CREATE_II)
    expect_failure(
        authenticator, replace(request, target="/tms/v1/paymentinstruments"), "path_mismatch"
    )
    expect_failure(authenticator, replace(request, method="PATCH"), "method_mismatch")
    expect_failure(authenticator, replace(request, body=b"{}"), "digest_mismatch")


def test_sdk_hs256_capture_expires(authenticator: Authenticator, clock: FixedClock) -> None:
    clock.moment = captures.HS256_CREATE_II.sent_at + timedelta(seconds=SKEW + 1)
    expect_failure(authenticator, _from_capture(captures.HS256_CREATE_II), "stale_date")


# The Signature header parser, by property --------------------------------------------------------

_PARAM_VALUES = st.text(
    st.characters(min_codepoint=0x20, max_codepoint=0x7E, exclude_characters='"')
)


@settings(max_examples=300, deadline=None, database=None)
@given(
    st.fixed_dictionaries(
        dict.fromkeys(("keyid", "algorithm", "headers", "signature"), _PARAM_VALUES),
        optional={"created": _PARAM_VALUES},
    ),
    st.sampled_from([",", ", ", " , "]),
)
def test_a_well_formed_signature_header_parses_to_its_parameters(
    params: dict[str, str], separator: str
) -> None:
    value = separator.join(f'{name}="{text}"' for name, text in params.items())
    assert _parse_signature(value) == params


@settings(max_examples=500, deadline=None, database=None)
@given(st.text(max_size=200))
def test_any_signature_header_parses_or_is_malformed(value: str) -> None:
    try:
        params = _parse_signature(value)
    except AuthenticationFailed as failure:
        reason = failure.reason
    else:
        assert {"keyid", "algorithm", "headers", "signature"} <= set(params)
        return
    assert reason == "malformed_signature"
