"""Compact JWEs (RSA-OAEP-256 key wrap, A256GCM content): payment credentials
for the merchant, and message-level encryption of requests and responses."""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey
from jwcrypto.common import JWException
from jwcrypto.jwe import JWE
from jwcrypto.jwk import JWK

# What we accept when opening: RSA1_5 (padding oracles) is never allowed.
_OPEN_ALGORITHMS = ["RSA-OAEP-256", "RSA-OAEP", "A256GCM", "A128GCM"]


class JWEDecryptionFailed(Exception):
    """Not a JWE for our key, or tampered with (no detail, by design)."""


@lru_cache(maxsize=1024)
def _public_jwk(public_key_pem: bytes) -> JWK:
    return JWK.from_pem(public_key_pem)


def encrypt_compact(
    public_key_pem: bytes, kid: str, plaintext: bytes, header: dict[str, Any] | None = None
) -> str:
    """Encrypt ``plaintext`` to the RSA key in ``public_key_pem`` (a public key
    or a certificate), protected header ``alg``/``enc``/``kid`` plus ``header``.

    >>> encrypt_compact(pem, "kid-1", b'{"a": 1}', {"cty": "json", "typ": "JWT"})
    'eyJhbGciOiJSU0EtT0FFUC0yNTYi...'
    """
    protected = {"alg": "RSA-OAEP-256", "enc": "A256GCM", "kid": kid, **(header or {})}
    token = JWE(plaintext, recipient=_public_jwk(public_key_pem), protected=json.dumps(protected))
    return str(token.serialize(compact=True))


@lru_cache(maxsize=16)
def _private_jwk(private_key: RSAPrivateKey) -> JWK:
    return JWK.from_pyca(private_key)


def decrypt_compact(private_key: RSAPrivateKey, token: str) -> bytes:
    """Open a compact JWE encrypted to ``private_key``'s public key."""
    try:
        jwe = JWE(algs=_OPEN_ALGORITHMS)
        jwe.deserialize(token, key=_private_jwk(private_key))
        return bytes(jwe.payload)
    except (JWException, ValueError, TypeError, KeyError) as exc:
        raise JWEDecryptionFailed() from exc
