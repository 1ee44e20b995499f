"""Ports of TMS webhooks (docs/webhooks.md): the outbox a unit of work queues
events into, the transport that carries a notification to a receiver, and
the merchants' signing keys."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol

from opentms.domain.webhooks import (
    DeliveryAttempt,
    Event,
    NotificationStatus,
    RetryPolicy,
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
