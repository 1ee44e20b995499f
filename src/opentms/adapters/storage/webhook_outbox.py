"""The outbox of TMS webhooks over SQL (docs/webhooks.md, "Delivery"): an
event and its notifications are inserted on the unit of work's own
connection, so they commit with the change that caused them or not at all."""

from __future__ import annotations

from datetime import datetime

import orjson
from sqlalchemy import Connection, insert, select

from opentms.adapters.storage.tables import (
    webhook_events,
    webhook_notifications,
    webhook_subscriptions,
)
from opentms.domain.ids import new_token_id
from opentms.domain.webhooks import Event, NotificationStatus, SubscriptionStatus

_subs = webhook_subscriptions.c


def new_notification_id() -> str:
    return new_token_id("webhook notification id")


class SQLOutbox:
    """:class:`~opentms.domain.ports.Outbox` of one unit of work. ``published``
    counts the notifications queued, so the unit of work can wake the
    dispatcher once it has committed."""

    def __init__(self, conn: Connection, merchant_id: str) -> None:
        self._conn = conn
        self._merchant_id = merchant_id
        self.published = 0

    def publish(self, event: Event) -> int:
        if event.merchant_id != self._merchant_id:
            raise ValueError("An event is published in its own merchant's unit of work.")
        targets = [
            row.id
            for row in self._conn.execute(
                select(_subs.id, _subs.products).where(
                    _subs.merchant_id == self._merchant_id,
                    _subs.deleted_at.is_(None),
                    _subs.status != SubscriptionStatus.INACTIVE.value,
                )
            )
            if _wants(row.products, event.product_id, event.event_type)
        ]
        if not targets:
            return 0
        self._conn.execute(
            insert(webhook_events),
            {
                "id": event.id,
                "merchant_id": event.merchant_id,
                "product_id": event.product_id,
                "event_type": event.event_type,
                "payload": orjson.dumps(event.payload).decode(),
                "created_at": event.created_at,
            },
        )
        self._conn.execute(
            insert(webhook_notifications),
            [_pending(event, subscription_id, event.created_at) for subscription_id in targets],
        )
        self.published += len(targets)
        return len(targets)


def _wants(products_json: str, product_id: str, event_type: str) -> bool:
    return any(
        product.get("productId") == product_id and event_type in product.get("eventTypes", ())
        for product in orjson.loads(products_json)
    )


def _pending(event: Event, subscription_id: str, now: datetime) -> dict[str, object]:
    return {
        "id": new_notification_id(),
        "event_id": event.id,
        "subscription_id": subscription_id,
        "merchant_id": event.merchant_id,
        "status": NotificationStatus.PENDING.value,
        "attempts": 0,
        "replay": False,
        "next_attempt_at": now,
        "created_at": now,
        "updated_at": now,
    }
