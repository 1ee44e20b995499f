"""One delivery attempt as it goes on the wire (docs/webhooks.md, "A
delivery"): the JSON body, CyberSource's ``V-C-*`` headers and the
``v-c-signature`` over the bytes the settings choose."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from opentms.crypto.webhook_signature import (
    SignatureInput,
    serialise,
    signature_header,
    signed_bytes,
)
from opentms.domain.ports import SigningKey
from opentms.domain.webhooks import RequestType

PRODUCT_HEADER = "tokenManagement"


@dataclass(frozen=True)
class Delivery:
    headers: Mapping[str, str]
    body: bytes


def transaction_trace_id(notification_id: str, attempt: int) -> str:
    """New per attempt: the notification's id, a dash, the attempt number."""
    return f"{notification_id}-{attempt}"


def delivery(
    notification: Mapping[str, Any],
    key: SigningKey | None,
    sent_at: datetime,
    signed: SignatureInput,
) -> Delivery:
    """The request for ``notification`` (a body from
    :func:`~opentms.domain.webhooks.notification_body`, or a test
    notification), signed with ``key`` at ``sent_at`` (real time: receivers
    check ``t`` against their clock). Without a key, no ``v-c-signature``."""
    body = serialise(notification)
    retry = int(notification.get("retryNumber") or 0)
    request_type = str(notification.get("requestType") or RequestType.NEW.value)
    headers = {
        "Content-Type": "application/json",
        "V-C-Event-Type": str(notification["eventType"]),
        "V-C-Organization-Id": str(notification["organizationId"]),
        "V-C-Product-Name": str(notification.get("productId") or PRODUCT_HEADER),
        "V-C-Request-Type": request_type.lower(),
        "V-C-Retry-Count": str(retry),
        "V-C-Transaction-Trace-Id": str(notification["transactionTraceId"]),
        "v-c-webhook-id": str(notification["webhookId"]),
    }
    if key is not None:
        t = int(sent_at.timestamp() * 1000)
        headers["v-c-signature"] = signature_header(
            key.key_id, key.secret, t, signed_bytes(t, body, notification, signed)
        )
    return Delivery(headers, body)
