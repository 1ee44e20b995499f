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
#: What refusing a token may raise: it does not parse, or does not verify.
REFUSED = (jws.MalformedToken, InvalidSignature)


def verify_rs256(token: str, certificate: bytes) -> None:
    jws.verify_rs256(jws.parse_compact(token), certificate)


def verify_hs256(token: str, secret: bytes) -> None:
    jws.verify_hs256(jws.parse_compact(token), secret)


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
    verify_rs256(rs256_token, certificate)


def test_verify_hs256_accepts_a_token_signed_with_the_secret(hs256_token: str) -> None:
    verify_hs256(hs256_token, SECRET)


@pytest.mark.parametrize(
    "token",
    [
        pytest.param(captures.HS256_CREATE_II_TOKEN, id="create-ii"),
        pytest.param(captures.HS256_RETRIEVE_II_TOKEN, id="retrieve-ii"),
    ],
)
def test_verify_hs256_accepts_the_sdk_captures(token: str) -> None:
    verify_hs256(token, captures.SHARED_SECRET)
    with pytest.raises(REFUSED):
        verify_hs256(token, captures.SHARED_SECRET_B64.encode())


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
    with pytest.raises(REFUSED):
        verify_rs256(tamper(rs256_token), certificate)


def test_verify_hs256_rejects_tampered_claims(hs256_token: str) -> None:
    tampered = _replace(hs256_token, 1, b64url(json.dumps({**CLAIMS, "iat": 1}).encode()))
    with pytest.raises(REFUSED):
        verify_hs256(tampered, SECRET)


def test_verify_hs256_rejects_another_secret(hs256_token: str) -> None:
    with pytest.raises(REFUSED):
        verify_hs256(hs256_token, SECRET[::-1])


def test_verify_rs256_rejects_another_key(certificate: bytes) -> None:
    token = sign(rsa_jwk(rsa_key()), "RS256", {"kid": "1179494495299941096449"}, CLAIMS)
    with pytest.raises(REFUSED):
        verify_rs256(token, certificate)


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
        with pytest.raises(REFUSED):
            verify_rs256(token, certificate)


def test_verify_rs256_rejects_other_rsa_algorithms(
    key: rsa.RSAPrivateKey, certificate: bytes
) -> None:
    for alg in ("PS256", "RS512"):
        token = sign(rsa_jwk(key), alg, {"kid": "1179494495299941096449"}, CLAIMS)
        with pytest.raises(REFUSED):
            verify_rs256(token, certificate)


def test_verify_hs256_rejects_an_rs256_token(rs256_token: str) -> None:
    with pytest.raises(REFUSED):
        verify_hs256(rs256_token, SECRET)


def test_verify_hs256_rejects_other_hmac_algorithms() -> None:
    secret = bytes(range(64))
    token = sign(oct_jwk(secret), "HS512", {"kid": "key-1"}, CLAIMS)
    with pytest.raises(REFUSED):
        verify_hs256(token, secret)


def test_alg_none_is_rejected(certificate: bytes) -> None:
    token = unsigned({"alg": "none", "typ": "JWT"}, CLAIMS)
    with pytest.raises(REFUSED):
        verify_rs256(token, certificate)
    with pytest.raises(REFUSED):
        verify_hs256(token, SECRET)


def test_verify_rs256_rejects_a_non_rsa_certificate(rs256_token: str) -> None:
    certificate = certificate_pem(ec.generate_private_key(ec.SECP256R1()), "tms_test_merchant")
    with pytest.raises(REFUSED):
        verify_rs256(rs256_token, certificate)


def test_parse_compact_returns_header_claims_and_what_was_signed(rs256_token: str) -> None:
    token = jws.parse_compact(rs256_token)
    assert token.header == {"alg": "RS256", "kid": "1179494495299941096449", "typ": "JWT"}
    assert token.claims == CLAIMS
    assert token.signing_input == rs256_token.rsplit(".", 1)[0].encode()
    assert len(token.signature) == 256


def test_parse_compact_of_an_sdk_capture() -> None:
    token = jws.parse_compact(captures.HS256_CREATE_II_TOKEN)
    header, claims = token.header, token.claims
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
SIG = _seg(b"sig")  # a well-formed signature segment: the cases fail elsewhere
DUP_HEADER = _seg(b'{"alg":"HS256","alg":"none"}')
DUP_CLAIMS = _seg(b'{"a":1,"a":2}')
DUP_NESTED = _seg(b'{"a":{"b":1,"b":2}}')
NAN_CLAIM = _seg(b'{"iat":NaN}')
CRIT = _seg(b'{"alg":"HS256","crit":["x"]}')
B64 = _seg(b'{"alg":"HS256","b64":false}')
UTF16 = _seg('{"alg":"HS256"}'.encode("utf-16"))


@pytest.mark.parametrize(
    "token",
    [
        pytest.param("", id="empty"),
        pytest.param("garbage", id="one-part"),
        pytest.param(f"{OBJECT}.{OBJECT}", id="two-parts"),
        pytest.param(f"{OBJECT}.{OBJECT}.x.y", id="four-parts"),
        pytest.param(f".{OBJECT}.{SIG}", id="empty-header"),
        pytest.param(f"{OBJECT}..{SIG}", id="empty-claims"),
        pytest.param("!!!.$$$.{SIG}", id="not-base64"),
        pytest.param(f"{_seg(b'not json')}.{OBJECT}.{SIG}", id="header-not-json"),
        pytest.param(f"{OBJECT}.{_seg(b'not json')}.{SIG}", id="claims-not-json"),
        pytest.param(f"{_seg(b'[1, 2]')}.{OBJECT}.{SIG}", id="header-is-a-list"),
        pytest.param(f"{OBJECT}.{_seg(b'42')}.{SIG}", id="claims-are-a-number"),
        pytest.param(f"{OBJECT}.{STRING}.{SIG}", id="claims-are-a-string"),
        pytest.param(f"{NOT_UTF8}.{OBJECT}.{SIG}", id="header-not-utf8"),
        pytest.param("\u00e9\u00e9.\u00e9\u00e9.{SIG}", id="non-ascii"),
        pytest.param(f"{OBJECT}.{_seg(b'[' * 5000)}.{SIG}", id="deeply-nested-claims"),
        pytest.param(f"{NESTED_OBJECTS}.{OBJECT}.{SIG}", id="deeply-nested-header"),
        pytest.param(f"{OBJECT}==.{OBJECT}.{SIG}", id="padded-header"),
        pytest.param(f"{OBJECT}.{OBJECT}.{SIG}=", id="padded-signature"),
        pytest.param(f"{OBJECT}.{OBJECT}.c2l", id="non-canonical-signature"),
        pytest.param(f"{OBJECT[:-1]}+.{OBJECT}.{SIG}", id="standard-alphabet"),
        pytest.param(f" {OBJECT}.{OBJECT}.{SIG}", id="leading-space"),
        pytest.param(f"{OBJECT}.{OBJECT}.{SIG}\n", id="trailing-newline"),
        pytest.param(f"{OBJECT}.{OBJECT} .{SIG}", id="inner-space"),
        pytest.param(f"{DUP_HEADER}.{OBJECT}.{SIG}", id="dup-header"),
        pytest.param(f"{OBJECT}.{DUP_CLAIMS}.{SIG}", id="dup-claims"),
        pytest.param(f"{OBJECT}.{DUP_NESTED}.{SIG}", id="dup-nested"),
        pytest.param(f"{OBJECT}.{NAN_CLAIM}.{SIG}", id="nan-claim"),
        pytest.param(f"{CRIT}.{OBJECT}.{SIG}", id="crit"),
        pytest.param(f"{B64}.{OBJECT}.{SIG}", id="b64"),
        pytest.param(f"{UTF16}.{OBJECT}.{SIG}", id="utf16-header"),
        pytest.param(
            json.dumps({"protected": OBJECT, "payload": OBJECT, "signature": SIG}),
            id="flattened-json-serialisation",
        ),
    ],
)
def test_parse_compact_of_garbage_is_malformed(token: str) -> None:
    with pytest.raises(jws.MalformedToken):
        jws.parse_compact(token)


def test_certificate_der_matches(certificate: bytes) -> None:
    der = x509.load_pem_x509_certificate(certificate).public_bytes(serialization.Encoding.DER)
    assert jws.certificate_der_matches(certificate, base64.b64encode(der).decode())
    other = certificate_pem(rsa_key(), "tms_test_merchant", "1179494495299941096449")
    other_der = x509.load_pem_x509_certificate(other).public_bytes(serialization.Encoding.DER)
    assert not jws.certificate_der_matches(certificate, base64.b64encode(other_der).decode())
    assert not jws.certificate_der_matches(certificate, "not a certificate")
    assert not jws.certificate_der_matches(certificate, base64.b64encode(b"junk").decode())


def test_an_empty_signature_parses_but_never_verifies(
    rs256_token: str, hs256_token: str, certificate: bytes
) -> None:
    """An empty signature is let through the parse only so that ``alg: none``
    is refused by name; neither algorithm accepts it."""
    for token, verify, key in (
        (rs256_token, jws.verify_rs256, certificate),
        (hs256_token, jws.verify_hs256, SECRET),
    ):
        parsed = jws.parse_compact(token.rsplit(".", 1)[0] + ".")
        assert parsed.signature == b""
        with pytest.raises(InvalidSignature):
            verify(parsed, key)


def test_verify_rs256_refuses_a_key_under_2048_bits() -> None:
    """RFC 7518 §3.3: an RS256 key of fewer than 2048 bits is refused even
    when it did sign the token."""
    small = rsa.generate_private_key(public_exponent=65537, key_size=1024)  # noqa: S505
    certificate = certificate_pem(small, "tms_test_merchant", "1")
    token = sign(rsa_jwk(small), "RS256", {"kid": "1"}, CLAIMS)
    with pytest.raises(InvalidSignature):
        verify_rs256(token, certificate)
