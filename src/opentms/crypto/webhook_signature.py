"""The ``v-c-signature`` header of a webhook notification (docs/webhooks.md,
"Signature"): ``t=<ms>;keyId=<id>;sig=<base64 HMAC-SHA256>``, keyed with the
base64-decoded shared secret of ``/kms/egress/v2/keys-sym``.

What is signed is ``t``, a period, then either the compact JSON of the
notification's ``payload`` member (``payload``, the default, as CyberSource's
own plugins verify it) or the whole body as sent (``body``)."""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping
from typing import Any, Literal

import orjson

SignatureInput = Literal["payload", "body"]


def serialise(notification: Mapping[str, Any]) -> bytes:
    """A notification's body as sent: compact JSON (no spaces), members in
    order, so that ``payload``'s bytes are what JSON.stringify would give."""
    return orjson.dumps(notification)


def signed_bytes(
    timestamp_ms: int, body: bytes, notification: Mapping[str, Any], signed: SignatureInput
) -> bytes:
    """The bytes the HMAC covers. A test notification has ``payloads``
    where a real one has ``payload``; that member is signed then."""
    if signed == "payload":
        member = "payload" if "payload" in notification else "payloads"
        content = orjson.dumps(notification[member])
    else:
        content = body
    return str(timestamp_ms).encode() + b"." + content


def signature_header(key_id: str, key: bytes, timestamp_ms: int, message: bytes) -> str:
    digest = hmac.new(key, message, hashlib.sha256).digest()
    return f"t={timestamp_ms};keyId={key_id};sig={base64.b64encode(digest).decode()}"
