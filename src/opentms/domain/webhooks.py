"""TMS webhooks (docs/webhooks.md): subscriptions, their retry policy, and the
events a state change causes. An event holds ids only, never card data; it is
queued in the same transaction as the change (the outbox) and delivered to
every subscription that wants it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Literal

from opentms.domain.ids import new_token_id

if TYPE_CHECKING:  # the ports import this module
    from opentms.domain.ports.webhooks import TransportResult

PRODUCT_ID = "tokenManagement"
PRODUCT_NAME = "Token Management"


class EventType(StrEnum):
    """The event types of product ``tokenManagement`` (reference/webhooks.md §2)."""

    NETWORK_TOKEN_PROVISIONED = "tms.networktoken.provisioned"  # noqa: S105
    NETWORK_TOKEN_UPDATED = "tms.networktoken.updated"  # noqa: S105
    NETWORK_TOKEN_BINDING = "tms.networktoken.binding"  # noqa: S105
    TOKEN_CREATED = "tms.token.created"  # noqa: S105
    TOKEN_UPDATED = "tms.token.updated"  # noqa: S105
    TOKEN_PAN_UPDATED = "tms.token.pan_updated"  # noqa: S105


class LifeCycleReason(StrEnum):
    """``payload.data.reason`` of the network-token events."""

    PROVISIONED = "PROVISIONED"
    CARD_UPDATED = "CARD_UPDATED"  # the card's expiry or last four digits
    TOKEN_EXPIRY_UPDATED = "TOKEN_EXPIRY_UPDATED"  # noqa: S105
    TOKEN_UPDATED = "TOKEN_UPDATED"  # noqa: S105 - the token's expiry and its status at once
    METADATA_UPDATED = "METADATA_UPDATED"  # card art, issuer details
    REDIGITALIZATION = "REDIGITALIZATION"
    TOKEN_STATUS_UPDATED = "TOKEN_STATUS_UPDATED"  # noqa: S105


class SubscriptionStatus(StrEnum):
    ACTIVE = "ACTIVE"  # notifications are sent
    INACTIVE = "INACTIVE"  # turned off by the merchant: nothing queued, nothing sent
    SUSPENDED = "SUSPENDED"  # the receiver did not answer: notifications held


class NotificationStatus(StrEnum):
    PENDING = "PENDING"  # due at next_attempt_at (first attempt)
    RETRY = "RETRY"  # failed, due again at next_attempt_at
    HELD = "HELD"  # retries spent with deactivateFlag: waits for the subscription to answer
    DELIVERED = "DELIVERED"
    FAILED = "FAILED"  # retries spent


class RequestType(StrEnum):
    """``requestType`` of a delivered notification; ``V-C-Request-Type``."""

    NEW = "NEW"
    RETRY = "RETRY"


@dataclass(frozen=True)
class RetryPolicy:
    """When a failed notification is tried again (reference/webhooks.md §1).
    Times are minutes. ARITHMETIC waits ``first_retry + interval * (n - 1)``
    before retry ``n``; GEOMETRIC ``first_retry * interval ** (n - 1)``. A
    sequence is ``number_of_retries`` retries; it is repeated
    ``repeat_sequence_count`` more times, after ``repeat_sequence_wait_time``."""

    algorithm: Literal["ARITHMETIC", "GEOMETRIC"] = "ARITHMETIC"
    first_retry: int = 1
    interval: int = 1
    number_of_retries: int = 3
    deactivate_flag: bool = False
    repeat_sequence_count: int = 0
    repeat_sequence_wait_time: int = 0

    @property
    def total_retries(self) -> int:
        return self.number_of_retries * (1 + self.repeat_sequence_count)

    def delay(self, retry: int) -> timedelta | None:
        """How long after the previous attempt retry ``retry`` (1, 2, ...) is
        made; None when the policy has no such retry."""
        if retry < 1 or retry > self.total_retries or self.number_of_retries < 1:
            return None
        sequence, n = divmod(retry - 1, self.number_of_retries)
        n += 1
        if self.algorithm == "GEOMETRIC":
            minutes = self.first_retry * self.interval ** (n - 1)
        else:
            minutes = self.first_retry + self.interval * (n - 1)
        if sequence > 0 and n == 1:
            minutes += self.repeat_sequence_wait_time
        return timedelta(minutes=minutes)


@dataclass(frozen=True)
class ProductEvents:
    product_id: str
    event_types: tuple[str, ...]


@dataclass(frozen=True)
class Subscription:
    """A merchant's webhook. ``api_version`` is the generation it was created
    through (1: flat productId/eventTypes; 2: products[]); both are served.
    ``notification_scope`` and ``security_policy`` are kept as given."""

    id: str
    merchant_id: str
    api_version: int
    name: str | None
    description: str | None
    products: tuple[ProductEvents, ...]
    webhook_url: str
    health_check_url: str | None
    status: SubscriptionStatus
    retry_policy: RetryPolicy
    notification_scope: Any
    security_policy: Mapping[str, Any]
    created_at: datetime
    updated_at: datetime | None = None
    version: int = 1

    def wants(self, product_id: str, event_type: str) -> bool:
        return any(
            p.product_id == product_id and event_type in p.event_types for p in self.products
        )

    @property
    def ping_url(self) -> str:
        """Where the health check goes: the health-check URL, else the webhook URL."""
        return self.health_check_url or self.webhook_url


@dataclass(frozen=True)
class Event:
    """One change, as every subscription that wants it will be told.
    ``payload`` is the notification's ``payload`` member; ``id`` is also its
    ``payload.data.id`` and stays the same on every attempt and replay."""

    id: str
    merchant_id: str
    event_type: str
    payload: Mapping[str, Any]
    created_at: datetime
    product_id: str = PRODUCT_ID


def new_event_id() -> str:
    """32 upper-case hexadecimal characters, like CyberSource's; never with
    a digit run that looks like a card number (as every token id)."""
    return new_token_id("webhook event id")


def notification_body(
    event: Event,
    webhook_id: str,
    transaction_trace_id: str,
    retry_number: int,
    request_type: RequestType,
) -> dict[str, Any]:
    """The JSON body of one delivery attempt (reference/webhooks.md §2).
    ``eventDate`` is the event's time, UTC, without a zone."""
    return {
        "eventType": event.event_type,
        "webhookId": webhook_id,
        "productId": event.product_id,
        "organizationId": event.merchant_id,
        "eventDate": event.created_at.strftime("%Y-%m-%dT%H:%M:%S"),
        "transactionTraceId": transaction_trace_id,
        "retryNumber": retry_number,
        "payload": dict(event.payload),
        "requestType": request_type.value,
    }


@dataclass(frozen=True)
class DeliveryAttempt:
    """One HTTP request to a receiver, as the delivery history shows it.
    ``status_code`` None: no answer (``error`` says why). ``response`` is at
    most the first 1 KiB of the receiver's answer."""

    notification_id: str | None
    subscription_id: str
    merchant_id: str
    attempt: int
    kind: Literal["NEW", "RETRY", "REPLAY", "TEST", "HEALTH_CHECK"]
    transaction_trace_id: str | None
    at: datetime
    status_code: int | None
    latency_ms: float
    error: str | None = None
    response: bytes = field(default=b"", repr=False)

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300

    @property
    def answered(self) -> bool:
        """What a health check asks: an HTTP answer below 500."""
        return self.status_code is not None and self.status_code < 500

    @classmethod
    def of(
        cls,
        result: TransportResult,
        *,
        notification_id: str | None,
        subscription_id: str,
        merchant_id: str,
        attempt: int,
        kind: Literal["NEW", "RETRY", "REPLAY", "TEST", "HEALTH_CHECK"],
        transaction_trace_id: str | None,
        at: datetime,
    ) -> DeliveryAttempt:
        """The attempt that got ``result``."""
        return cls(
            notification_id,
            subscription_id,
            merchant_id,
            attempt,
            kind,
            transaction_trace_id,
            at,
            result.status_code,
            result.latency_ms,
            result.error,
            result.response,
        )
