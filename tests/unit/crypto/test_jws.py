from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from opentms.crypto import jws
from opentms.crypto.signing import InvalidSignature
from tests.unit import captures
from tests.unit.jose import b64url, certificate_pem, oct_jwk, rsa_jwk, rsa_key, sign, unsigned

CLAIMS = {"iat": 1795475851, "v-c-merchant-id": "tms_test_merchant", "request-method": "GET"}
SECRET = bytes(range(32))


@pytest.fixture(scope="module")
def key() -> rsa.RSAPrivateKey:
    return rsa_key()


@pytest.fixture(scope="module")
def certificate(key: rsa.RSAPrivateKey) -> bytes:
    return certificate_pem(key, "tms_test_merchant", "1179494495299941096449")


@pytest.fixture(scope="module")
def rs256_token(key: rsa.RSAPrivateKey) -> str:
    return sign(rsa_jwk(key), "RS256", {"kid": "1179494495299941096449", "typ": "JWT"}, CLAIMS)


@pytest.fixture(scope="module")
def hs256_token() -> str:
    return sign(oct_jwk(SECRET), "HS256", {"kid": "key-1", "typ": "JWT"}, CLAIMS)


def test_verify_rs256_accepts_a_token_signed_by_the_certificate_key(
    rs256_token: str, certificate: bytes
) -> None:
    jws.verify_rs256(rs256_token, certificate)


def test_verify_hs256_accepts_a_token_signed_with_the_secret(hs256_token: str) -> None:
    jws.verify_hs256(hs256_token, SECRET)


@pytest.mark.parametrize(
    "token",
    [
        pytest.param(captures.HS256_CREATE_II_TOKEN, id="create-ii"),
        pytest.param(captures.HS256_RETRIEVE_II_TOKEN, id="retrieve-ii"),
    ],
)
def test_verify_hs256_accepts_the_sdk_captures(token: str) -> None:
    jws.verify_hs256(token, captures.SHARED_SECRET)
    with pytest.raises(InvalidSignature):
        jws.verify_hs256(token, captures.SHARED_SECRET_B64.encode())


def _replace(token: str, index: int, segment: str) -> str:
    parts = token.split(".")
    parts[index] = segment
    return ".".join(parts)


def _flip_first_char(segment: str) -> str:
    # The first character carries six bits of the value; the last one may
    # carry only padding bits.
    return ("A" if segment[0] != "A" else "B") + segment[1:]


@pytest.mark.parametrize(
    "tamper",
    [
        pytest.param(
            lambda t: _replace(t, 1, b64url(json.dumps({**CLAIMS, "iat": 1}).encode())),
            id="claims-changed",
        ),
        pytest.param(
            lambda t: _replace(
                t, 0, b64url(json.dumps({"alg": "RS256", "kid": "other", "typ": "JWT"}).encode())
            ),
            id="header-changed",
        ),
        pytest.param(lambda t: _replace(t, 2, _flip_first_char(t.split(".")[2])), id="sig-flip"),
        pytest.param(lambda t: _replace(t, 2, ""), id="signature-removed"),
        pytest.param(lambda t: t + ".x", id="extra-segment"),
        pytest.param(lambda t: t.split(".", 1)[1], id="header-removed"),
    ],
)
def test_verify_rs256_rejects_tampered_tokens(
    rs256_token: str, certificate: bytes, tamper: Any
) -> None:
    with pytest.raises(InvalidSignature):
        jws.verify_rs256(tamper(rs256_token), certificate)


def test_verify_hs256_rejects_tampered_claims(hs256_token: str) -> None:
    tampered = _replace(hs256_token, 1, b64url(json.dumps({**CLAIMS, "iat": 1}).encode()))
    with pytest.raises(InvalidSignature):
        jws.verify_hs256(tampered, SECRET)


def test_verify_hs256_rejects_another_secret(hs256_token: str) -> None:
    with pytest.raises(InvalidSignature):
        jws.verify_hs256(hs256_token, SECRET[::-1])


def test_verify_rs256_rejects_another_key(certificate: bytes) -> None:
    token = sign(rsa_jwk(rsa_key()), "RS256", {"kid": "1179494495299941096449"}, CLAIMS)
    with pytest.raises(InvalidSignature):
        jws.verify_rs256(token, certificate)


def test_verify_rs256_rejects_hs256_keyed_with_the_certificate(
    key: rsa.RSAPrivateKey, certificate: bytes
) -> None:
    # The classic algorithm confusion: the public key (or certificate) used
    # as an HMAC secret must not verify.
    public_pem = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    for secret in (certificate, public_pem):
        token = sign(oct_jwk(secret), "HS256", {"kid": "1179494495299941096449"}, CLAIMS)
        with pytest.raises(InvalidSignature):
            jws.verify_rs256(token, certificate)


def test_verify_rs256_rejects_other_rsa_algorithms(
    key: rsa.RSAPrivateKey, certificate: bytes
) -> None:
    for alg in ("PS256", "RS512"):
        token = sign(rsa_jwk(key), alg, {"kid": "1179494495299941096449"}, CLAIMS)
        with pytest.raises(InvalidSignature):
            jws.verify_rs256(token, certificate)


def test_verify_hs256_rejects_an_rs256_token(rs256_token: str) -> None:
    with pytest.raises(InvalidSignature):
        jws.verify_hs256(rs256_token, SECRET)


def test_verify_hs256_rejects_other_hmac_algorithms() -> None:
    secret = bytes(range(64))
    token = sign(oct_jwk(secret), "HS512", {"kid": "key-1"}, CLAIMS)
    with pytest.raises(InvalidSignature):
        jws.verify_hs256(token, secret)


def test_alg_none_is_rejected(certificate: bytes) -> None:
    token = unsigned({"alg": "none", "typ": "JWT"}, CLAIMS)
    with pytest.raises(InvalidSignature):
        jws.verify_rs256(token, certificate)
    with pytest.raises(InvalidSignature):
        jws.verify_hs256(token, SECRET)


def test_verify_rs256_rejects_a_non_rsa_certificate(rs256_token: str) -> None:
    certificate = certificate_pem(ec.generate_private_key(ec.SECP256R1()), "tms_test_merchant")
    with pytest.raises(InvalidSignature):
        jws.verify_rs256(rs256_token, certificate)


def test_unverified_parts_returns_header_and_claims(rs256_token: str) -> None:
    header, claims = jws.unverified_parts(rs256_token)
    assert header == {"alg": "RS256", "kid": "1179494495299941096449", "typ": "JWT"}
    assert claims == CLAIMS


def test_unverified_parts_of_an_sdk_capture() -> None:
    header, claims = jws.unverified_parts(captures.HS256_CREATE_II_TOKEN)
    assert header == {"alg": "HS256", "kid": captures.KEY_ID, "typ": "JWT"}
    assert claims["digest"] == captures.CREATE_II_DIGEST
    assert claims["iat"] == 1795475852
    assert claims["request-resource-path"] == "/tms/v1/instrumentidentifiers"


def _seg(raw: bytes) -> str:
    return b64url(raw)


OBJECT = _seg(b'{"alg":"HS256"}')
STRING = _seg(b'"text"')
NOT_UTF8 = _seg(b'{"a": "\xff"}')
NESTED_OBJECTS = _seg(b'{"a":' * 5000)


@pytest.mark.parametrize(
    "token",
    [
        pytest.param("", id="empty"),
        pytest.param("garbage", id="one-part"),
        pytest.param(f"{OBJECT}.{OBJECT}", id="two-parts"),
        pytest.param(f"{OBJECT}.{OBJECT}.x.y", id="four-parts"),
        pytest.param(f".{OBJECT}.x", id="empty-header"),
        pytest.param(f"{OBJECT}..x", id="empty-claims"),
        pytest.param("!!!.$$$.x", id="not-base64"),
        pytest.param(f"{_seg(b'not json')}.{OBJECT}.x", id="header-not-json"),
        pytest.param(f"{OBJECT}.{_seg(b'not json')}.x", id="claims-not-json"),
        pytest.param(f"{_seg(b'[1, 2]')}.{OBJECT}.x", id="header-is-a-list"),
        pytest.param(f"{OBJECT}.{_seg(b'42')}.x", id="claims-are-a-number"),
        pytest.param(f"{OBJECT}.{STRING}.x", id="claims-are-a-string"),
        pytest.param(f"{NOT_UTF8}.{OBJECT}.x", id="header-not-utf8"),
        pytest.param("\u00e9\u00e9.\u00e9\u00e9.x", id="non-ascii"),
        pytest.param(f"{OBJECT}.{_seg(b'[' * 5000)}.x", id="deeply-nested-claims"),
        pytest.param(f"{NESTED_OBJECTS}.{OBJECT}.x", id="deeply-nested-header"),
    ],
)
def test_unverified_parts_of_garbage_is_malformed(token: str) -> None:
    with pytest.raises(jws.MalformedToken):
        jws.unverified_parts(token)


def test_certificate_der_matches(certificate: bytes) -> None:
    der = x509.load_pem_x509_certificate(certificate).public_bytes(serialization.Encoding.DER)
    assert jws.certificate_der_matches(certificate, base64.b64encode(der).decode())
    other = certificate_pem(rsa_key(), "tms_test_merchant", "1179494495299941096449")
    other_der = x509.load_pem_x509_certificate(other).public_bytes(serialization.Encoding.DER)
    assert not jws.certificate_der_matches(certificate, base64.b64encode(other_der).decode())
    assert not jws.certificate_der_matches(certificate, "not a certificate")
    assert not jws.certificate_der_matches(certificate, base64.b64encode(b"junk").decode())
