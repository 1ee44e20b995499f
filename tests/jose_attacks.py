"""Tokens an attacker builds from a genuine JWT they captured (issue 9, point 1).

The genuine token's signed part and signature are wrapped in a JWS JSON
serialisation (RFC 7515 §7.2), flattened or general, whose first member holds
the attacker's own ``header.claims.x`` segments. A parser that splits the
whole text on ``.`` and decodes base64 leniently (skipping ``{``, ``"``, ``:``
and spaces) reads the attacker's header and claims; a JOSE library's general
deserialisation reads the JSON and verifies the genuine signature inside.
Opentms must read one strict compact token and refuse all of these.
"""

from __future__ import annotations

import base64
import json
from typing import Any

# Four characters that a lenient base64 decoder skips, so that the attacker's
# first segment keeps its padding arithmetic: '{ "" : "' is eight.
_OPENING = '{ "" : "'


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def segment(value: dict[str, Any]) -> str:
    return b64url(json.dumps(value).encode())


def wrapped(genuine: str, header: dict[str, Any], claims: dict[str, Any], form: str) -> str:
    """``genuine`` in the JWS JSON serialisation ``form`` (``flattened``,
    ``general`` or ``flattened-unprotected``), carrying the attacker's
    ``header`` and ``claims`` where a dot-splitting reader looks for them."""
    protected, payload, signature = genuine.split(".")
    smuggled = f"{segment(header)}.{segment(claims)}.x"
    rest: dict[str, Any]
    if form == "flattened":
        rest = {"protected": protected, "payload": payload, "signature": signature}
    elif form == "general":
        rest = {
            "payload": payload,
            "signatures": [{"protected": protected, "signature": signature}],
        }
    elif form == "flattened-unprotected":
        rest = {
            "protected": protected,
            "header": {"cty": "JWT"},  # an unprotected header beside the protected one
            "payload": payload,
            "signature": signature,
        }
    else:
        raise ValueError(form)
    return _OPENING + smuggled + '", ' + json.dumps(rest)[1:]


FORMS = ("flattened", "general", "flattened-unprotected")
