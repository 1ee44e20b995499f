"""Keyed fingerprints: HMAC-SHA256 of a card number under a merchant's key.

The same card gives the same fingerprint for one merchant (deduplication via a
unique index) and an unrelated one for any other merchant or without the key.
"""

from __future__ import annotations

import hashlib
import hmac

from opentms.crypto.keys import FingerprintKey


def fingerprint(key: FingerprintKey, kind: str, value: str) -> bytes:
    """The 32-byte fingerprint of ``value`` (e.g. a PAN) of a ``kind`` ("card")."""
    message = kind.encode() + b"\x00" + value.encode()
    return hmac.new(key.reveal(), message, hashlib.sha256).digest()
