"""The subscription API through HTTP: v2 and v1 create, list, retrieve,
update, status and delete, the products, and the health check that decides
ACTIVE or SUSPENDED against a real receiver."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import orjson
from sqlalchemy import insert, select, update

from opentms.adapters.storage.tables import webhook_attempts, webhook_notifications
from opentms.adapters.storage.webhook_outbox import SQLOutbox
from opentms.bootstrap import Database, Services
from opentms.domain.webhooks import Event, new_event_id
from tests.support import Merchant
from tests.webhooks.api.conftest import (
    WEBHOOKS,
    WEBHOOKS_V1,
    Receiver,
    create_webhook,
    webhook_body,
)

V1_BODY = {
    "name": "v1 hook",
    "description": "TMS guide shape",
    "productId": "tokenManagement",
    "eventTypes": ["tms.networktoken.provisioned"],
    "notificationScope": "SELF",
    "retryPolicy": {"algorithm": "GEOMETRIC", "firstRetry": 2, "interval": 3},
    "securityPolicy": {"securityType": "KEY", "proxyType": "external"},
}


def test_create_v2_pings_the_receiver_and_answers_the_webhook(
    client: httpx.Client, receiver: Receiver, merchant: Merchant
) -> None:
    created = create_webhook(client, receiver.url)

    assert created["status"] == "ACTIVE"
    assert created["organizationId"] == merchant.id
    assert created["products"] == [
        {
            "productId": "tokenManagement",
            "eventTypes": ["tms.networktoken.provisioned", "tms.networktoken.updated"],
        }
    ]
    assert created["webhookUrl"] == receiver.url
    assert created["retryPolicy"]["deactivateFlag"] == "false"
    assert created["notificationScope"] == "SELF"
    assert created["createdOn"].endswith("Z")
    assert "productId" not in created  # the flat fields are v1's
    assert [(r.method, r.path) for r in receiver.requests] == [("GET", "/hook")]


def test_health_check_url_is_pinged_instead_of_the_webhook_url(
    client: httpx.Client, receiver: Receiver
) -> None:
    create_webhook(client, receiver.url, healthCheckUrl=receiver.url.replace("/hook", "/health"))

    assert [(r.method, r.path) for r in receiver.requests] == [("GET", "/health")]


def test_create_without_an_answer_is_suspended(client: httpx.Client, dead_url: str) -> None:
    created = create_webhook(client, dead_url)

    assert created["status"] == "SUSPENDED"


def test_a_server_error_of_the_receiver_is_no_answer(
    client: httpx.Client, receiver: Receiver
) -> None:
    receiver.status = 503
    assert create_webhook(client, receiver.url)["status"] == "SUSPENDED"
    receiver.status = 404  # below 500: it answered
    assert create_webhook(client, receiver.url)["status"] == "ACTIVE"


def test_retry_policy_defaults(client: httpx.Client, receiver: Receiver) -> None:
    body = webhook_body(receiver.url)
    del body["retryPolicy"]
    answer = client.post(WEBHOOKS, json=body)

    assert answer.status_code == 201
    assert answer.json()["retryPolicy"] == {
        "algorithm": "ARITHMETIC",
        "firstRetry": 1,
        "interval": 1,
        "numberOfRetries": 3,
        "deactivateFlag": "false",
        "repeatSequenceCount": 0,
        "repeatSequenceWaitTime": 0,
    }


def test_create_v1_answers_the_flat_fields(client: httpx.Client, receiver: Receiver) -> None:
    answer = client.post(WEBHOOKS_V1, json={**V1_BODY, "webhookUrl": receiver.url})

    assert answer.status_code == 201, answer.text
    created = answer.json()
    assert created["productId"] == "tokenManagement"
    assert created["eventTypes"] == ["tms.networktoken.provisioned"]
    assert created["retryPolicy"]["algorithm"] == "GEOMETRIC"
    assert created["retryPolicy"]["firstRetry"] == 2
    assert created["retryPolicy"]["numberOfRetries"] == 3
    assert created["securityPolicy"] == {"securityType": "KEY", "proxyType": "external"}
    fetched = client.get(f"{WEBHOOKS_V1}/{created['webhookId']}").json()
    assert fetched["eventTypes"] == ["tms.networktoken.provisioned"]
    # The same webhook through v2.
    assert client.get(f"{WEBHOOKS}/{created['webhookId']}").json()["products"] == [
        {"productId": "tokenManagement", "eventTypes": ["tms.networktoken.provisioned"]}
    ]


def test_organization_id_of_the_merchant_is_accepted(
    client: httpx.Client, receiver: Receiver, merchant: Merchant
) -> None:
    answer = client.post(WEBHOOKS, json=webhook_body(receiver.url, organizationId=merchant.id))

    assert answer.status_code == 201


def test_another_organization_id_in_a_body_is_refused(
    client: httpx.Client, receiver: Receiver, other_merchant: Merchant
) -> None:
    answer = client.post(
        WEBHOOKS, json=webhook_body(receiver.url, organizationId=other_merchant.id)
    )

    assert answer.status_code == 400
    assert answer.json()["errors"][0]["details"] == [{"name": "organizationId", "location": "body"}]


def test_retrieve_and_list(client: httpx.Client, receiver: Receiver, merchant: Merchant) -> None:
    first = create_webhook(client, receiver.url)
    second = create_webhook(
        client,
        receiver.url,
        products=[{"productId": "tokenManagement", "eventTypes": ["tms.token.created"]}],
    )

    assert client.get(f"{WEBHOOKS}/{first['webhookId']}").json() == first
    listed = client.get(WEBHOOKS, params={"organizationId": merchant.id}).json()
    ids = [w["webhookId"] for w in listed]
    assert first["webhookId"] in ids
    assert second["webhookId"] in ids
    by_event = client.get(
        WEBHOOKS, params={"organizationId": merchant.id, "eventType": "tms.token.created"}
    ).json()
    assert second["webhookId"] in [w["webhookId"] for w in by_event]
    assert first["webhookId"] not in [w["webhookId"] for w in by_event]
    by_product = client.get(
        WEBHOOKS, params={"organizationId": merchant.id, "productId": "somethingElse"}
    ).json()
    assert by_product == []
    v1 = client.get(WEBHOOKS_V1, params={"organizationId": merchant.id}).json()
    assert first["webhookId"] in [w["webhookId"] for w in v1]


def test_products(client: httpx.Client, merchant: Merchant, other_merchant: Merchant) -> None:
    for version in ("v1", "v2"):
        answer = client.get(
            f"/notification-subscriptions/{version}/products/{merchant.id}",
            headers={"accept": "application/hal+json;charset=utf-8"},
        )
        assert answer.status_code == 200
        [product] = answer.json()
        assert product["productId"] == "tokenManagement"
        names = [e["eventName"] for e in product["eventTypes"]]
        assert "tms.networktoken.provisioned" in names
        assert "tms.networktoken.updated" in names
    other = client.get(f"/notification-subscriptions/v2/products/{other_merchant.id}")
    assert other.status_code == 404
    assert other.json()["errors"][0]["type"] == "notFound"


def test_patch_v2_is_partial_and_pings_again(client: httpx.Client, receiver: Receiver) -> None:
    created = create_webhook(client, receiver.url)
    url = f"{WEBHOOKS}/{created['webhookId']}"

    answer = client.patch(url, json={"name": "renamed"})

    assert answer.status_code == 200, answer.text
    updated = answer.json()
    assert updated["name"] == "renamed"
    assert updated["description"] == created["description"]
    assert updated["products"] == created["products"]
    assert "updatedOn" in updated
    assert [r.method for r in receiver.requests] == ["GET", "GET"]
    receiver.status = 500
    answer = client.patch(
        url,
        json={
            "products": [{"productId": "tokenManagement", "eventTypes": ["tms.token.updated"]}],
            "retryPolicy": {"numberOfRetries": 5, "deactivateFlag": True},
        },
    )
    assert answer.status_code == 200, answer.text
    updated = answer.json()
    assert updated["status"] == "SUSPENDED"
    assert updated["products"][0]["eventTypes"] == ["tms.token.updated"]
    assert updated["retryPolicy"]["numberOfRetries"] == 5
    assert updated["retryPolicy"]["deactivateFlag"] == "true"
    assert updated["retryPolicy"]["firstRetry"] == 1
    assert client.get(url).json()["status"] == "SUSPENDED"


def test_patch_v1(client: httpx.Client, receiver: Receiver) -> None:
    created = client.post(WEBHOOKS_V1, json={**V1_BODY, "webhookUrl": receiver.url}).json()
    url = f"{WEBHOOKS_V1}/{created['webhookId']}"

    answer = client.patch(url, json={"eventTypes": ["tms.networktoken.updated"]})

    assert answer.status_code == 200, answer.text
    assert answer.json()["eventTypes"] == ["tms.networktoken.updated"]
    assert answer.json()["name"] == "v1 hook"


def test_status_inactive_then_active(
    client: httpx.Client, receiver: Receiver, merchant: Merchant
) -> None:
    created = create_webhook(client, receiver.url)
    url = f"{WEBHOOKS}/{created['webhookId']}"

    answer = client.put(url + "/status", json={"status": "INACTIVE"})

    assert answer.status_code == 204
    assert answer.content == b""
    assert client.get(url).json()["status"] == "INACTIVE"
    # An update does not turn an INACTIVE webhook on (and does not ping it).
    pings = len(receiver.requests)
    assert client.patch(url, json={"name": "still off"}).json()["status"] == "INACTIVE"
    assert len(receiver.requests) == pings
    receiver.status = 502
    assert client.put(url + "/status", json={"status": "ACTIVE"}).status_code == 204
    assert client.get(url).json()["status"] == "SUSPENDED"
    receiver.status = 200
    assert client.put(url + "/status", json={"status": "ACTIVE"}).status_code == 204
    assert client.get(url).json()["status"] == "ACTIVE"


def test_status_must_be_active_or_inactive(client: httpx.Client, receiver: Receiver) -> None:
    created = create_webhook(client, receiver.url)

    answer = client.put(f"{WEBHOOKS}/{created['webhookId']}/status", json={"status": "SUSPENDED"})

    assert answer.status_code == 400
    assert answer.json()["errors"][0]["details"][0]["name"] == "status"


def test_delete_v2_and_v1(client: httpx.Client, receiver: Receiver, merchant: Merchant) -> None:
    for base in (WEBHOOKS, WEBHOOKS_V1):
        created = create_webhook(client, receiver.url)
        url = f"{base}/{created['webhookId']}"

        answer = client.delete(url)

        assert answer.status_code == 204
        assert answer.content == b""
        assert client.get(url).status_code == 404
        assert client.delete(url).status_code == 404
        assert client.patch(url, json={"name": "x"}).status_code == 404
        listed = client.get(base, params={"organizationId": merchant.id}).json()
        assert created["webhookId"] not in [w["webhookId"] for w in listed]


def test_answers_are_json(client: httpx.Client, receiver: Receiver) -> None:
    created = create_webhook(client, receiver.url)

    answer = client.get(f"{WEBHOOKS}/{created['webhookId']}")

    assert answer.headers["content-type"].startswith("application/json")
    assert orjson.loads(answer.content)["webhookId"] == created["webhookId"]


def test_times_follow_the_sandbox_service_clock(
    client: httpx.Client, receiver: Receiver, services: Services
) -> None:
    assert services.sandbox is not None
    services.sandbox.clock.advance(timedelta(days=400))
    try:
        created = create_webhook(client, receiver.url)
        history = client.get(f"{WEBHOOKS}/{created['webhookId']}/deliveries").json()
    finally:
        services.sandbox.clock.reset()

    expected = (datetime.now(UTC) + timedelta(days=400)).date().isoformat()
    assert created["createdOn"].startswith(expected[:7])
    assert history["deliveries"][0]["at"].startswith(expected[:7])


def test_becoming_active_releases_held_notifications(
    client: httpx.Client, receiver: Receiver, database: Database, merchant: Merchant
) -> None:
    created = create_webhook(client, receiver.url)
    webhook_id = created["webhookId"]
    event_id = new_event_id()
    with database.engine.begin() as conn:
        SQLOutbox(conn, merchant.id).publish(
            Event(
                id=event_id,
                merchant_id=merchant.id,
                event_type="tms.networktoken.updated",
                payload={"data": {"id": event_id}},
                created_at=datetime.now(UTC),
            )
        )
        conn.execute(
            update(webhook_notifications)
            .where(webhook_notifications.c.subscription_id == webhook_id)
            .values(status="HELD", attempts=4)
        )
    receiver.status = 503
    client.put(f"{WEBHOOKS}/{webhook_id}/status", json={"status": "ACTIVE"})
    assert _statuses(database, webhook_id) == ["HELD"]  # no answer: still held

    receiver.status = 200
    client.put(f"{WEBHOOKS}/{webhook_id}/status", json={"status": "ACTIVE"})

    assert _statuses(database, webhook_id) == ["PENDING"]
    # The history shows a send of it with the notification's status now.
    with database.engine.begin() as conn:
        notification_id = conn.execute(
            select(webhook_notifications.c.id).where(
                webhook_notifications.c.subscription_id == webhook_id
            )
        ).scalar_one()
        conn.execute(
            insert(webhook_attempts),
            {
                "notification_id": notification_id,
                "subscription_id": webhook_id,
                "merchant_id": merchant.id,
                "attempt": 4,
                "kind": "RETRY",
                "transaction_trace_id": f"{notification_id}-4",
                "at": datetime.now(UTC) + timedelta(seconds=1),
                "status_code": 502,
                "latency_ms": 3.5,
                "response": b"upstream said no",
            },
        )
    newest = client.get(f"{WEBHOOKS}/{webhook_id}/deliveries").json()["deliveries"][0]
    assert newest == {
        "attempt": 4,
        "kind": "RETRY",
        "at": newest["at"],
        "statusCode": 502,
        "latencyMs": 3.5,
        "error": None,
        "transactionTraceId": f"{notification_id}-4",
        "notificationId": notification_id,
        "notificationStatus": "PENDING",
    }


def _statuses(database: Database, webhook_id: str) -> list[str]:
    with database.engine.connect() as conn:
        return list(
            conn.execute(
                select(webhook_notifications.c.status).where(
                    webhook_notifications.c.subscription_id == webhook_id
                )
            ).scalars()
        )
