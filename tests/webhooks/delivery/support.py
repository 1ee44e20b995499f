"""Storage-level set-up for the delivery tests: subscriptions inserted as
rows (the subscription API is built beside this), events published through a
unit of work's outbox, signing keys, a settable clock, and what the queue
and the delivery history hold."""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import hmac
import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

import orjson
from sqlalchemy import Engine, insert, select, update

from opentms.adapters.storage.tables import (
    webhook_attempts,
    webhook_notifications,
    webhook_subscriptions,
)
from opentms.adapters.storage.webhook_keys import SQLSigningKeys
from opentms.bootstrap import Database, Ports, Services, build_services, sql_ports
from opentms.domain.ports import SigningKey
from opentms.domain.webhooks import (
    PRODUCT_ID,
    Event,
    EventType,
    RetryPolicy,
    SubscriptionStatus,
    new_event_id,
)

ALL_EVENTS = tuple(e.value for e in EventType)


class FakeClock:
    """A clock that moves only when told (UTC)."""

    def __init__(self, start: datetime | None = None) -> None:
        self.moment = start or datetime(2026, 12, 1, 12, 0, tzinfo=UTC)

    def now(self) -> datetime:
        return self.moment

    def advance(self, **delta: float) -> None:
        self.moment += timedelta(**delta)


def insert_subscription(
    engine: Engine,
    merchant_id: str,
    url: str,
    *,
    policy: RetryPolicy | None = None,
    status: SubscriptionStatus = SubscriptionStatus.ACTIVE,
    health_check_url: str | None = None,
    event_types: tuple[str, ...] = ALL_EVENTS,
    created_at: datetime | None = None,
) -> str:
    """A subscription row as the API would write it; its id."""
    subscription_id = str(uuid.uuid4())
    now = created_at or datetime.now(UTC)
    with engine.begin() as conn:
        conn.execute(
            insert(webhook_subscriptions),
            {
                "id": subscription_id,
                "merchant_id": merchant_id,
                "api_version": 2,
                "name": "delivery test",
                "description": None,
                "products": orjson.dumps(
                    [{"productId": PRODUCT_ID, "eventTypes": list(event_types)}]
                ).decode(),
                "webhook_url": url,
                "health_check_url": health_check_url,
                "status": status.value,
                "retry_policy": orjson.dumps(dataclasses.asdict(policy or RetryPolicy())).decode(),
                "notification_scope": '"SELF"',
                "security_policy": '{"securityType":"KEY","proxyType":"external"}',
                "created_at": now,
                "updated_at": None,
                "checked_at": now,
                "deleted_at": None,
                "version": 1,
            },
        )
    return subscription_id


def set_subscription(engine: Engine, subscription_id: str, **values: Any) -> None:
    with engine.begin() as conn:
        conn.execute(
            update(webhook_subscriptions)
            .where(webhook_subscriptions.c.id == subscription_id)
            .values(**values)
        )


def make_event(merchant_id: str, created_at: datetime, n: int = 0) -> Event:
    event_id = new_event_id()
    return Event(
        id=event_id,
        merchant_id=merchant_id,
        event_type=EventType.NETWORK_TOKEN_UPDATED.value,
        payload={
            "data": {
                "reason": "TOKEN_STATUS_UPDATED",
                "id": event_id,
                "type": "tokenizedCardUpdates",
                "version": "1.0",
                "_links": {
                    "tokenized-cards": [
                        {
                            "href": f"/tms/v2/tokenized-cards/{n:032X}",
                            "id": f"{n:032X}",
                            "state": "SUSPENDED",
                        }
                    ]
                },
            },
            "organizationId": merchant_id,
        },
        created_at=created_at,
    )


@dataclass
class Vault:
    """A database opened in the test process, its ports and services, and
    one merchant: what the tests publish events and read rows with."""

    database: Database
    ports: Ports
    services: Services
    merchant_id: str
    clock: Any
    events: list[Event] = field(default_factory=list)

    @classmethod
    def open(cls, database: Database, clock: Any, merchant_id: str = "wh_merchant") -> Vault:
        ports = sql_ports(database, clock)
        services = build_services(database.settings, clock, database=database, ports=ports)
        if merchant_id not in services.merchants.list_merchants():
            services.merchants.register(merchant_id)
        return cls(database, ports, services, merchant_id, clock)

    @property
    def engine(self) -> Engine:
        return self.database.engine

    def subscribe(self, url: str, **options: Any) -> str:
        options.setdefault("created_at", self.clock.now())
        return insert_subscription(self.engine, self.merchant_id, url, **options)

    def signing_keys(self) -> SQLSigningKeys:
        store, keyring = self.ports.merchant_store, self.ports.keyring

        def merchant_keys(merchant_id: str) -> Any:
            merchant = store.find_merchant(merchant_id)
            assert merchant is not None
            return keyring.open(merchant.id, merchant.wrapped_keys)

        return SQLSigningKeys(self.engine, partial(merchant_keys))

    def create_key(self) -> SigningKey:
        key, _ = self.signing_keys().create(
            self.merchant_id, self.clock.now(), timedelta(hours=1), timedelta(days=365)
        )
        return key

    def publish(self, count: int = 1) -> list[Event]:
        """``count`` events, committed in one unit of work; each queued for
        every subscription that wants it."""
        keys = self.services.merchants.tenant(self.merchant_id, None).keys
        events = [make_event(self.merchant_id, self.clock.now(), n) for n in range(count)]
        with self.ports.unit_of_work(keys, False) as uow:
            for event in events:
                uow.outbox.publish(event)
            uow.commit()
        self.events += events
        return events

    def notifications(self) -> list[Any]:
        n = webhook_notifications.c
        with self.engine.connect() as conn:
            return list(conn.execute(select(webhook_notifications).order_by(n.created_at, n.id)))

    def notification(self, notification_id: str | None = None) -> Any:
        rows = self.notifications()
        if notification_id is None:
            assert len(rows) == 1, rows
            return rows[0]
        return next(r for r in rows if r.id == notification_id)

    def attempts(self, kind: str | None = None) -> list[Any]:
        a = webhook_attempts.c
        query = select(webhook_attempts).order_by(a.id)
        if kind is not None:
            query = query.where(a.kind == kind)
        with self.engine.connect() as conn:
            return list(conn.execute(query))

    def subscription(self, subscription_id: str) -> Any:
        with self.engine.connect() as conn:
            return conn.execute(
                select(webhook_subscriptions).where(webhook_subscriptions.c.id == subscription_id)
            ).one()

    def close(self) -> None:
        self.services.close()


def verify_signature(
    headers: Mapping[str, str], body: bytes, key: SigningKey, signed: str = "payload"
) -> None:
    """Check ``v-c-signature`` as a receiver would, independently of the
    server's code: t + "." + the payload member's compact JSON (or the body)."""
    fields = dict(part.split("=", 1) for part in headers["v-c-signature"].split(";"))
    assert fields["keyId"] == key.key_id
    if signed == "payload":
        # As JSON.stringify writes it: no spaces, members in order.
        payload = json.loads(body)["payload"]
        content = json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()
    else:
        content = body
    message = fields["t"].encode() + b"." + content
    expected = base64.b64encode(hmac.new(key.secret, message, hashlib.sha256).digest()).decode()
    assert hmac.compare_digest(fields["sig"], expected), "v-c-signature does not verify"
