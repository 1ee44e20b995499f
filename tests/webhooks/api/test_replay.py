"""Replays (``/nrtf/v1/webhooks/{webhookId}/replays``): new PENDING
notifications, flagged as replays, of the same events; by the trace ids of
earlier attempts or by delivery status."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select, update

from opentms.adapters.storage.tables import webhook_notifications
from opentms.adapters.storage.webhook_outbox import SQLOutbox
from opentms.bootstrap import Database
from opentms.domain.webhooks import Event, new_event_id
from tests.support import Merchant
from tests.webhooks.api.conftest import WEBHOOKS, Receiver, create_webhook

_notes = webhook_notifications.c


def replays(webhook_id: str) -> str:
    return f"/nrtf/v1/webhooks/{webhook_id}/replays"


def publish(
    database: Database, merchant_id: str, event_type: str = "tms.networktoken.updated"
) -> str:
    event_id = new_event_id()
    event = Event(
        id=event_id,
        merchant_id=merchant_id,
        event_type=event_type,
        payload={"data": {"id": event_id, "type": "tokenizedCardUpdates"}},
        created_at=datetime.now(UTC),
    )
    with database.engine.begin() as conn:
        assert SQLOutbox(conn, merchant_id).publish(event) >= 1
    return event_id


def notifications(database: Database, webhook_id: str) -> list[Any]:
    with database.engine.connect() as conn:
        return list(
            conn.execute(
                select(webhook_notifications)
                .where(_notes.subscription_id == webhook_id)
                .order_by(_notes.created_at, _notes.replay)
            )
        )


def set_status(database: Database, notification_id: str, status: str) -> None:
    with database.engine.begin() as conn:
        conn.execute(
            update(webhook_notifications)
            .where(_notes.id == notification_id)
            .values(status=status, attempts=4)
        )


@pytest.fixture
def webhook_id(client: httpx.Client, receiver: Receiver) -> str:
    created = create_webhook(client, receiver.url)
    return str(created["webhookId"])


def test_replay_by_trace_ids(
    client: httpx.Client, database: Database, merchant: Merchant, webhook_id: str
) -> None:
    first = publish(database, merchant.id)
    publish(database, merchant.id)
    original = next(n for n in notifications(database, webhook_id) if n.event_id == first)
    set_status(database, original.id, "DELIVERED")

    answer = client.post(
        replays(webhook_id),
        json={"byTransactionTraceIdentifiers": [f"{original.id}-0", f"{original.id}-3"]},
    )

    assert answer.status_code == 202, answer.text
    body = answer.json()
    assert body["replayed"] == 1
    [new_id] = body["notificationIds"]
    rows = {n.id: n for n in notifications(database, webhook_id)}
    replayed = rows[new_id]
    assert replayed.event_id == first
    assert replayed.replay is True
    assert replayed.status == "PENDING"
    assert replayed.attempts == 0
    assert rows[original.id].status == "DELIVERED"  # the original is untouched


def test_replay_by_delivery_status(
    client: httpx.Client, database: Database, merchant: Merchant, webhook_id: str
) -> None:
    failed_event = publish(database, merchant.id)
    retry_event = publish(database, merchant.id, "tms.networktoken.provisioned")
    publish(database, merchant.id)  # still pending: not replayed
    by_event = {n.event_id: n for n in notifications(database, webhook_id)}
    set_status(database, by_event[failed_event].id, "FAILED")
    set_status(database, by_event[retry_event].id, "RETRY")

    only_failed = client.post(
        replays(webhook_id), json={"byDeliveryStatus": {"status": "FAILED", "hoursBack": 1}}
    )
    assert only_failed.status_code == 202, only_failed.text
    assert only_failed.json()["replayed"] == 1

    filtered = client.post(
        replays(webhook_id),
        json={
            "byDeliveryStatus": {
                "status": "RETRY",
                "eventType": "tms.networktoken.updated",
                "productId": "tokenManagement",
            }
        },
    )
    assert filtered.json()["replayed"] == 0

    now = datetime.now(UTC)
    window = client.post(
        replays(webhook_id),
        json={
            "byDeliveryStatus": {
                "startTime": (now - timedelta(hours=1)).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3],
                "endTime": (now + timedelta(minutes=1)).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3],
            }
        },
    )
    assert window.status_code == 202, window.text
    assert window.json()["replayed"] == 2  # FAILED and RETRY by default

    replayed = [n for n in notifications(database, webhook_id) if n.replay]
    assert sorted(n.event_id for n in replayed) == sorted([failed_event, failed_event, retry_event])
    assert {n.status for n in replayed} == {"PENDING"}


def test_replay_of_a_deleted_webhook_is_not_found(
    client: httpx.Client, database: Database, merchant: Merchant, webhook_id: str
) -> None:
    publish(database, merchant.id)
    client.delete(f"{WEBHOOKS}/{webhook_id}")

    answer = client.post(replays(webhook_id), json={"byDeliveryStatus": {"status": "FAILED"}})

    assert answer.status_code == 404


def test_trace_ids_of_another_webhook_replay_nothing(
    client: httpx.Client,
    receiver: Receiver,
    database: Database,
    merchant: Merchant,
    webhook_id: str,
) -> None:
    other = create_webhook(client, receiver.url)["webhookId"]
    publish(database, merchant.id)
    [theirs] = [n for n in notifications(database, other) if not n.replay][:1]

    answer = client.post(
        replays(webhook_id), json={"byTransactionTraceIdentifiers": [f"{theirs.id}-0"]}
    )

    assert answer.json()["replayed"] == 0


@pytest.mark.parametrize(
    ("body", "status"),
    [
        pytest.param({}, 400, id="neither"),
        pytest.param(
            {"byTransactionTraceIdentifiers": ["A-0"], "byDeliveryStatus": {}}, 400, id="both"
        ),
        pytest.param({"byDeliveryStatus": {"status": "DELIVERED"}}, 400, id="status"),
        pytest.param({"byDeliveryStatus": {"hoursBack": 0}}, 400, id="hours-back"),
        pytest.param({"byDeliveryStatus": {"startTime": "2026-01-01"}}, 400, id="start-only"),
        pytest.param(
            {"byDeliveryStatus": {"startTime": "yesterday", "endTime": "today"}}, 400, id="dates"
        ),
        pytest.param(
            {
                "byDeliveryStatus": {
                    "startTime": "2026-12-01 00:00:00",
                    "endTime": "2026-12-03 00:00:00",
                }
            },
            400,
            id="window-over-24h",
        ),
        pytest.param({"byTransactionTraceIdentifiers": []}, 400, id="no-trace-ids"),
        pytest.param({"byTransactionTraceIdentifiers": "A-0"}, 400, id="trace-ids-string"),
    ],
)
def test_invalid_replays(
    client: httpx.Client, webhook_id: str, body: dict[str, Any], status: int
) -> None:
    answer = client.post(replays(webhook_id), json=body)

    assert answer.status_code == status, answer.text
    assert answer.json()["errors"][0]["details"]
