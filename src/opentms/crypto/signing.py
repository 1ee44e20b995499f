"""HTTP Signature (HmacSHA256) and body digests, as CyberSource defines them.

The signing string is built by the caller; this module only does the MAC and
the digest, and compares in constant time.
"""

from __future__ import annotations

import base64
import hashlib
import hmac


class InvalidSignature(Exception):
    """The MAC or digest did not match (no detail, by design)."""


def body_digest(body: bytes) -> str:
    """Standard base64 of SHA-256 over the raw body (no ``SHA-256=`` prefix)."""
    return base64.b64encode(hashlib.sha256(body).digest()).decode()


def hmac_signature(secret: bytes, signing_string: str) -> str:
    """``base64(HMAC-SHA256(secret, signing_string))``."""
    mac = hmac.new(secret, signing_string.encode(), hashlib.sha256).digest()
    return base64.b64encode(mac).decode()


def verify_hmac_signature(secret: bytes, signing_string: str, signature: str) -> None:
    expected = hmac_signature(secret, signing_string)
    if not hmac.compare_digest(expected.encode(), signature.encode()):
        raise InvalidSignature()


def verify_digest(body: bytes, claimed: str) -> None:
    """Raise unless ``claimed`` is the base64 SHA-256 of ``body``."""
    if not hmac.compare_digest(body_digest(body).encode(), claimed.encode()):
        raise InvalidSignature()
