"""Compact JWEs (RSA-OAEP-256 key wrap, A256GCM content): opening the payment
credentials the server encrypts to the merchant's key, and message-level
encryption of requests and responses. jwcrypto is imported on first use."""

from __future__ import annotations

import json
import time
from typing import TYPE_CHECKING, Any

from opentms.client._exceptions import CredentialDecryptionFailed
from opentms.client._keys import PrivateKeyLike, load_private_key

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey, RSAPublicKey

    from opentms.client._models import PaymentCredentials

__all__ = ["decrypt_payment_credentials"]

# What we accept when opening: RSA1_5 (padding oracles) is never allowed.
_OPEN_ALGORITHMS = ["RSA-OAEP-256", "RSA-OAEP", "A256GCM", "A192GCM", "A128GCM"]


class JWEError(Exception):
    """Not a JWE for this key, or tampered with (no detail, by design)."""


# JWKs by key object (keys are not hashable); each entry keeps its key alive,
# so an id is never reused while cached.
_JWKS: dict[int, tuple[object, Any]] = {}


def _jwk(key: RSAPrivateKey | RSAPublicKey) -> Any:
    hit = _JWKS.get(id(key))
    if hit is not None and hit[0] is key:
        return hit[1]
    from jwcrypto.jwk import JWK

    jwk = JWK.from_pyca(key)
    if len(_JWKS) >= 64:
        _JWKS.clear()
    _JWKS[id(key)] = (key, jwk)
    return jwk


def encrypt_compact(public_key: RSAPublicKey, kid: str | None, plaintext: bytes) -> str:
    """``plaintext`` encrypted to ``public_key`` (header ``alg``, ``enc``,
    ``kid``, ``iat``), as request message-level encryption sends it."""
    from jwcrypto.jwe import JWE

    protected: dict[str, Any] = {"alg": "RSA-OAEP-256", "enc": "A256GCM"}
    if kid:
        protected["kid"] = kid
    protected["iat"] = int(time.time())
    token = JWE(plaintext, recipient=_jwk(public_key), protected=json.dumps(protected))
    return str(token.serialize(compact=True))


def decrypt_compact(private_key: RSAPrivateKey, token: str) -> bytes:
    """Open a compact JWE encrypted to ``private_key``'s public key."""
    from jwcrypto.common import JWException
    from jwcrypto.jwe import JWE

    try:
        jwe = JWE(algs=_OPEN_ALGORITHMS)
        jwe.deserialize(token.strip(), key=_jwk(private_key))
        return bytes(jwe.payload)
    except (JWException, ValueError, TypeError, KeyError) as exc:
        raise JWEError() from exc


def decrypt_payment_credentials(jwe: str, private_key: PrivateKeyLike) -> PaymentCredentials:
    """Open the JWE that ``post_token_payment_credentials`` returns.

    ```python
    jwe = TokenApi(client).post_token_payment_credentials(customer_id, {})
    credentials = decrypt_payment_credentials(jwe, "acme-credentials-private.pem")
    print(credentials.tokenized_card.eci)
    ```

    **Parameters:**

    * **jwe** - the compact JWE (five dot-separated base64url parts).
    * **private_key** - the merchant's payment-credentials private key: a path,
      PEM text or bytes, or an ``RSAPrivateKey``.

    Raises :class:`CredentialDecryptionFailed` when the JWE does not open with
    the key or does not hold credentials.
    """
    from pydantic import ValidationError

    from opentms.client._models import PaymentCredentials

    key = load_private_key(private_key)
    try:
        plaintext = decrypt_compact(key, jwe)
        return PaymentCredentials.model_validate_json(plaintext)
    except (JWEError, ValidationError):
        raise CredentialDecryptionFailed(
            "The payment credentials do not open with this private key."
        ) from None
