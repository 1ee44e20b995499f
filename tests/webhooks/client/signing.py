"""Notifications signed by the server's own code (the envelope of a delivery
attempt and its ``v-c-signature``), for the receiver helper to verify."""

from __future__ import annotations

import base64
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from opentms.crypto.webhook_signature import SignatureInput, signature_header, signed_bytes
from opentms.domain.ports import SigningKey
from opentms.domain.webhooks import Event, EventType, RequestType, notification_body
from opentms.services.webhooks.envelope import Delivery, delivery

SECRET = bytes(range(32))
KEY = base64.b64encode(SECRET).decode()  # as /kms/egress/v2/keys-sym answers it
KEY_ID = "5b3c2f1e-8a47-4c1d-9e0b-2d6f7a8b9c01"
SENT_AT = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)
NOW = SENT_AT.timestamp()
MODES: tuple[SignatureInput, ...] = ("payload", "body")
EVENT_ID = "2EE7067B2F015632E0631E588E0A1987"


def network_token_event(
    event_type: str = EventType.NETWORK_TOKEN_UPDATED,
    reason: str = "TOKEN_STATUS_UPDATED",
    state: str = "SUSPENDED",
) -> Event:
    """An event as the reference's example shows it: ids only."""
    payload = {
        "data": {
            "reason": reason,
            "id": EVENT_ID,
            "type": "tokenizedCardUpdates",
            "version": "1.0",
            "_links": {
                "tokenized-cards": [
                    {
                        "href": "/tms/v2/tokenized-cards/2E8B7A5E3C0F4D1A9B6C8D7E6F5A4B3C",
                        "id": "2E8B7A5E3C0F4D1A9B6C8D7E6F5A4B3C",
                        "state": state,
                    }
                ],
                "instrumentIdentifiers": [
                    {
                        "href": "/tms/v1/instrumentidentifiers/7045450003485829870",
                        "id": "7045450003485829870",
                    }
                ],
            },
        },
        "organizationId": "acme",
    }
    return Event(EVENT_ID, "acme", event_type, payload, SENT_AT)


def notification(event: Event | None = None, retry: int = 0) -> dict[str, Any]:
    event = event or network_token_event()
    request_type = RequestType.RETRY if retry else RequestType.NEW
    return notification_body(
        event, "0f8e6c4a-1b2d-4e3f-8a9b-0c1d2e3f4a5b", f"N1-{retry}", retry, request_type
    )


def sample_test_notification() -> dict[str, Any]:
    """The shape of ``POST /notification-subscriptions/v1/webhooks/{id}`` (test-send)."""
    return {
        "eventDate": "2026-03-01T12:00:00",
        "eventType": "tms.networktoken.updated",
        "organizationId": "acme",
        "payloads": {"testPayload": {"message": "This is a test notification"}},
        "productId": "tokenManagement",
        "requestType": "NEW",
        "retryNumber": 0,
        "transactionTraceId": "T1-0",
        "webhookId": "0f8e6c4a-1b2d-4e3f-8a9b-0c1d2e3f4a5b",
    }


def sign(
    body: Mapping[str, Any],
    mode: SignatureInput,
    *,
    secret: bytes = SECRET,
    key_id: str = KEY_ID,
    at: datetime = SENT_AT,
) -> Delivery:
    """What the dispatcher sends for ``body``."""
    return delivery(body, SigningKey(key_id, secret), at, mode)


def header_at(
    timestamp_ms: int, body: bytes, content: Mapping[str, Any], mode: SignatureInput
) -> str:
    """A ``v-c-signature`` with ``t`` chosen (the server's functions)."""
    message = signed_bytes(timestamp_ms, body, content, mode)
    return signature_header(KEY_ID, SECRET, timestamp_ms, message)
