"""Properties of ``verify``: whatever the server signs verifies; no change to
what is signed, and no change to the ``v-c-signature``, ever verifies; and for
any input the only exception is ``WebhookVerificationError``."""

from __future__ import annotations

import json
from typing import Any

import orjson
from hypothesis import assume, example, given, settings
from hypothesis import strategies as st

from opentms.client.webhooks import WebhookVerificationError, verify
from tests.webhooks.client.signing import KEY, KEY_ID, MODES, NOW, notification, sign

# JSON values as orjson writes them: 64-bit integers, finite floats, any text.
SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**64 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text()
)
JSON = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(), inner, max_size=5),
    max_leaves=25,
)
# Without floats: what the client's own serialisation must give byte for byte.
JSON_NO_FLOATS = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**64 - 1) | st.text(),
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(), inner, max_size=5),
    max_leaves=25,
)
MODE = st.sampled_from(MODES)
KEYS = {KEY_ID: KEY}  # by keyId: a changed keyId is then a different key


def envelope(payload: Any) -> dict[str, Any]:
    body = notification()
    body["payload"] = payload
    return body


def is_notification(value: Any) -> bool:
    return (
        isinstance(value, dict)
        and "eventType" in value
        and bool({"payload", "payloads"} & set(value))
    )


def outcome(headers: Any, body: Any, key: Any = KEYS, **kwargs: Any) -> dict[str, Any] | None:
    """The notification, or None when refused; any other exception fails the test."""
    try:
        return verify(headers, body, key, now=NOW, **kwargs)
    except WebhookVerificationError:
        return None


@given(payload=JSON_NO_FLOATS)
def test_the_client_serialises_a_payload_as_the_server_does(payload: Any) -> None:
    compact = json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    assert compact == orjson.dumps(payload)


@given(payload=JSON, mode=MODE)
@example(payload={"amount": 1e16, "rate": 0.1, "é": "\u2028"}, mode="payload")
def test_any_payload_the_server_signs_verifies(payload: Any, mode: str) -> None:
    assume(not is_notification(payload))
    body = envelope(payload)
    sent = sign(body, mode)  # type: ignore[arg-type]
    assert verify(sent.headers, sent.body, KEY, now=NOW) == json.loads(sent.body)
    assert verify(sent.headers, sent.body, KEYS, now=NOW, signature_input=mode)  # type: ignore[arg-type]


@st.composite
def mutated(draw: st.DrawFn, original: bytes) -> bytes:
    kind = draw(st.sampled_from(["flip", "insert", "delete", "truncate", "append", "replace"]))
    at = draw(st.integers(0, len(original)))
    if kind == "flip" and at < len(original):
        bit = 1 << draw(st.integers(0, 7))
        return original[:at] + bytes([original[at] ^ bit]) + original[at + 1 :]
    if kind == "insert":
        return original[:at] + draw(st.binary(min_size=1, max_size=8)) + original[at:]
    if kind == "delete":
        end = draw(st.integers(at, len(original)))
        return original[:at] + original[end:]
    if kind == "truncate":
        return original[:at]
    if kind == "append":
        return original + draw(st.binary(min_size=1, max_size=8))
    return draw(st.binary(max_size=300))


@settings(max_examples=300)
@given(data=st.data(), mode=MODE)
def test_a_changed_body_never_verifies_as_anything_but_what_was_signed(
    data: st.DataObject, mode: str
) -> None:
    body = notification()
    sent = sign(body, mode)  # type: ignore[arg-type]
    changed = data.draw(mutated(sent.body))
    assume(changed != sent.body)
    verified = outcome(sent.headers, changed)
    if mode == "body":
        assert verified is None
    elif verified is not None:  # only payload is signed: it must be the one signed
        assert verified["payload"] == body["payload"]


@given(payload=JSON, other=JSON, mode=MODE)
def test_another_payload_never_verifies(payload: Any, other: Any, mode: str) -> None:
    assume(orjson.dumps(payload) != orjson.dumps(other))
    sent = sign(envelope(payload), mode)  # type: ignore[arg-type]
    assert outcome(sent.headers, orjson.dumps(envelope(other))) is None


@st.composite
def mutated_header(draw: st.DrawFn, header: str) -> str:
    t, key_id, sig = original = header.split(";")
    kind = draw(
        st.sampled_from(["random", "truncate", "duplicate", "reorder", "character", "splice"])
    )
    if kind == "random":
        latin1 = st.binary(max_size=120).map(lambda b: b.decode("latin-1"))
        return draw(st.text(max_size=120) | latin1)
    if kind == "truncate":
        return header[: draw(st.integers(0, len(header) - 1))]
    if kind == "duplicate":
        pieces = list(original)
        pieces.insert(draw(st.integers(0, 3)), draw(st.sampled_from(original)))
        return ";".join(pieces)
    if kind == "reorder":
        order = draw(st.permutations(original))
        assume(order != original)
        return ";".join(order)
    if kind == "character":
        at = draw(st.integers(0, len(header) - 1))
        return header[:at] + draw(st.characters()) + header[at + 1 :]
    # another valid-looking part in place of one
    which = draw(st.integers(0, 2))
    replacement = draw(
        st.sampled_from(
            [
                f"t={int(t[2:]) + draw(st.integers(-300_000, 300_000))}",
                f"keyId={draw(st.uuids())}",
                "sig=" + draw(st.binary(min_size=32, max_size=32)).hex()[:43] + "=",
            ]
        )
    )
    pieces = [t, key_id, sig]
    pieces[which] = replacement
    return ";".join(pieces)


@settings(max_examples=400)
@given(data=st.data(), mode=MODE)
def test_a_changed_signature_header_never_verifies(data: st.DataObject, mode: str) -> None:
    sent = sign(notification(), mode)  # type: ignore[arg-type]
    original = sent.headers["v-c-signature"]
    header = data.draw(mutated_header(original))
    assume(header.strip(" \t") != original)
    headers = dict(sent.headers)
    headers["v-c-signature"] = header
    assert outcome(headers, sent.body, tolerance=None) is None
    assert (
        outcome(headers, sent.body, KEY, tolerance=None) is None
        or header.split(";")[1]
        != (
            original.split(";")[1]  # with one key, keyId only names it: the signature decides
        )
    )


@settings(max_examples=300)
@given(
    headers=st.dictionaries(st.text(max_size=20), st.text(max_size=80), max_size=4)
    | st.lists(st.tuples(st.binary(max_size=20), st.binary(max_size=80)), max_size=4),
    body=st.binary(max_size=200) | st.text(max_size=200),
    signature=st.none() | st.text(max_size=120),
)
def test_any_input_raises_only_the_verification_error(
    headers: Any, body: bytes | str, signature: str | None
) -> None:
    if signature is not None:
        headers = {**dict(headers), "v-c-signature": signature}
    assert outcome(headers, body) is None
    assert outcome(headers, body, KEY, tolerance=None) is None
