"""Verifying the JWTs the CyberSource SDKs send (RS256 by certificate, HS256 by
shared secret). Claims are checked by the caller; this module only parses and
verifies the signature."""

from __future__ import annotations

import base64
import json
from functools import lru_cache
from typing import Any, cast

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey
from jwcrypto.common import JWException
from jwcrypto.jwk import JWK
from jwcrypto.jws import JWS

from opentms.crypto.signing import InvalidSignature


class MalformedToken(Exception):
    """Not a compact JWS, or its header or payload is not a JSON object."""


def _b64url_json(segment: str) -> dict[str, Any]:
    try:
        raw = base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
        value = json.loads(raw)
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise MalformedToken() from exc
    if not isinstance(value, dict):
        raise MalformedToken()
    return cast(dict[str, Any], value)


def unverified_parts(token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The protected header and the claims, before any verification."""
    parts = token.split(".")
    if len(parts) != 3 or not all(parts[:2]):
        raise MalformedToken()
    return _b64url_json(parts[0]), _b64url_json(parts[1])


@lru_cache(maxsize=1024)
def _rsa_jwk(certificate_pem: bytes) -> JWK:
    public_key = x509.load_pem_x509_certificate(certificate_pem).public_key()
    if not isinstance(public_key, RSAPublicKey):
        raise InvalidSignature()
    return JWK.from_pyca(public_key)


@lru_cache(maxsize=1024)
def _oct_jwk(secret: bytes) -> JWK:
    return JWK(kty="oct", k=base64.urlsafe_b64encode(secret).rstrip(b"=").decode())


def _verify(token: str, key: JWK, alg: str) -> None:
    try:
        jws = JWS()
        jws.deserialize(token)
        jws.verify(key, alg=alg)
    except (JWException, ValueError, TypeError) as exc:
        raise InvalidSignature() from exc


def verify_rs256(token: str, certificate_pem: bytes) -> None:
    """Raise :class:`InvalidSignature` unless the certificate's key signed ``token``."""
    _verify(token, _rsa_jwk(certificate_pem), "RS256")


def verify_hs256(token: str, secret: bytes) -> None:
    _verify(token, _oct_jwk(secret), "HS256")


def certificate_der_matches(certificate_pem: bytes, der_b64: str) -> bool:
    """True when the base64 DER of an ``x5c`` entry is the registered certificate."""
    try:
        presented = x509.load_der_x509_certificate(base64.b64decode(der_b64))
    except ValueError:
        return False
    return presented == x509.load_pem_x509_certificate(certificate_pem)
