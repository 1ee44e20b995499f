"""The signing key (shown once, stored sealed, replaced after the overlap),
the test notification a real receiver verifies, and the delivery history."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from starlette.applications import Starlette

from opentms.adapters.storage.tables import (
    sandbox_journal,
    webhook_attempts,
    webhook_keys,
    webhook_subscriptions,
)
from opentms.bootstrap import Database, Services
from tests.conftest import client_for
from tests.support import Merchant, stored_bytes
from tests.webhooks.api.conftest import WEBHOOKS, WEBHOOKS_V1, Receiver, create_webhook

KEYS = "/kms/egress/v2/keys-sym"


@pytest.fixture
def fresh_merchant(services: Services) -> Merchant:
    """A merchant of its own: no signing key yet."""
    return Merchant(services.merchants.register(f"wh_{uuid.uuid4().hex[:12]}"))


@pytest.fixture
def fresh_client(app: Starlette, fresh_merchant: Merchant) -> Iterator[httpx.Client]:
    with client_for(app, fresh_merchant) as c:
        yield c


def key_request(organization_id: str, **information: Any) -> dict[str, Any]:
    return {
        "clientReferenceInformation": {"code": "key-test"},
        "clientRequestAction": "CREATE",
        "keyInformation": {
            "provider": "nrtd",
            "tenant": organization_id,
            "keyType": "sharedSecret",
            "organizationId": organization_id,
            "expiryDuration": "365",
            **information,
        },
    }


def create_key(client: httpx.Client, organization_id: str) -> dict[str, Any]:
    answer = client.post(KEYS, json=key_request(organization_id))
    assert answer.status_code == 201, answer.text
    information: dict[str, Any] = answer.json()["keyInformation"]
    return information


def verify(headers: dict[str, str], body: bytes, keys: dict[str, bytes]) -> str:
    """The receiver's check, written from the reference: t.payload, HMAC-SHA256."""
    parts = dict(part.split("=", 1) for part in headers["v-c-signature"].split(";"))
    notification = json.loads(body)
    member = notification["payload"] if "payload" in notification else notification["payloads"]
    message = parts["t"].encode() + b"." + json.dumps(member, separators=(",", ":")).encode()
    expected = hmac.new(keys[parts["keyId"]], message, hashlib.sha256).digest()
    assert hmac.compare_digest(base64.b64decode(parts["sig"]), expected)
    return parts["keyId"]


def test_key_is_shown_once_and_stored_sealed(
    fresh_client: httpx.Client, fresh_merchant: Merchant, database: Database
) -> None:
    answer = fresh_client.post(KEYS, json=key_request(fresh_merchant.id))

    assert answer.status_code == 201
    body = answer.json()
    assert body["status"] == "SUCCESS"
    assert body["clientReferenceInformation"] == {"code": "key-test"}
    info = body["keyInformation"]
    assert info["organizationId"] == fresh_merchant.id
    assert info["keyType"] == "sharedSecret"
    assert info["status"] == "active"
    secret = base64.b64decode(info["key"])
    assert len(secret) == 32
    uuid.UUID(info["keyId"])
    with database.engine.connect() as conn:
        row = conn.execute(select(webhook_keys).where(webhook_keys.c.id == info["keyId"])).one()
    stored = b"".join(value if isinstance(value, bytes) else str(value).encode() for value in row)
    assert row.merchant_id == fresh_merchant.id
    assert secret not in stored
    assert info["key"].encode() not in stored
    assert secret.hex().encode() not in stored
    # Nor anywhere else the server writes: the sandbox's request journal
    # recorded the answer, without the key.
    with database.engine.connect() as conn:
        journaled = conn.execute(
            select(sandbox_journal.c.response_body).where(
                sandbox_journal.c.merchant_id == fresh_merchant.id,
                sandbox_journal.c.path == KEYS,
            )
        ).scalar_one()
    assert info["keyId"] in journaled
    everything = stored_bytes(database)
    assert secret not in everything
    assert info["key"].encode() not in everything


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"clientRequestAction": "DELETE"}, "clientRequestAction"),
        ({"keyInformation": {"keyType": "rsa"}}, "keyInformation.keyType"),
        ({"keyInformation": {"expiryDuration": "0"}}, "keyInformation.expiryDuration"),
        ({"keyInformation": {"expiryDuration": "ten"}}, "keyInformation.expiryDuration"),
        ({"keyInformation": {"organizationId": "someone_else"}}, "keyInformation.organizationId"),
        ({"keyInformation": None}, "keyInformation"),
    ],
)
def test_invalid_key_requests(
    client: httpx.Client, merchant: Merchant, change: dict[str, Any], field: str
) -> None:
    body = key_request(merchant.id)
    for name, value in change.items():
        if isinstance(value, dict):
            body[name] = {**body[name], **value}
        else:
            body[name] = value

    answer = client.post(KEYS, json=body)

    assert answer.status_code == 400, answer.text
    names = [d["name"] for d in answer.json()["errors"][0]["details"]]
    assert any(n == field or n.startswith(field + ".") for n in names), names


def test_test_notification_reaches_the_receiver_signed(
    fresh_client: httpx.Client, fresh_merchant: Merchant, receiver: Receiver
) -> None:
    key = create_key(fresh_client, fresh_merchant.id)
    created = create_webhook(fresh_client, receiver.url)

    answer = fresh_client.post(f"{WEBHOOKS_V1}/{created['webhookId']}")

    assert answer.status_code == 200, answer.text
    sample = answer.json()
    assert sample["webhookId"] == created["webhookId"]
    assert sample["organizationId"] == fresh_merchant.id
    assert sample["eventType"] == "tms.networktoken.provisioned"
    assert sample["productId"] == "tokenManagement"
    assert sample["requestType"] == "NEW"
    assert sample["retryNumber"] == 0
    assert sample["transactionTraceId"].endswith("-0")
    assert sample["payloads"]["testPayload"]["message"]
    [post] = receiver.posts()
    assert json.loads(post.body) == sample
    assert post.headers["v-c-webhook-id"] == created["webhookId"]
    assert post.headers["v-c-event-type"] == "tms.networktoken.provisioned"
    assert post.headers["v-c-request-type"] == "new"
    assert post.headers["v-c-retry-count"] == "0"
    assert post.headers["v-c-transaction-trace-id"] == sample["transactionTraceId"]
    assert (
        verify(post.headers, post.body, {key["keyId"]: base64.b64decode(key["key"])})
        == (key["keyId"])
    )


def test_a_new_key_signs_after_the_overlap(
    fresh_client: httpx.Client, fresh_merchant: Merchant, receiver: Receiver
) -> None:
    first = create_key(fresh_client, fresh_merchant.id)
    second = create_key(fresh_client, fresh_merchant.id)
    assert second["keyId"] != first["keyId"]
    assert second["key"] != first["key"]
    created = create_webhook(fresh_client, receiver.url)

    fresh_client.post(f"{WEBHOOKS_V1}/{created['webhookId']}")

    [post] = receiver.posts()
    keys = {k["keyId"]: base64.b64decode(k["key"]) for k in (first, second)}
    # The default overlap is an hour: the older key signs meanwhile.
    assert verify(post.headers, post.body, keys) == first["keyId"]


def test_without_a_key_the_test_is_sent_unsigned(
    fresh_client: httpx.Client, receiver: Receiver
) -> None:
    created = create_webhook(fresh_client, receiver.url)

    assert fresh_client.post(f"{WEBHOOKS_V1}/{created['webhookId']}").status_code == 200

    [post] = receiver.posts()
    assert "v-c-signature" not in post.headers


def test_delivery_history_newest_first(
    client: httpx.Client, receiver: Receiver, dead_url: str
) -> None:
    created = create_webhook(client, receiver.url)
    webhook_id = created["webhookId"]
    receiver.status = 500
    client.post(f"{WEBHOOKS_V1}/{webhook_id}")
    client.patch(f"{WEBHOOKS}/{webhook_id}", json={"webhookUrl": dead_url})

    answer = client.get(f"{WEBHOOKS}/{webhook_id}/deliveries")

    assert answer.status_code == 200
    history = answer.json()
    assert history["total"] == 3
    kinds = [d["kind"] for d in history["deliveries"]]
    assert kinds == ["HEALTH_CHECK", "TEST", "HEALTH_CHECK"]
    latest, test, first = history["deliveries"]
    assert latest["statusCode"] is None
    assert latest["error"]
    assert test["statusCode"] == 500
    assert test["transactionTraceId"].endswith("-0")
    assert test["notificationStatus"] is None
    assert first["statusCode"] == 200
    assert all(d["latencyMs"] >= 0 for d in history["deliveries"])
    assert all("response" not in d for d in history["deliveries"])
    page = client.get(f"{WEBHOOKS}/{webhook_id}/deliveries", params={"limit": 1, "offset": 1})
    assert [d["kind"] for d in page.json()["deliveries"]] == ["TEST"]
    assert page.json()["total"] == 3
    assert client.get(f"{WEBHOOKS}/{webhook_id}/deliveries", params={"limit": 0}).status_code == 400


def test_history_stays_after_delete(
    client: httpx.Client, receiver: Receiver, database: Database
) -> None:
    created = create_webhook(client, receiver.url)
    webhook_id = created["webhookId"]
    client.post(f"{WEBHOOKS_V1}/{webhook_id}")

    assert client.delete(f"{WEBHOOKS}/{webhook_id}").status_code == 204

    # Gone for the API; its history stays.
    assert client.get(f"{WEBHOOKS}/{webhook_id}/deliveries").status_code == 404
    with database.engine.connect() as conn:
        kinds = conn.execute(
            select(webhook_attempts.c.kind).where(webhook_attempts.c.subscription_id == webhook_id)
        ).scalars()
        assert sorted(kinds) == ["HEALTH_CHECK", "TEST"]
        deleted_at = conn.execute(
            select(webhook_subscriptions.c.deleted_at).where(
                webhook_subscriptions.c.id == webhook_id
            )
        ).scalar_one()
    assert deleted_at is not None
