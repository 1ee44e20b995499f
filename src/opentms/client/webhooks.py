"""Verify the TMS webhook notifications opentms (or CyberSource) sends to a
merchant's receiver (docs/webhooks.md, "Verifying a notification").

```python
from opentms.client.webhooks import WebhookVerificationError, verify

try:
    notification = verify(request.headers, body, key)  # key: from /kms/egress/v2/keys-sym
except WebhookVerificationError as error:
    return 401, error.reason
event_id = notification["payload"]["data"]["id"]  # the same on every duplicate: de-duplicate on it
```

``v-c-signature`` is ``t=<ms>;keyId=<id>;sig=<base64 HMAC-SHA256>``, keyed with
the base64-decoded key. The HMAC covers ``t``, a period, then either the
compact JSON of the body's ``payload`` member (``payloads`` in a test
notification) or the whole body as sent: the server's
``OPENTMS_WEBHOOK_SIGNATURE_INPUT`` chooses, and both verify here. Only the
standard library is used.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
import time
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any, Literal

from opentms.client._exceptions import WebhookVerificationError

__all__ = ["DEFAULT_TOLERANCE_SECONDS", "SIGNATURE_HEADER", "WebhookVerificationError", "verify"]

SIGNATURE_HEADER = "v-c-signature"
DEFAULT_TOLERANCE_SECONDS = 300

Key = str | bytes
"""A key as ``/kms/egress/v2/keys-sym`` gives it (base64 text), or its raw bytes."""

_FORMAT = "t=<milliseconds>;keyId=<key id>;sig=<base64 HMAC-SHA256>"
_PARTS = ("t", "keyId", "sig")
_TIMESTAMP = re.compile(r"[0-9]{1,16}")
# Printable ASCII but ";" and "=": a UUID as CyberSource and opentms make them, or other ids.
_KEY_ID = re.compile(r"[!-:<>-~]{1,200}")
_SIGNATURE = re.compile(r"[A-Za-z0-9+/]{43}=")
_BLANKS = frozenset(" \t\n\r")


def verify(
    headers: Mapping[str, Any] | Iterable[tuple[Any, Any]],
    body: bytes | bytearray | memoryview | str,
    key: Key | Mapping[str, Key],
    *,
    tolerance: float | None = DEFAULT_TOLERANCE_SECONDS,
    now: float | datetime | None = None,
    signature_input: Literal["payload", "body"] | None = None,
) -> dict[str, Any]:
    """Check a notification's ``v-c-signature`` and answer its JSON body.

    **Parameters:**

    * ``headers`` - the request's headers: any mapping (a framework's headers,
      ``http.server``'s ``self.headers``, a dict) or ``(name, value)`` pairs;
      the name is matched in any case.
    * ``body`` - the request body exactly as received (bytes, or text).
    * ``key`` - the ``keyInformation.key`` of ``/kms/egress/v2/keys-sym``
      (base64 text) or its raw bytes; or a mapping ``keyId -> key`` while two
      keys overlap (a new key signs only after the overlap: keep both meanwhile).
    * ``tolerance`` - how many seconds ``t`` may be from ``now``, either way
      (default 300); ``None`` checks no time (for a stored notification).
    * ``now`` - the time to compare ``t`` with: a Unix time in seconds or an
      aware ``datetime`` (default: this machine's clock).
    * ``signature_input`` - ``"payload"`` or ``"body"`` to accept only that
      variant; by default either verifies.

    Raises :class:`~opentms.client.WebhookVerificationError` (``reason`` says
    which check failed), and nothing else for any headers or body. A ``key``
    that is not base64 raises ``ValueError``: that is the caller's mistake.

    With the ``payload`` variant only ``payload`` is signed: the other members
    (``eventType``, ``webhookId``, ``retryNumber`` ...) are not covered; act on
    ``payload`` (``payload.data.id`` is the event id, ``payload.data._links``
    the tokens), or have the server sign the whole body.
    """
    if signature_input not in (None, "payload", "body"):
        raise ValueError(f"signature_input is 'payload', 'body' or None, not {signature_input!r}")
    timestamp, key_id, signature = _parse_header(_signature_header(headers))
    secret = _key_for(key, key_id)
    if tolerance is not None:
        _check_time(int(timestamp), tolerance, now)
    raw = body.encode("utf-8") if isinstance(body, str) else bytes(body)
    notification, member_text = _parse_body(raw)
    prefix = timestamp.encode("ascii") + b"."
    candidates: list[bytes] = []
    if signature_input in (None, "body") and _is_notification(notification):
        candidates.append(raw)
    if signature_input in (None, "payload"):
        member = "payload" if "payload" in notification else "payloads"
        if member in notification and not _is_notification(notification[member]):
            candidates.append(member_text[member].encode("utf-8"))
            compact = _compact(notification[member])
            if compact is not None:
                candidates.append(compact)
    if not candidates:
        raise WebhookVerificationError(
            "malformed_body",
            "the body is not a webhook notification (it needs eventType and payload"
            + (")" if signature_input != "body" else "; signed whole)"),
        )
    matched = False
    for content in candidates:
        digest = hmac.new(secret, prefix + content, hashlib.sha256).digest()
        matched |= hmac.compare_digest(digest, signature)
    if not matched:
        raise WebhookVerificationError(
            "bad_signature",
            f"the v-c-signature of keyId {key_id} does not match the body"
            + (f" (signed {signature_input})" if signature_input else ""),
        )
    return notification


def _signature_header(headers: Mapping[str, Any] | Iterable[tuple[Any, Any]]) -> str:
    items = getattr(headers, "items", None)
    pairs: Iterable[tuple[Any, Any]] = items() if callable(items) else headers  # type: ignore[assignment]
    found = [value for name, value in pairs if _text(name).lower() == SIGNATURE_HEADER]
    if not found:
        raise WebhookVerificationError(
            "missing_signature", "the request has no v-c-signature header"
        )
    if len(found) > 1:
        raise WebhookVerificationError(
            "malformed_signature", f"the request has {len(found)} v-c-signature headers, not one"
        )
    return _text(found[0]).strip(" \t")


def _text(value: Any) -> str:
    if isinstance(value, bytes | bytearray):
        return bytes(value).decode("latin-1")
    return str(value)


def _malformed(why: str) -> WebhookVerificationError:
    return WebhookVerificationError(
        "malformed_signature", f"malformed v-c-signature ({why}); expected {_FORMAT}"
    )


def _parse_header(value: str) -> tuple[str, str, bytes]:
    """``t``, ``keyId`` and the 32 signature bytes of a ``v-c-signature``:
    exactly three parts, in this order, each once."""
    parts = value.split(";")
    if len(parts) != len(_PARTS):
        raise _malformed(f"{len(parts)} parts separated by ';', not 3")
    named = [part.partition("=") for part in parts]
    names = tuple(name for name, _, _ in named)
    if names != _PARTS:
        shown = ", ".join(repr(name[:20]) for name in names)
        raise _malformed(f"parts named {shown}, not 't', 'keyId', 'sig' in that order")
    timestamp, key_id, sig = (text for _, _, text in named)
    if not _TIMESTAMP.fullmatch(timestamp):
        raise _malformed("t is not a timestamp in milliseconds")
    if not _KEY_ID.fullmatch(key_id):
        raise _malformed("keyId is empty or has spaces or other characters")
    if not _SIGNATURE.fullmatch(sig):
        raise _malformed("sig is not the base64 of 32 bytes")
    signature = base64.b64decode(sig)
    if base64.b64encode(signature).decode("ascii") != sig:  # unused bits set
        raise _malformed("sig is not canonical base64")
    return timestamp, key_id, signature


def _secret(key: Key) -> bytes:
    if isinstance(key, bytes | bytearray | memoryview):
        secret = bytes(key)
    elif isinstance(key, str):
        try:
            secret = base64.b64decode(key.strip(), validate=True)
        except binascii.Error:
            raise ValueError(
                "key is not base64: pass keyInformation.key of /kms/egress/v2/keys-sym "
                "as given, or its decoded bytes"
            ) from None
    else:
        raise TypeError(f"key must be str, bytes or a mapping of them, not {type(key).__name__}")
    if not secret:
        raise ValueError("key is empty")
    return secret


def _key_for(key: Key | Mapping[str, Key], key_id: str) -> bytes:
    if isinstance(key, Mapping):
        if key_id not in key:
            known = ", ".join(sorted(str(k) for k in key)) or "none"
            raise WebhookVerificationError(
                "unknown_key_id", f"v-c-signature names keyId {key_id}, not a key given ({known})"
            )
        return _secret(key[key_id])
    return _secret(key)


def _check_time(timestamp_ms: int, tolerance: float, now: float | datetime | None) -> None:
    if now is None:
        now_s = time.time()
    elif isinstance(now, datetime):
        if now.tzinfo is None:
            raise ValueError("now must be an aware datetime (with tzinfo)")
        now_s = now.timestamp()
    else:
        now_s = float(now)
    age = now_s - timestamp_ms / 1000
    if abs(age) > tolerance:
        where = f"{age:.0f} s old" if age > 0 else f"{-age:.0f} s in the future"
        raise WebhookVerificationError(
            "stale_timestamp",
            f"the v-c-signature timestamp t={timestamp_ms} is {where}; "
            f"the tolerance is {tolerance:g} s (check this machine's clock)",
        )


def _is_notification(value: Any) -> bool:
    return (
        isinstance(value, dict)
        and isinstance(value.get("eventType"), str)
        and ("payload" in value or "payloads" in value)
    )


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    members = dict(pairs)
    if len(members) != len(pairs):
        raise ValueError("a member appears twice")
    return members


def _constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


_DECODER = json.JSONDecoder(object_pairs_hook=_no_duplicates, parse_constant=_constant)


def _parse_body(raw: bytes) -> tuple[dict[str, Any], dict[str, str]]:
    """The body's JSON object, and the text of each member's value as sent."""
    try:
        text = raw.decode("utf-8")
        return _members(text)
    except (ValueError, RecursionError) as error:  # UnicodeDecodeError, JSONDecodeError included
        why = "not UTF-8" if isinstance(error, UnicodeDecodeError) else "not a JSON object"
        raise WebhookVerificationError("malformed_body", f"the body is {why}") from None


def _members(text: str) -> tuple[dict[str, Any], dict[str, str]]:
    def skip(at: int) -> int:
        while text[at : at + 1] in _BLANKS:
            at += 1
        return at

    members: dict[str, Any] = {}
    member_text: dict[str, str] = {}
    at = skip(0)
    if text[at : at + 1] != "{":
        raise ValueError("not an object")
    at = skip(at + 1)
    if text[at : at + 1] == "}":
        at += 1
    else:
        while True:
            if text[at : at + 1] != '"':
                raise ValueError("a member name is not a string")
            name, at = _DECODER.raw_decode(text, at)
            at = skip(at)
            if text[at : at + 1] != ":":
                raise ValueError("no ':' after a member name")
            start = skip(at + 1)
            value, at = _DECODER.raw_decode(text, start)
            if name in members:
                raise ValueError("a member appears twice")
            members[name] = value
            member_text[name] = text[start:at]
            at = skip(at)
            if text[at : at + 1] == ",":
                at = skip(at + 1)
            elif text[at : at + 1] == "}":
                at += 1
                break
            else:
                raise ValueError("no ',' or '}' after a member")
    if skip(at) != len(text):
        raise ValueError("data after the object")
    return members, member_text


def _compact(value: Any) -> bytes | None:
    """``value`` as compact JSON, as JavaScript's JSON.stringify and the
    server (orjson) write it for strings, integers, objects and arrays; None
    when it cannot be written (a lone surrogate, nesting too deep)."""
    try:
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    except (ValueError, RecursionError):  # UnicodeEncodeError included
        return None
