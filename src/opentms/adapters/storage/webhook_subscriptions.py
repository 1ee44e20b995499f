"""Webhook subscriptions and their delivery history over SQL
(docs/webhooks.md). Every statement is filtered by the merchant: another
merchant's subscriptions, notifications and attempts do not exist for it."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import Engine, Row, func, insert, select, update

from opentms.adapters.storage.tables import (
    webhook_attempts,
    webhook_events,
    webhook_notifications,
    webhook_subscriptions,
)
from opentms.adapters.storage.webhook_outbox import new_notification_id
from opentms.adapters.storage.webhook_queue import attempt_row, stored_policy
from opentms.domain.ports.webhooks import AttemptView
from opentms.domain.webhooks import (
    DeliveryAttempt,
    NotificationStatus,
    ProductEvents,
    Subscription,
    SubscriptionStatus,
)

_subs = webhook_subscriptions.c
_notes = webhook_notifications.c
_tries = webhook_attempts.c


def _json(value: Any) -> str:
    return orjson.dumps(value).decode()


def _columns(subscription: Subscription) -> dict[str, Any]:
    return {
        "api_version": subscription.api_version,
        "name": subscription.name,
        "description": subscription.description,
        "products": _json(
            [
                {"productId": p.product_id, "eventTypes": list(p.event_types)}
                for p in subscription.products
            ]
        ),
        "webhook_url": subscription.webhook_url,
        "health_check_url": subscription.health_check_url,
        "status": subscription.status.value,
        # As RetryPolicy's fields, snake_case: RetryPolicy(**json) reads it back.
        "retry_policy": _json(dataclasses.asdict(subscription.retry_policy)),
        "notification_scope": _json(subscription.notification_scope),
        "security_policy": _json(dict(subscription.security_policy)),
        "created_at": subscription.created_at,
        "updated_at": subscription.updated_at,
        "version": subscription.version,
    }


def _subscription(row: Row[Any]) -> Subscription:
    return Subscription(
        id=row.id,
        merchant_id=row.merchant_id,
        api_version=row.api_version,
        name=row.name,
        description=row.description,
        products=tuple(
            ProductEvents(p["productId"], tuple(p["eventTypes"]))
            for p in orjson.loads(row.products)
        ),
        webhook_url=row.webhook_url,
        health_check_url=row.health_check_url,
        status=SubscriptionStatus(row.status),
        retry_policy=stored_policy(row.retry_policy),
        notification_scope=orjson.loads(row.notification_scope),
        security_policy=orjson.loads(row.security_policy),
        created_at=row.created_at,
        updated_at=row.updated_at,
        version=row.version,
    )


class SQLWebhookSubscriptionStore:
    """:class:`~opentms.domain.ports.webhooks.WebhookSubscriptionStore` of one engine."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def _live(self, merchant_id: str) -> Any:
        return select(webhook_subscriptions).where(
            _subs.merchant_id == merchant_id, _subs.deleted_at.is_(None)
        )

    def add(self, subscription: Subscription, checked_at: datetime | None) -> None:
        with self._engine.begin() as conn:
            conn.execute(
                insert(webhook_subscriptions),
                {
                    "id": subscription.id,
                    "merchant_id": subscription.merchant_id,
                    "checked_at": checked_at,
                    "deleted_at": None,
                    **_columns(subscription),
                },
            )

    def get(self, merchant_id: str, subscription_id: str) -> Subscription | None:
        with self._engine.connect() as conn:
            row = conn.execute(self._live(merchant_id).where(_subs.id == subscription_id)).first()
        return None if row is None else _subscription(row)

    def list_all(self, merchant_id: str) -> list[Subscription]:
        with self._engine.connect() as conn:
            rows = conn.execute(self._live(merchant_id).order_by(_subs.created_at, _subs.id))
            return [_subscription(row) for row in rows]

    def update(self, subscription: Subscription, checked_at: datetime | None) -> bool:
        values = _columns(subscription)
        if checked_at is not None:
            values["checked_at"] = checked_at
        with self._engine.begin() as conn:
            result = conn.execute(
                update(webhook_subscriptions)
                .where(
                    _subs.merchant_id == subscription.merchant_id,
                    _subs.id == subscription.id,
                    _subs.deleted_at.is_(None),
                )
                .values(values)
            )
        return result.rowcount == 1

    def release_held(self, merchant_id: str, subscription_id: str, now: datetime) -> int:
        with self._engine.begin() as conn:
            result = conn.execute(
                update(webhook_notifications)
                .where(
                    _notes.merchant_id == merchant_id,
                    _notes.subscription_id == subscription_id,
                    _notes.status == NotificationStatus.HELD.value,
                )
                .values(
                    status=NotificationStatus.PENDING.value, next_attempt_at=now, updated_at=now
                )
            )
        return int(result.rowcount)

    def delete(self, merchant_id: str, subscription_id: str, at: datetime) -> bool:
        with self._engine.begin() as conn:
            result = conn.execute(
                update(webhook_subscriptions)
                .where(
                    _subs.merchant_id == merchant_id,
                    _subs.id == subscription_id,
                    _subs.deleted_at.is_(None),
                )
                .values(deleted_at=at, updated_at=at, version=_subs.version + 1)
            )
        return result.rowcount == 1

    def record_attempt(self, attempt: DeliveryAttempt) -> None:
        with self._engine.begin() as conn:
            conn.execute(insert(webhook_attempts), attempt_row(attempt))

    def attempts(
        self, merchant_id: str, subscription_id: str, offset: int, limit: int
    ) -> tuple[list[AttemptView], int]:
        where = (_tries.merchant_id == merchant_id, _tries.subscription_id == subscription_id)
        query = (
            select(webhook_attempts, _notes.status.label("notification_status"))
            .outerjoin(
                webhook_notifications,
                (_notes.id == _tries.notification_id) & (_notes.merchant_id == merchant_id),
            )
            .where(*where)
            .order_by(_tries.at.desc(), _tries.id.desc())
            .offset(offset)
            .limit(limit)
        )
        with self._engine.connect() as conn:
            total = conn.execute(select(func.count()).select_from(webhook_attempts).where(*where))
            rows = conn.execute(query).all()
            count = int(total.scalar_one())
        return [_attempt(row) for row in rows], count

    def events_of_notifications(
        self, merchant_id: str, subscription_id: str, notification_ids: Sequence[str]
    ) -> list[str]:
        if not notification_ids:
            return []
        with self._engine.connect() as conn:
            rows = conn.execute(
                select(_notes.event_id)
                .where(
                    _notes.merchant_id == merchant_id,
                    _notes.subscription_id == subscription_id,
                    _notes.id.in_(list(notification_ids)),
                )
                .order_by(_notes.created_at, _notes.id)
            )
            return _unique(row.event_id for row in rows)

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
        events = webhook_events.c
        query = (
            select(_notes.event_id)
            .join(webhook_events, events.id == _notes.event_id)
            .where(
                _notes.merchant_id == merchant_id,
                _notes.subscription_id == subscription_id,
                events.merchant_id == merchant_id,
                _notes.status.in_([s.value for s in statuses]),
                _notes.created_at >= start,
                _notes.created_at <= end,
            )
            .order_by(_notes.created_at, _notes.id)
        )
        if product_id is not None:
            query = query.where(events.product_id == product_id)
        if event_type is not None:
            query = query.where(events.event_type == event_type)
        with self._engine.connect() as conn:
            return _unique(row.event_id for row in conn.execute(query))

    def requeue(
        self, merchant_id: str, subscription_id: str, event_ids: Sequence[str], now: datetime
    ) -> list[str]:
        rows = [
            {
                "id": new_notification_id(),
                "event_id": event_id,
                "subscription_id": subscription_id,
                "merchant_id": merchant_id,
                "status": NotificationStatus.PENDING.value,
                "attempts": 0,
                "replay": True,
                "next_attempt_at": now,
                "created_at": now,
                "updated_at": now,
            }
            for event_id in event_ids
        ]
        if rows:
            with self._engine.begin() as conn:
                conn.execute(insert(webhook_notifications), rows)
        return [str(row["id"]) for row in rows]


def _unique(values: Any) -> list[str]:
    return list(dict.fromkeys(values))


def _attempt(row: Row[Any]) -> AttemptView:
    return AttemptView(
        DeliveryAttempt(
            notification_id=row.notification_id,
            subscription_id=row.subscription_id,
            merchant_id=row.merchant_id,
            attempt=row.attempt,
            kind=row.kind,
            transaction_trace_id=row.transaction_trace_id,
            at=row.at,
            status_code=row.status_code,
            latency_ms=row.latency_ms,
            error=row.error,
            response=bytes(row.response or b""),
        ),
        row.notification_status,
    )
