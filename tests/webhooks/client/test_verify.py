"""``opentms.client.webhooks.verify`` against notifications the server's own
code signed (``crypto.webhook_signature`` + ``services.webhooks.envelope``),
with either ``OPENTMS_WEBHOOK_SIGNATURE_INPUT``; and each way it refuses."""

from __future__ import annotations

import base64
import email.message
import hashlib
import hmac
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import pytest
from starlette.datastructures import Headers

from opentms.client import OpenTMSError
from opentms.client.webhooks import WebhookVerificationError, verify
from opentms.domain.webhooks import EventType
from tests.webhooks.client.signing import (
    KEY,
    KEY_ID,
    MODES,
    NOW,
    SECRET,
    SENT_AT,
    header_at,
    network_token_event,
    notification,
    sample_test_notification,
    sign,
)

EVENTS = [
    pytest.param(network_token_event(), id="updated"),
    pytest.param(
        network_token_event(EventType.NETWORK_TOKEN_PROVISIONED, "PROVISIONED", "ACTIVE"),
        id="provisioned",
    ),
]


def refused(reason: str, *args: Any, **kwargs: Any) -> WebhookVerificationError:
    with pytest.raises(WebhookVerificationError) as caught:
        verify(*args, **kwargs)
    assert caught.value.reason == reason, caught.value
    return caught.value


# --- what verifies ---------------------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("event", EVENTS)
def test_a_notification_the_server_signed_verifies(mode: str, event: Any) -> None:
    body = notification(event)
    sent = sign(body, mode)  # type: ignore[arg-type]
    verified = verify(sent.headers, sent.body, KEY, now=NOW)
    assert verified == body == json.loads(sent.body)
    assert verified["payload"]["data"]["id"] == event.id


@pytest.mark.parametrize("mode", MODES)
def test_a_retry_verifies_and_keeps_the_event_id(mode: str) -> None:
    sent = sign(notification(retry=2), mode)  # type: ignore[arg-type]
    verified = verify(sent.headers, sent.body, KEY, now=NOW)
    assert (verified["retryNumber"], verified["requestType"]) == (2, "RETRY")
    assert verified["payload"]["data"]["id"] == network_token_event().id


@pytest.mark.parametrize("mode", MODES)
def test_a_test_notification_signs_its_payloads_member(mode: str) -> None:
    body = sample_test_notification()
    sent = sign(body, mode)  # type: ignore[arg-type]
    assert verify(sent.headers, sent.body, KEY, now=NOW) == body


@pytest.mark.parametrize("mode", MODES)
def test_pinning_the_variant_refuses_the_other(mode: str) -> None:
    sent = sign(notification(), mode)  # type: ignore[arg-type]
    other = "body" if mode == "payload" else "payload"
    assert verify(sent.headers, sent.body, KEY, now=NOW, signature_input=mode)  # type: ignore[arg-type]
    refused("bad_signature", sent.headers, sent.body, KEY, now=NOW, signature_input=other)


def test_the_payload_variant_signs_exactly_t_dot_the_compact_payload() -> None:
    body = notification()
    sent = sign(body, "payload")
    t = sent.headers["v-c-signature"].split(";")[0].removeprefix("t=")
    assert t == str(int(SENT_AT.timestamp() * 1000))
    compact = json.dumps(body["payload"], separators=(",", ":"), ensure_ascii=False).encode()
    assert compact == orjson.dumps(body["payload"])  # the client's serialisation is the server's
    expected = hmac.new(SECRET, t.encode() + b"." + compact, hashlib.sha256).digest()
    assert sent.headers["v-c-signature"] == (
        f"t={t};keyId={KEY_ID};sig={base64.b64encode(expected).decode()}"
    )


def test_the_payload_variant_verifies_a_body_laid_out_otherwise() -> None:
    # A sender that signs JSON.stringify(payload) but indents its body.
    body = notification()
    sent = sign(body, "payload")
    pretty = json.dumps(body, indent=2).encode()
    assert verify(sent.headers, pretty, KEY, now=NOW) == body
    refused("bad_signature", sent.headers, pretty, KEY, now=NOW, signature_input="body")


@pytest.mark.parametrize(
    "key",
    [
        pytest.param(KEY, id="base64-text"),
        pytest.param(SECRET, id="bytes"),
        pytest.param(bytearray(SECRET), id="bytearray"),
        pytest.param({KEY_ID: KEY}, id="mapping-of-text"),
        pytest.param({KEY_ID: SECRET, "older": b"x" * 32}, id="mapping-of-bytes"),
    ],
)
def test_the_key_as_given_by_keys_sym_or_decoded_or_by_key_id(key: Any) -> None:
    sent = sign(notification(), "payload")
    assert verify(sent.headers, sent.body, key, now=NOW)["webhookId"]


def test_during_the_overlap_both_keys_verify_by_key_id() -> None:
    old, new = b"o" * 32, b"n" * 32
    keys = {"old": base64.b64encode(old).decode(), "new": base64.b64encode(new).decode()}
    for key_id, secret in (("old", old), ("new", new)):
        sent = sign(notification(), "payload", secret=secret, key_id=key_id)
        assert verify(sent.headers, sent.body, keys, now=NOW)
    sent = sign(notification(), "payload", secret=old, key_id="new")  # named wrongly
    refused("bad_signature", sent.headers, sent.body, keys, now=NOW)


def test_headers_in_any_case_and_container() -> None:
    sent = sign(notification(), "body")
    value = sent.headers["v-c-signature"]
    message = email.message.Message()  # http.server's self.headers
    message["V-C-Signature"] = value
    shapes: list[Any] = [
        {"V-C-SIGNATURE": value},
        [("Content-Type", "application/json"), ("V-c-Signature", value)],
        [(b"v-c-signature", value.encode())],  # an ASGI scope's raw headers
        Headers(raw=[(b"v-c-signature", value.encode())]),
        message,
        {"v-c-signature": f" {value}\t"},  # optional whitespace around a field value
    ]
    for headers in shapes:
        assert verify(headers, sent.body, KEY, now=NOW)


def test_body_as_text_bytearray_or_memoryview() -> None:
    sent = sign(notification(), "body")
    for body in (sent.body.decode(), bytearray(sent.body), memoryview(sent.body)):
        assert verify(sent.headers, body, KEY, now=NOW)


def test_the_error_is_an_opentms_client_error() -> None:
    assert issubclass(WebhookVerificationError, OpenTMSError)
    error = refused("missing_signature", {}, b"{}", KEY)
    assert "reason='missing_signature'" in repr(error)


# --- time ------------------------------------------------------------------------------------

T_MS = 1_772_366_400_000  # whole seconds: the edges below are exact


def at_t(mode: str = "payload") -> tuple[dict[str, str], bytes]:
    body = notification()
    raw = orjson.dumps(body)
    return {"v-c-signature": header_at(T_MS, raw, body, mode)}, raw  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("offset", "verifies"),
    [
        pytest.param(0, True, id="now"),
        pytest.param(300, True, id="300s-old"),
        pytest.param(-300, True, id="300s-ahead"),
        pytest.param(300.001, False, id="just-too-old"),
        pytest.param(-300.001, False, id="just-too-far-ahead"),
        pytest.param(86_400, False, id="a-day-old"),
    ],
)
def test_the_tolerance_is_inclusive_in_both_directions(offset: float, verifies: bool) -> None:
    headers, raw = at_t()
    now = T_MS / 1000 + offset
    if verifies:
        assert verify(headers, raw, KEY, now=now)
    else:
        error = refused("stale_timestamp", headers, raw, KEY, now=now)
        assert ("old" if offset > 0 else "in the future") in str(error)


def test_a_custom_tolerance_none_and_datetime_now() -> None:
    headers, raw = at_t("body")
    sent_at = datetime.fromtimestamp(T_MS / 1000, UTC)
    later = sent_at + timedelta(hours=1)
    refused("stale_timestamp", headers, raw, KEY, now=later)
    assert verify(headers, raw, KEY, now=later, tolerance=3600)
    assert verify(headers, raw, KEY, now=later + timedelta(days=400), tolerance=None)
    refused("stale_timestamp", headers, raw, KEY, now=later, tolerance=3599.999)
    with pytest.raises(ValueError, match="aware"):
        verify(headers, raw, KEY, now=later.replace(tzinfo=None))


def test_the_default_now_is_this_machines_clock() -> None:
    sent = sign(notification(), "payload", at=datetime.now(UTC))
    assert verify(sent.headers, sent.body, KEY)
    refused("stale_timestamp", *at_t(), KEY)  # signed in 2026-03, long before or after now


def test_the_time_is_checked_before_the_body() -> None:
    headers, _ = at_t()
    refused("stale_timestamp", headers, b"not json", KEY, now=0)


# --- what is refused -------------------------------------------------------------------------

GOOD = sign(notification(), "payload")
GOOD_HEADER = GOOD.headers["v-c-signature"]
T, KID, SIG = GOOD_HEADER.split(";")
URLSAFE = base64.urlsafe_b64encode(bytes([0xFB]) * 32).decode()  # "-" and "_"


def test_no_signature_header() -> None:
    error = refused("missing_signature", {"content-type": "application/json"}, GOOD.body, KEY)
    assert "no v-c-signature" in str(error)


def test_two_signature_headers() -> None:
    headers = [("v-c-signature", GOOD_HEADER), ("V-C-Signature", GOOD_HEADER)]
    refused("malformed_signature", headers, GOOD.body, KEY, now=NOW)


@pytest.mark.parametrize(
    "header",
    [
        pytest.param("", id="empty"),
        pytest.param(f"{T};{KID}", id="no-sig"),
        pytest.param(f"{T};{KID};{SIG};", id="trailing-separator"),
        pytest.param(f"{T};{KID};{SIG};{SIG}", id="sig-twice"),
        pytest.param(f"{T};{T};{SIG}", id="t-twice"),
        pytest.param(f"{KID};{T};{SIG}", id="reordered"),
        pytest.param(f"{SIG};{KID};{T}", id="reversed"),
        pytest.param(f"{T}, {KID}, {SIG}", id="commas"),
        pytest.param(f"{T}; {KID}; {SIG}", id="spaces-after-separators"),
        pytest.param(f"T{T[1:]};{KID};{SIG}", id="name-case"),
        pytest.param(f"t=-1;{KID};{SIG}", id="negative-t"),
        pytest.param(f"t=1.5;{KID};{SIG}", id="fractional-t"),
        pytest.param(f"t=;{KID};{SIG}", id="empty-t"),
        pytest.param(f"t=12345678901234567;{KID};{SIG}", id="t-too-long"),
        pytest.param(f"t=١٢٣;{KID};{SIG}", id="t-non-ascii-digits"),
        pytest.param(f"{T};keyId=;{SIG}", id="empty-key-id"),
        pytest.param(f"{T};keyId=a b;{SIG}", id="space-in-key-id"),
        pytest.param(f"{T};keyId=a=b;{SIG}", id="equals-in-key-id"),
        pytest.param(f"{T};{KID};sig=", id="empty-sig"),
        pytest.param(f"{T};{KID};{SIG[:-1]}", id="sig-unpadded"),
        pytest.param(f"{T};{KID};{SIG[:-2]}=", id="sig-short"),
        pytest.param(f"{T};{KID};sig={base64.b64encode(b'x' * 33).decode()}", id="sig-33-bytes"),
        pytest.param(f"{T};{KID};sig={URLSAFE}", id="sig-urlsafe"),
        pytest.param(f"{T};{KID};sig={'A' * 42}B=", id="sig-not-canonical"),
    ],
)
def test_a_malformed_signature_header(header: str) -> None:
    error = refused("malformed_signature", {"v-c-signature": header}, GOOD.body, KEY, now=NOW)
    assert "t=<milliseconds>;keyId=<key id>;sig=<base64 HMAC-SHA256>" in str(error)


def test_an_unknown_key_id() -> None:
    error = refused("unknown_key_id", GOOD.headers, GOOD.body, {"other": KEY}, now=NOW)
    assert KEY_ID in str(error)
    assert KEY not in str(error)
    refused("unknown_key_id", GOOD.headers, GOOD.body, {}, now=NOW)


@pytest.mark.parametrize("mode", MODES)
def test_a_wrong_key(mode: str) -> None:
    sent = sign(notification(), mode)  # type: ignore[arg-type]
    refused("bad_signature", sent.headers, sent.body, b"k" * 32, now=NOW)


@pytest.mark.parametrize("mode", MODES)
def test_a_changed_payload(mode: str) -> None:
    body = notification()
    sent = sign(body, mode)  # type: ignore[arg-type]
    changed = json.loads(sent.body)
    changed["payload"]["data"]["id"] = "0" * 32
    refused("bad_signature", sent.headers, orjson.dumps(changed), KEY, now=NOW)


def test_the_body_variant_covers_every_member() -> None:
    sent = sign(notification(), "body")
    changed = sent.body.replace(b'"retryNumber":0', b'"retryNumber":1')
    assert changed != sent.body
    refused("bad_signature", sent.headers, changed, KEY, now=NOW)


def test_the_payload_variant_covers_only_the_payload() -> None:
    # As CyberSource's plugins read it: documented in docs/webhooks.md.
    sent = sign(notification(), "payload")
    changed = sent.body.replace(b'"retryNumber":0', b'"retryNumber":1')
    assert verify(sent.headers, changed, KEY, now=NOW)["retryNumber"] == 1
    refused("bad_signature", sent.headers, changed, KEY, now=NOW, signature_input="body")


def test_a_signed_payload_is_not_a_signed_body_and_back() -> None:
    # The payload's bytes sent as a whole body, or a whole body sent as a payload:
    # the same signed bytes, but never accepted in the other role.
    body = notification()
    sent = sign(body, "payload")
    refused("malformed_body", sent.headers, orjson.dumps(body["payload"]), KEY, now=NOW)
    sent = sign(body, "body")
    wrapped = orjson.dumps({"eventType": "tms.networktoken.updated", "payload": body})
    refused("bad_signature", sent.headers, wrapped, KEY, now=NOW)


@pytest.mark.parametrize(
    ("body", "why"),
    [
        pytest.param(b"", "not a JSON object", id="empty"),
        pytest.param(b"not json", "not a JSON object", id="text"),
        pytest.param(b"\xff\xfe{}", "not UTF-8", id="not-utf8"),
        pytest.param(b"[1, 2]", "not a JSON object", id="array"),
        pytest.param(b'{"a": 1} {}', "not a JSON object", id="two-values"),
        pytest.param(b'{"payload": {}, "payload": {}}', "not a JSON object", id="duplicate"),
        pytest.param(b'{"payload": {"a": 1, "a": 2}}', "not a JSON object", id="nested-duplicate"),
        pytest.param(b'{"payload": NaN}', "not a JSON object", id="nan"),
        pytest.param(b"[" * 100_000, "not a JSON object", id="deep"),
        pytest.param(b'{"payload": ' + b"[" * 100_000, "not a JSON object", id="deep-member"),
        pytest.param(b'{"eventType": "x"}', "not a webhook notification", id="no-payload"),
        pytest.param(
            b'{"payload": {"eventType": "x", "payload": {}}}',
            "not a webhook notification",
            id="payload-is-a-notification",
        ),
    ],
)
def test_a_body_that_is_not_a_notification(body: bytes, why: str) -> None:
    error = refused("malformed_body", GOOD.headers, body, KEY, now=NOW)
    assert why in str(error)


@pytest.mark.parametrize(
    "key",
    [
        pytest.param("not base64!", id="not-base64"),
        pytest.param("", id="empty"),
        pytest.param(b"", id="empty-bytes"),
    ],
)
def test_a_key_that_is_no_key_is_the_callers_mistake(key: Any) -> None:
    with pytest.raises(ValueError, match="key"):
        verify(GOOD.headers, GOOD.body, key, now=NOW)
    with pytest.raises(TypeError):
        verify(GOOD.headers, GOOD.body, 42, now=NOW)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="signature_input"):
        verify(GOOD.headers, GOOD.body, KEY, signature_input="all")  # type: ignore[arg-type]


def test_messages_never_carry_the_key_or_the_signature() -> None:
    for error in (
        refused("bad_signature", GOOD.headers, GOOD.body, b"k" * 32, now=NOW),
        refused("malformed_signature", {"v-c-signature": f"{T};{KID};{SIG}x"}, GOOD.body, KEY),
    ):
        assert KEY not in str(error)
        assert SIG.removeprefix("sig=") not in str(error)
