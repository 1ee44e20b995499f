"""Issue 12's acceptance with the official CyberSource Python SDK: against a
real ``opentms serve``, the SDK (``tests/conformance/webhooks_sdk_driver.py``,
in the SDK's virtualenv) creates a signing key and a v2 subscription pointing
at a real receiver this test runs, lists, gets and test-sends it, creates a
tokenized card and runs issuer life-cycle simulations. The receiver must then
get the health check, the test notification and the provisioned and updated
notifications, each verified by ``opentms.client.webhooks.verify`` with the
key the SDK was given, under either ``OPENTMS_WEBHOOK_SIGNATURE_INPUT``; on
SQLite with one server process and on PostgreSQL with two."""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Literal

import pytest

from opentms.client.webhooks import WebhookVerificationError, verify
from tests.conformance.test_python_sdk import python_sdk, run_sdk_driver
from tests.sandbox.served import Served, serve
from tests.support import fresh_postgres_schema

pytestmark = pytest.mark.conformance
__all__ = ["python_sdk"]  # the fixture, used by name

DRIVER = "tests.conformance.webhooks_sdk_driver"
MERCHANT = "webhooks_sdk_merchant"
WAIT_SECONDS = 60
MIN_CHECKS = 25  # fewer: a step of the driver stopped early
Signed = Literal["payload", "body"]
SETUPS = [
    pytest.param(("sqlite", 1), id="sqlite-1-worker"),
    pytest.param(("postgresql", 2), id="postgresql-2-workers"),
]


@dataclass(frozen=True)
class Received:
    method: str
    path: str
    headers: tuple[tuple[str, str], ...]
    body: bytes

    def header(self, name: str) -> str | None:
        found = [value for key, value in self.headers if key.lower() == name.lower()]
        assert len(found) <= 1, f"{name} sent {len(found)} times: {found}"
        return found[0] if found else None

    def json(self) -> Any:
        return json.loads(self.body)


class Receiver:
    """A merchant's webhook receiver: records every request, answers 200."""

    def __init__(self) -> None:
        self.received: list[Received] = []
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:  # the health check
                receiver.record(self, b"")

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                receiver.record(self, self.rfile.read(length))

            def log_message(self, format: str, *args: Any) -> None:  # quiet
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def record(self, handler: BaseHTTPRequestHandler, body: bytes) -> None:
        with self.lock:
            self.received.append(
                Received(handler.command, handler.path, tuple(handler.headers.items()), body)
            )
        handler.send_response(200)
        handler.send_header("Content-Length", "0")
        handler.end_headers()

    def requests(self) -> list[Received]:
        with self.lock:
            return list(self.received)

    def notifications(self) -> list[Received]:
        return [r for r in self.requests() if r.method == "POST" and r.path == "/webhooks"]

    def wait_for(self, done: Callable[[list[Received]], bool], seconds: float) -> list[Received]:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if done(self.notifications()):
                break
            time.sleep(0.2)
        return self.notifications()


@pytest.fixture(params=SETUPS)
def database(request: pytest.FixtureRequest) -> Iterator[tuple[str | None, int]]:
    """The server's database URL (None: SQLite in its data directory) and workers."""
    backend, workers = request.param
    if backend == "sqlite":
        yield None, workers
        return
    base = os.environ.get("OPENTMS_TEST_POSTGRES_URL")
    if not base:
        pytest.skip("OPENTMS_TEST_POSTGRES_URL is not set")
    with fresh_postgres_schema(base, "opentms_webhooks_sdk") as url:
        yield url, workers


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    receiver = Receiver()
    receiver.thread.start()
    try:
        yield receiver
    finally:
        receiver.server.shutdown()
        receiver.server.server_close()


def card_event(notification: dict[str, Any], card_id: str) -> tuple[str, str, str] | None:
    """(eventType, reason, the card's state) when the notification is about ``card_id``."""
    data = (notification.get("payload") or {}).get("data") or {}
    for link in (data.get("_links") or {}).get("tokenized-cards") or []:
        if link.get("id") == card_id:
            return str(notification["eventType"]), str(data.get("reason")), str(link.get("state"))
    return None


def events_of(notifications: list[Received], card_id: str) -> dict[str, tuple[str, str, str]]:
    """The card's events by event id (payload.data.id): duplicates fold into one."""
    found: dict[str, tuple[str, str, str]] = {}
    for received in notifications:
        body = received.json()
        event = card_event(body, card_id)
        if event is not None:
            event_id = body["payload"]["data"]["id"]
            assert found.get(event_id, event) == event, f"event {event_id} changed: {body}"
            found[event_id] = event
    return found


@pytest.mark.parametrize("signature_input", ["payload", "body"])
def test_the_sdk_subscribes_and_the_receiver_verifies_every_notification(
    python_sdk: Path,
    database: tuple[str | None, int],
    receiver: Receiver,
    tmp_path: Path,
    signature_input: Signed,
) -> None:
    environment: dict[str, str] = {"OPENTMS_WEBHOOK_SIGNATURE_INPUT": signature_input}
    url, workers = database
    with serve(tmp_path, workers=workers, database_url=url, environment=environment) as server:
        report = run_sdk_driver(
            python_sdk,
            DRIVER,
            tmp_path,
            tmp_path / "report.json",
            f"--server-url={server.url}",
            f"--admin-token={server.admin_token}",
            f"--merchant={MERCHANT}",
            f"--receiver-url={receiver.url}",
            timeout=180,
        )
        failed = [c for c in report["checks"] if not c["passed"]]
        assert not failed, "\n".join(f"{c['name']}: {c['detail']}" for c in failed) + log_end(
            server
        )
        assert report["completed"], report
        assert len(report["checks"]) >= MIN_CHECKS, report["checks"]
        result = report["result"]
        expected = {tuple(e) for e in report["expected"]}
        card_id = result["tokenizedCardId"]

        def everything_arrived(notifications: list[Received]) -> bool:
            got = set(events_of(notifications, card_id).values())
            tested = any("payloads" in n.json() for n in notifications)
            return tested and expected <= got

        notifications = receiver.wait_for(everything_arrived, WAIT_SECONDS)
        events = events_of(notifications, card_id)
        assert expected <= set(events.values()), (
            f"after {WAIT_SECONDS} s the receiver has {sorted(events.values())}, "
            f"expected {sorted(expected)}{log_end(server)}"
        )

    check_health_check(receiver)
    check_deliveries(notifications, result, signature_input)
    assert len(events) == len(set(events)), "one event id per event"
    tests = [n.json() for n in notifications if "payloads" in n.json()]
    assert tests, "no test notification arrived"
    assert all(t["webhookId"] == result["webhookId"] for t in tests), tests


def check_health_check(receiver: Receiver) -> None:
    pings = [r for r in receiver.requests() if r.method == "GET"]
    assert pings, "no health check reached the receiver"
    assert {p.path for p in pings} == {"/health"}, pings  # the healthCheckUrl, not webhookUrl
    assert all(p.body == b"" for p in pings)


def check_deliveries(notifications: list[Received], result: dict[str, Any], signed: Signed) -> None:
    """Every delivery: its headers, and its signature with the SDK's key."""
    key, key_id = result["key"], result["keyId"]
    other: Signed = "body" if signed == "payload" else "payload"
    for received in notifications:
        body = received.json()
        where = f"{body.get('eventType')} {body.get('transactionTraceId')}"
        assert received.header("Content-Type") == "application/json", where
        assert received.header("V-C-Event-Type") == body["eventType"], where
        assert received.header("v-c-webhook-id") == result["webhookId"] == body["webhookId"]
        assert received.header("V-C-Organization-Id") == MERCHANT == body["organizationId"]
        assert received.header("V-C-Product-Name") == "tokenManagement", where
        assert received.header("V-C-Transaction-Trace-Id") == body["transactionTraceId"], where
        assert received.header("V-C-Request-Type") == "new", where  # every first send answered
        assert received.header("V-C-Retry-Count") == "0" == str(body["retryNumber"]), where
        signature = received.header("v-c-signature") or ""
        assert f";keyId={key_id};" in signature, (where, signature)
        headers = dict(received.headers)
        assert verify(headers, received.body, key) == body
        pinned = verify(headers, received.body, {key_id: key}, signature_input=signed)
        assert pinned == body, where
        with pytest.raises(WebhookVerificationError):  # the server signs as its setting says
            verify(headers, received.body, key, signature_input=other)
        assert result["cardNumber"] not in received.body.decode(), f"card number sent: {where}"
        assert result["cardNumber"] not in json.dumps(received.headers), where


def log_end(server: Served) -> str:
    return f"\n--- server log (end)\n{server.log()[-3000:]}"
