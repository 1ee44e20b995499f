"""The dispatchers' queue of TMS webhooks over SQL (docs/webhooks.md,
"Delivery"). Any number of dispatchers, in any number of processes, share it:

- a claim takes due notifications for a while (``claimed_by``,
  ``claimed_until``, real time) in one short transaction. PostgreSQL: ``SELECT
  ... FOR UPDATE SKIP LOCKED``, so claimers never wait for each other nor take
  the same row; SQLite: the write transaction (BEGIN IMMEDIATE behind the
  write gate) lets one claimer in at a time.
- an outcome is written with its attempt in one transaction, only while the
  claim is still the recorder's: a dispatcher whose lease ran out (and whose
  notification another one took) records nothing.

A dispatcher that dies holding claims loses them when they expire; the
notifications are then sent again (at least once; the event id,
``payload.data.id``, is the same every time)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import orjson
from sqlalchemy import Connection, Engine, Select, and_, insert, or_, select, update

from opentms.adapters.storage.database import _Transaction
from opentms.adapters.storage.tables import (
    webhook_attempts,
    webhook_events,
    webhook_notifications,
    webhook_subscriptions,
)
from opentms.domain.ports.webhooks import DueNotification, Outcome, PingTarget
from opentms.domain.webhooks import (
    DeliveryAttempt,
    Event,
    NotificationStatus,
    RetryPolicy,
    SubscriptionStatus,
)

_n = webhook_notifications.c
_e = webhook_events.c
_s = webhook_subscriptions.c

_WAITING = (NotificationStatus.PENDING.value, NotificationStatus.RETRY.value)


class _Write(_Transaction):
    """One write transaction (behind SQLite's write gate; on a sandbox's
    PostgreSQL, apart from resets and restores), rolled back unless committed."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def __enter__(self) -> Connection:
        return self._open(self._engine)


class SQLNotificationQueue:
    """:class:`~opentms.domain.ports.webhooks.NotificationQueue` of one engine."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def claim(
        self, worker: str, now: datetime, real_now: datetime, lease: timedelta, limit: int
    ) -> list[DueNotification]:
        due = (
            _n.status.in_(_WAITING),
            _n.next_attempt_at <= now,
            or_(_n.claimed_until.is_(None), _n.claimed_until < real_now),
            _s.status == SubscriptionStatus.ACTIVE.value,
            _s.deleted_at.is_(None),
        )
        if not self._any(
            select(_n.id)
            .select_from(webhook_notifications.join(webhook_subscriptions))
            .where(*due)
            .limit(1)
        ):
            return []
        query = (
            select(
                _n.id,
                _n.attempts,
                _n.replay,
                _n.subscription_id,
                _e.id.label("event_id"),
                _e.merchant_id,
                _e.product_id,
                _e.event_type,
                _e.payload,
                _e.created_at,
                _s.webhook_url,
                _s.retry_policy,
            )
            .select_from(
                webhook_notifications.join(webhook_events, _e.id == _n.event_id).join(
                    webhook_subscriptions, _s.id == _n.subscription_id
                )
            )
            .where(*due)
            .order_by(_n.next_attempt_at, _n.id)
            .limit(limit)
            # PostgreSQL: rows another claimer has locked are passed over, not
            # waited for (SQLite ignores this: its claimers take turns).
            .with_for_update(of=webhook_notifications, skip_locked=True)
        )
        transaction = _Write(self._engine)
        with transaction as conn:
            rows = conn.execute(query).all()
            if rows:
                conn.execute(
                    update(webhook_notifications)
                    .where(_n.id.in_([row.id for row in rows]))
                    .values(claimed_by=worker, claimed_until=real_now + lease)
                )
            transaction.commit()
        return [_due(row) for row in rows]

    def _any(self, query: Select[Any]) -> bool:
        """Whether ``query`` finds a row, read outside any write transaction:
        an idle round never takes SQLite's write lock."""
        with self._engine.connect() as conn:
            return conn.execute(query).first() is not None

    def record(
        self, worker: str, notification: DueNotification, outcome: Outcome, attempt: DeliveryAttempt
    ) -> bool:
        values: dict[str, Any] = {
            "status": outcome.status.value,
            "attempts": _n.attempts + 1,
            "claimed_by": None,
            "claimed_until": None,
            "updated_at": attempt.at,
        }
        if outcome.next_attempt_at is not None:
            values["next_attempt_at"] = outcome.next_attempt_at
        if outcome.status is NotificationStatus.DELIVERED:
            values["delivered_at"] = attempt.at
        transaction = _Write(self._engine)
        with transaction as conn:
            changed = conn.execute(
                update(webhook_notifications)
                .where(_n.id == notification.id, _n.claimed_by == worker)
                .values(**values)
            ).rowcount
            if changed != 1:
                return False
            conn.execute(insert(webhook_attempts), attempt_row(attempt))
            if outcome.status is NotificationStatus.HELD:
                conn.execute(
                    update(webhook_subscriptions)
                    .where(
                        _s.id == notification.subscription_id,
                        _s.status == SubscriptionStatus.ACTIVE.value,
                    )
                    .values(status=SubscriptionStatus.SUSPENDED.value, checked_at=attempt.at)
                )
            transaction.commit()
        return True

    def claim_pings(self, now: datetime, interval: timedelta, limit: int) -> list[PingTarget]:
        due = and_(
            _s.status == SubscriptionStatus.SUSPENDED.value,
            _s.deleted_at.is_(None),
            or_(_s.checked_at.is_(None), _s.checked_at <= now - interval),
        )
        if not self._any(select(_s.id).where(due).limit(1)):
            return []
        transaction = _Write(self._engine)
        with transaction as conn:
            rows = conn.execute(
                select(_s.id, _s.merchant_id, _s.webhook_url, _s.health_check_url)
                .where(due)
                .order_by(_s.checked_at, _s.id)
                .limit(limit)
                .with_for_update(skip_locked=True)
            ).all()
            if rows:
                conn.execute(
                    update(webhook_subscriptions)
                    .where(_s.id.in_([row.id for row in rows]), due)
                    .values(checked_at=now)
                )
            transaction.commit()
        return [
            PingTarget(row.id, row.merchant_id, row.health_check_url or row.webhook_url)
            for row in rows
        ]

    def record_ping(self, target: PingTarget, attempt: DeliveryAttempt) -> bool:
        answered = attempt.answered
        transaction = _Write(self._engine)
        with transaction as conn:
            exists = conn.execute(select(_s.id).where(_s.id == target.subscription_id)).first()
            if exists is None:  # gone (a sandbox reset)
                return False
            conn.execute(insert(webhook_attempts), attempt_row(attempt))
            activated = False
            if answered:
                activated = (
                    conn.execute(
                        update(webhook_subscriptions)
                        .where(
                            _s.id == target.subscription_id,
                            _s.status == SubscriptionStatus.SUSPENDED.value,
                            _s.deleted_at.is_(None),
                        )
                        .values(status=SubscriptionStatus.ACTIVE.value, checked_at=attempt.at)
                    ).rowcount
                    == 1
                )
            if activated:
                conn.execute(
                    update(webhook_notifications)
                    .where(
                        _n.subscription_id == target.subscription_id,
                        _n.status == NotificationStatus.HELD.value,
                    )
                    .values(
                        status=NotificationStatus.PENDING.value,
                        next_attempt_at=attempt.at,
                        updated_at=attempt.at,
                    )
                )
            transaction.commit()
        return activated


def _due(row: Any) -> DueNotification:
    event = Event(
        id=row.event_id,
        merchant_id=row.merchant_id,
        event_type=row.event_type,
        payload=orjson.loads(row.payload),
        created_at=row.created_at,
        product_id=row.product_id,
    )
    return DueNotification(
        id=row.id,
        attempts=row.attempts,
        replay=bool(row.replay),
        event=event,
        subscription_id=row.subscription_id,
        webhook_url=row.webhook_url,
        retry_policy=stored_policy(row.retry_policy),
    )


def stored_policy(stored: str) -> RetryPolicy:
    """A subscription's retry policy from its JSON column (RetryPolicy's
    fields, as the subscription store writes them)."""
    try:
        return RetryPolicy(**orjson.loads(stored))
    except (ValueError, TypeError):
        # Not what the API stores; the default policy rather than a stuck queue.
        return RetryPolicy()


def attempt_row(attempt: DeliveryAttempt) -> dict[str, object]:
    """A ``webhook_attempts`` row (the queue's and the subscription store's)."""
    return {
        "notification_id": attempt.notification_id,
        "subscription_id": attempt.subscription_id,
        "merchant_id": attempt.merchant_id,
        "attempt": attempt.attempt,
        "kind": attempt.kind,
        "transaction_trace_id": attempt.transaction_trace_id,
        "at": attempt.at,
        "status_code": attempt.status_code,
        "latency_ms": attempt.latency_ms,
        "error": attempt.error,
        "response": attempt.response or None,
    }
