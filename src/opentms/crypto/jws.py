"""Parsing and verifying the JWTs the CyberSource SDKs send (RS256 by
certificate, HS256 by shared secret). Claims are checked by the caller.

A bearer token is parsed once, strictly, into a :class:`CompactJWS`; its
signature is verified over exactly the bytes its header and claims were
decoded from, and nothing else of the token is ever read. Only the compact
serialisation is accepted: three non-empty segments of the base64url
alphabet, each the canonical unpadded encoding of its bytes, the first two
UTF-8 JSON objects without duplicate members. A JOSE library's general
deserialisation (which also accepts the JWS JSON serialisations, several
signatures and unprotected headers) is not used here on purpose: a token
whose claims were read from one parse and whose signature was checked on
another was a way in (issue 9). The verification itself is one call of
``cryptography`` (RSASSA-PKCS1-v1_5 with SHA-256) or of ``hmac``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, NoReturn

from cryptography import x509
from cryptography.exceptions import InvalidSignature as CryptographyInvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey

from opentms.crypto.signing import InvalidSignature

# The signature may be empty only so that ``alg: none`` can be refused by name;
# no algorithm accepted here verifies an empty signature.
_COMPACT = re.compile(r"([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]*)")
#: The smallest RSA key a JWT may be signed with (RFC 7518 §3.3).
MIN_RSA_BITS = 2048


class MalformedToken(Exception):
    """Not a strict compact JWS, or its header or claims are not JSON objects."""


@dataclass(frozen=True)
class CompactJWS:
    """A compact JWS, parsed once: ``header`` and ``claims`` are decoded from
    ``signing_input``, which is what the signature covers."""

    header: Mapping[str, Any]
    claims: Mapping[str, Any]
    signing_input: bytes
    signature: bytes


def b64url_decode(segment: str) -> bytes:
    """Strict base64url (RFC 7515 §2): the alphabet only, no padding, and the
    canonical encoding (unused trailing bits zero), so that a value has
    exactly one spelling."""
    if not segment.isascii() or len(segment) % 4 == 1:
        raise MalformedToken()
    try:
        raw = base64.b64decode(segment + "=" * (-len(segment) % 4), altchars=b"-_", validate=True)
    except (binascii.Error, ValueError) as exc:
        raise MalformedToken() from exc
    if base64.urlsafe_b64encode(raw).rstrip(b"=") != segment.encode():
        raise MalformedToken()
    return raw


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) != len(pairs):
        raise MalformedToken()
    return result


def _no_constants(_name: str) -> NoReturn:
    # NaN and Infinity are not JSON (RFC 8259), though Python's json accepts them.
    raise MalformedToken()


def json_object(raw: bytes) -> dict[str, Any]:
    """A UTF-8 JSON object without duplicate members at any depth."""
    try:
        value = json.loads(
            raw.decode("utf-8"),
            object_pairs_hook=_no_duplicates,
            parse_constant=_no_constants,
        )
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise MalformedToken() from exc
    if not isinstance(value, dict):
        raise MalformedToken()
    return value


def parse_compact(token: str) -> CompactJWS:
    """The one parse of a bearer token. Raises :class:`MalformedToken`."""
    match = _COMPACT.fullmatch(token)
    if match is None:
        raise MalformedToken()
    header_segment, claims_segment, signature_segment = match.groups()
    header = json_object(b64url_decode(header_segment))
    claims = json_object(b64url_decode(claims_segment))
    if "crit" in header or "b64" in header:
        # No extension is understood, so none may be marked critical (RFC 7515
        # §4.1.11); an unencoded payload (RFC 7797) is never what the SDKs send.
        raise MalformedToken()
    return CompactJWS(
        header=header,
        claims=claims,
        signing_input=f"{header_segment}.{claims_segment}".encode("ascii"),
        signature=b64url_decode(signature_segment),
    )


@lru_cache(maxsize=1024)
def _rsa_public_key(certificate_pem: bytes) -> RSAPublicKey:
    public_key = x509.load_pem_x509_certificate(certificate_pem).public_key()
    if not isinstance(public_key, RSAPublicKey) or public_key.key_size < MIN_RSA_BITS:
        raise InvalidSignature()
    return public_key


def verify_rs256(token: CompactJWS, certificate_pem: bytes) -> None:
    """Raise :class:`InvalidSignature` unless ``token`` says RS256 and the
    certificate's RSA key signed it."""
    public_key = _rsa_public_key(certificate_pem)
    if token.header.get("alg") != "RS256" or len(token.signature) != public_key.key_size // 8:
        raise InvalidSignature()
    try:
        public_key.verify(token.signature, token.signing_input, padding.PKCS1v15(), hashes.SHA256())
    except CryptographyInvalidSignature:
        raise InvalidSignature() from None


def verify_hs256(token: CompactJWS, secret: bytes) -> None:
    """Raise :class:`InvalidSignature` unless ``token`` says HS256 and its MAC
    under ``secret`` matches (compared in constant time)."""
    if token.header.get("alg") != "HS256" or not secret:
        raise InvalidSignature()
    expected = hmac.new(secret, token.signing_input, hashlib.sha256).digest()
    if not hmac.compare_digest(expected, token.signature):
        raise InvalidSignature()


def certificate_der_matches(certificate_pem: bytes, der_b64: str) -> bool:
    """True when the base64 DER of an ``x5c`` entry (RFC 7515 §4.1.6: standard
    base64, strictly decoded) is the registered certificate."""
    try:
        presented = x509.load_der_x509_certificate(base64.b64decode(der_b64, validate=True))
    except (binascii.Error, ValueError):
        return False
    return presented == x509.load_pem_x509_certificate(certificate_pem)
