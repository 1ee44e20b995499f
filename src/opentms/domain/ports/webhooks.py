"""Ports of TMS webhooks (docs/webhooks.md): the outbox a unit of work queues
events into, the transport that carries a notification to a receiver, and
the merchants' signing keys."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:  # domain.webhooks imports the ports (through randomness): no cycle at run time
    from opentms.domain.webhooks import (
        DeliveryAttempt,
        Event,
        NotificationStatus,
        RetryPolicy,
        Subscription,
    )


class Outbox(Protocol):
    """Part of a :class:`~opentms.domain.ports.UnitOfWork`: what it publishes
    commits with the change that caused it, or not at all."""

    def publish(self, event: Event) -> int:
        """Queue ``event`` for every subscription of its merchant that wants
        it (not INACTIVE, not deleted); the number of notifications queued
        (0: nothing is written)."""
        ...


@dataclass(frozen=True)
class TransportResult:
    """What one request to a receiver got: its status (None: no answer, and
    ``error`` says why), how long it took, and at most 1 KiB of its body."""

    status_code: int | None
    latency_ms: float
    error: str | None = None
    response: bytes = field(default=b"", repr=False)

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


class DestinationRefused(ValueError):
    """A webhook URL this server will not call (not http(s), or in vault mode
    a loopback, private or link-local address not allowed by a setting)."""


class WebhookTransport(Protocol):
    def check_destination(self, url: str) -> None:
        """Raise :class:`DestinationRefused` (its message says why) for a URL
        that :meth:`post` would refuse."""

    def post(self, url: str, headers: Mapping[str, str], body: bytes) -> TransportResult:
        """POST ``body``; never follows a redirect, never raises for a
        receiver's failure (it is in the result)."""
        ...

    def get(self, url: str) -> TransportResult:
        """GET ``url`` (the health check), likewise."""
        ...


@dataclass(frozen=True)
class SigningKey:
    """A merchant's webhook signing key (``/kms/egress/v2/keys-sym``)."""

    key_id: str
    secret: bytes = field(repr=False)


class SigningKeys(Protocol):
    def create(
        self,
        merchant_id: str,
        now: datetime,
        overlap: timedelta,
        lifetime: timedelta,
        client_reference_code: str | None = None,
    ) -> tuple[SigningKey, datetime]:
        """A new key (32 random bytes, stored sealed) and when it expires. It
        signs from ``now``, or, when the merchant has a key already, from
        ``now + overlap`` (the older key signs meanwhile)."""
        ...

    def current(self, merchant_id: str, now: datetime) -> SigningKey | None:
        """The key that signs at ``now``: the newest whose time has come."""
        ...


@dataclass(frozen=True)
class AttemptView:
    """One attempt of the delivery history, with the status its notification
    has now (None for a health check or a test, which have no notification)."""

    attempt: DeliveryAttempt
    notification_status: str | None


class WebhookSubscriptionStore(Protocol):
    """A merchant's webhook subscriptions and their delivery history. Every
    method is given the merchant: another merchant's rows do not exist for it.
    A deleted subscription (``deleted_at`` set) is never returned; its history
    and notifications stay."""

    def add(self, subscription: Subscription, checked_at: datetime | None) -> None: ...

    def get(self, merchant_id: str, subscription_id: str) -> Subscription | None: ...

    def list_all(self, merchant_id: str) -> list[Subscription]:
        """Oldest first."""
        ...

    def update(self, subscription: Subscription, checked_at: datetime | None) -> bool:
        """Write every field of ``subscription`` (its version already the new
        one); False when it is gone (deleted meanwhile)."""
        ...

    def release_held(self, merchant_id: str, subscription_id: str, now: datetime) -> int:
        """HELD notifications of the subscription become PENDING, due ``now``
        (it answers again); how many."""
        ...

    def delete(self, merchant_id: str, subscription_id: str, at: datetime) -> bool: ...

    def record_attempt(self, attempt: DeliveryAttempt) -> None: ...

    def attempts(
        self, merchant_id: str, subscription_id: str, offset: int, limit: int
    ) -> tuple[list[AttemptView], int]:
        """A page of the subscription's attempts, newest first, and how many there are."""
        ...

    def events_of_notifications(
        self, merchant_id: str, subscription_id: str, notification_ids: Sequence[str]
    ) -> list[str]:
        """The event ids of those of ``notification_ids`` that are the subscription's."""
        ...

    def events_by_status(
        self,
        merchant_id: str,
        subscription_id: str,
        statuses: Sequence[NotificationStatus],
        start: datetime,
        end: datetime,
        product_id: str | None,
        event_type: str | None,
    ) -> list[str]:
        """The event ids of the subscription's notifications in ``statuses``
        created from ``start`` to ``end`` (both included)."""
        ...

    def requeue(
        self, merchant_id: str, subscription_id: str, event_ids: Sequence[str], now: datetime
    ) -> list[str]:
        """One new PENDING notification (a replay) per event; their ids."""


# The dispatchers' queue (docs/webhooks.md, "Delivery"): what the outbox
# queued, claimed by one dispatcher at a time, and what came of each attempt.


@dataclass(frozen=True)
class DueNotification:
    """A notification a dispatcher has claimed, with what sending it needs:
    its event, and its subscription's URL and retry policy. ``attempts`` is
    how many sends were made before (the retry number of this one)."""

    id: str
    attempts: int
    replay: bool
    event: Event
    subscription_id: str
    webhook_url: str
    retry_policy: RetryPolicy

    @property
    def merchant_id(self) -> str:
        return self.event.merchant_id


@dataclass(frozen=True)
class Outcome:
    """Where a notification goes after an attempt: DELIVERED, RETRY (due
    again at ``next_attempt_at``), FAILED, or HELD (its subscription is
    SUSPENDED until the receiver answers a ping)."""

    status: NotificationStatus
    next_attempt_at: datetime | None = None


@dataclass(frozen=True)
class PingTarget:
    """A SUSPENDED subscription whose receiver is due to be pinged again."""

    subscription_id: str
    merchant_id: str
    url: str


class NotificationQueue(Protocol):
    """The notifications the outbox queued, shared by every dispatcher of
    the database. A claim lasts until ``real_now + lease`` (real time);
    ``now`` is the service clock, which schedules attempts and pings."""

    def claim(
        self, worker: str, now: datetime, real_now: datetime, lease: timedelta, limit: int
    ) -> list[DueNotification]:
        """At most ``limit`` PENDING or RETRY notifications due at ``now``, of
        ACTIVE subscriptions, that no other dispatcher holds; held by
        ``worker`` until ``real_now + lease``."""
        ...

    def record(
        self, worker: str, notification: DueNotification, outcome: Outcome, attempt: DeliveryAttempt
    ) -> bool:
        """Write ``attempt`` and ``outcome`` (one more attempt, the claim
        released) at once, if ``worker`` still holds the claim; whether it
        did (False: the lease ran out and another dispatcher took it, or the
        notification is gone; nothing is written)."""
        ...

    def claim_pings(self, now: datetime, interval: timedelta, limit: int) -> list[PingTarget]:
        """SUSPENDED subscriptions not pinged within ``interval`` before
        ``now`` (service clock), marked pinged at ``now``, so that no other
        dispatcher pings them too."""
        ...

    def record_ping(self, target: PingTarget, attempt: DeliveryAttempt) -> bool:
        """Write the ping ``attempt``; when it was answered (a status below
        500) and the subscription is still SUSPENDED, make it ACTIVE and its
        HELD notifications PENDING, due at ``attempt.at``. Whether it was
        made ACTIVE."""
        ...
