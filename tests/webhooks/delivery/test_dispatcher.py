"""The dispatcher against a real receiver, over the SQL queue, with a clock
the tests move: what is sent (headers, body, signature), retries per the
retry policy, FAILED after the last one, HELD and SUSPENDED with
deactivateFlag then ACTIVE again after a ping, and claims that run out."""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest

from opentms.adapters.storage.webhook_queue import SQLNotificationQueue
from opentms.adapters.webhooks.transport import HttpxTransport
from opentms.domain.errors import DatabaseUnavailable
from opentms.domain.ports.webhooks import Outcome
from opentms.domain.webhooks import (
    DeliveryAttempt,
    NotificationStatus,
    RetryPolicy,
    SubscriptionStatus,
)
from opentms.observability import logging_config
from opentms.services.webhooks.dispatcher import Dispatcher, DispatcherSettings
from tests.webhooks.delivery.receiver import Answer, Receiver
from tests.webhooks.delivery.support import FakeClock, Vault, set_subscription, verify_signature

_transports: list[HttpxTransport] = []


@pytest.fixture(autouse=True)
def _close_transports() -> Iterator[None]:
    yield
    while _transports:
        _transports.pop().close()


def make_dispatcher(
    vault: Vault,
    *,
    signed: str = "payload",
    workers: int = 1,
    lease: timedelta = timedelta(seconds=60),
    read_timeout: float = 2.0,
    poll_seconds: float = 1.0,
) -> Dispatcher:
    transport = HttpxTransport(1.0, read_timeout)
    _transports.append(transport)
    return Dispatcher(
        SQLNotificationQueue(vault.engine),
        vault.signing_keys(),
        transport,
        vault.clock,
        vault.clock,
        DispatcherSettings(
            signature_input=signed,  # type: ignore[arg-type]
            poll_seconds=poll_seconds,
            lease=lease,
            workers=workers,
        ),
        vault.ports.webhook_doorbell,
    )


@pytest.mark.parametrize("signed", ["payload", "body"])
def test_delivers_a_signed_notification_with_every_header(
    vault: Vault, hook: Receiver, signed: str
) -> None:
    key = vault.create_key()
    subscription = vault.subscribe(hook.url)
    (event,) = vault.publish()
    dispatcher = make_dispatcher(vault, signed=signed)

    assert dispatcher.run_once() == 1

    (got,) = hook.wait_for(1)
    row = vault.notification()
    assert got.path == "/hook"
    headers = got.headers
    assert headers["content-type"] == "application/json"
    assert headers["v-c-event-type"] == "tms.networktoken.updated"
    assert headers["v-c-organization-id"] == vault.merchant_id
    assert headers["v-c-product-name"] == "tokenManagement"
    assert headers["v-c-request-type"] == "new"
    assert headers["v-c-retry-count"] == "0"
    assert headers["v-c-transaction-trace-id"] == f"{row.id}-0"
    assert headers["v-c-webhook-id"] == subscription
    assert headers["user-agent"].startswith("opentms-webhooks/")
    verify_signature(headers, got.body, key, signed)
    body = got.json()
    assert body["eventType"] == "tms.networktoken.updated"
    assert body["webhookId"] == subscription
    assert body["organizationId"] == vault.merchant_id
    assert body["productId"] == "tokenManagement"
    assert body["requestType"] == "NEW"
    assert body["retryNumber"] == 0
    assert body["transactionTraceId"] == f"{row.id}-0"
    assert body["payload"]["data"]["id"] == event.id
    assert body["eventDate"] == vault.clock.now().strftime("%Y-%m-%dT%H:%M:%S")
    # The signature's t is the send time in milliseconds (real time).
    t = int(headers["v-c-signature"].split(";")[0].removeprefix("t="))
    assert abs(t - vault.clock.now().timestamp() * 1000) < 1000
    assert (row.status, row.attempts, row.claimed_by) == ("DELIVERED", 1, None)
    assert row.delivered_at is not None
    (attempt,) = vault.attempts()
    assert (attempt.kind, attempt.attempt, attempt.status_code) == ("NEW", 1, 200)
    assert attempt.transaction_trace_id == f"{row.id}-0"
    assert dispatcher.run_once() == 0, "a delivered notification is not sent again"
    assert len(hook.received()) == 1


def test_without_a_signing_key_no_signature_header(vault: Vault, hook: Receiver) -> None:
    vault.subscribe(hook.url)
    vault.publish()
    make_dispatcher(vault).run_once()
    (got,) = hook.wait_for(1)
    assert "v-c-signature" not in got.headers
    assert vault.notification().status == "DELIVERED"


@pytest.mark.parametrize(
    ("policy", "delays"),
    [
        pytest.param(
            RetryPolicy("ARITHMETIC", first_retry=2, interval=3, number_of_retries=3),
            [2, 5, 8],
            id="arithmetic",
        ),
        pytest.param(
            RetryPolicy("GEOMETRIC", first_retry=1, interval=3, number_of_retries=4),
            [1, 3, 9, 27],
            id="geometric",
        ),
    ],
)
def test_a_failing_receiver_is_retried_per_the_policy_then_failed(
    vault: Vault, hook: Receiver, clock: FakeClock, policy: RetryPolicy, delays: list[int]
) -> None:
    hook.post = Answer(status=500, body=b"down for maintenance")
    subscription = vault.subscribe(hook.url, policy=policy)
    (event,) = vault.publish()
    dispatcher = make_dispatcher(vault)

    assert dispatcher.run_once() == 1
    for retry, minutes in enumerate(delays, start=1):
        row = vault.notification()
        assert row.status == "RETRY"
        assert row.attempts == retry
        assert row.next_attempt_at == clock.now() + timedelta(minutes=minutes)
        clock.advance(minutes=minutes, seconds=-1)
        assert dispatcher.run_once() == 0, "not due before its delay"
        clock.advance(seconds=1)
        assert dispatcher.run_once() == 1
        got = hook.wait_for(retry + 1)[-1]
        assert got.headers["v-c-request-type"] == "retry"
        assert got.headers["v-c-retry-count"] == str(retry)
        assert got.headers["v-c-transaction-trace-id"] == f"{row.id}-{retry}"
        body = got.json()
        assert (body["requestType"], body["retryNumber"]) == ("RETRY", retry)
        assert body["payload"]["data"]["id"] == event.id

    row = vault.notification()
    assert (row.status, row.attempts) == ("FAILED", len(delays) + 1)
    clock.advance(days=1)
    assert dispatcher.run_once() == 0
    attempts = vault.attempts()
    assert [a.kind for a in attempts] == ["NEW"] + ["RETRY"] * len(delays)
    assert [a.status_code for a in attempts] == [500] * (len(delays) + 1)
    assert attempts[0].response == b"down for maintenance"
    # Without deactivateFlag the subscription stays ACTIVE.
    assert vault.subscription(subscription).status == "ACTIVE"


def test_a_receiver_down_then_back_gets_the_retry(
    vault: Vault, hook: Receiver, clock: FakeClock
) -> None:
    vault.subscribe(hook.url)
    vault.publish()
    dispatcher = make_dispatcher(vault)
    hook.down()

    dispatcher.run_once()
    row = vault.notification()
    assert (row.status, row.attempts) == ("RETRY", 1)
    (attempt,) = vault.attempts()
    assert attempt.status_code is None
    assert "ConnectError" in attempt.error

    hook.up()
    clock.advance(minutes=1)
    dispatcher.run_once()
    (got,) = hook.wait_for(1)
    assert got.headers["v-c-request-type"] == "retry"
    assert got.headers["v-c-retry-count"] == "1"
    assert vault.notification().status == "DELIVERED"


def test_a_redirect_is_a_failure_and_is_not_followed(vault: Vault, hook: Receiver) -> None:
    hook.post = Answer(status=307, headers={"Location": hook.health_url})
    vault.subscribe(hook.url)
    vault.publish()
    make_dispatcher(vault).run_once()
    assert [r.method for r in hook.requests] == ["POST"]
    assert vault.notification().status == "RETRY"
    assert vault.attempts()[0].status_code == 307


def test_deactivate_flag_holds_then_a_ping_reactivates_and_delivers(
    vault: Vault, hook: Receiver, clock: FakeClock
) -> None:
    policy = RetryPolicy(first_retry=1, interval=1, number_of_retries=1, deactivate_flag=True)
    hook.post = Answer(status=503)
    hook.get = Answer(status=503)
    subscription = vault.subscribe(hook.url, policy=policy, health_check_url=hook.health_url)
    (first,) = vault.publish()
    dispatcher = make_dispatcher(vault)

    dispatcher.run_once()  # the first send fails
    clock.advance(minutes=1)
    dispatcher.run_once()  # so does the only retry: held, subscription suspended
    row = vault.notification()
    assert (row.status, row.attempts) == ("HELD", 2)
    assert vault.subscription(subscription).status == "SUSPENDED"

    # Queued while SUSPENDED, withheld.
    (second,) = vault.publish()
    clock.advance(seconds=30)
    assert dispatcher.run_once() == 0
    assert len(hook.received("GET")) == 0, "pinged at most once a minute"
    clock.advance(seconds=31)
    dispatcher.run_once()  # pinged: 503 is no answer
    assert len(hook.received("GET")) == 1
    assert vault.subscription(subscription).status == "SUSPENDED"
    assert dispatcher.run_once() == 0
    assert len(hook.received("GET")) == 1

    hook.post = Answer(status=200)
    hook.get = Answer(status=404)  # any status below 500 is an answer
    clock.advance(minutes=1)
    dispatcher.run_once()
    assert len(hook.received("GET")) == 2
    assert vault.subscription(subscription).status == "ACTIVE"
    assert dispatcher.run_once() + dispatcher.run_once() == 2  # a batch is one here
    sent = hook.wait_for(4)[2:]
    by_event = {r.json()["payload"]["data"]["id"]: r for r in sent}
    assert set(by_event) == {first.id, second.id}
    assert by_event[first.id].headers["v-c-retry-count"] == "2"
    assert by_event[second.id].headers["v-c-retry-count"] == "0"
    assert {r.status for r in vault.notifications()} == {"DELIVERED"}
    pings = vault.attempts("HEALTH_CHECK")
    assert [p.status_code for p in pings] == [503, 404]
    assert all(p.notification_id is None for p in pings)


def test_only_active_undeleted_subscriptions_are_sent_to(
    vault: Vault, hook: Receiver, clock: FakeClock
) -> None:
    active = vault.subscribe(hook.url)
    inactive = vault.subscribe(hook.url, status=SubscriptionStatus.INACTIVE)
    deleted = vault.subscribe(hook.url)
    vault.publish()
    set_subscription(vault.engine, deleted, deleted_at=clock.now())
    assert {r.subscription_id for r in vault.notifications()} == {active, deleted}
    assert make_dispatcher(vault).run_once() == 1
    (got,) = hook.wait_for(1)
    assert got.headers["v-c-webhook-id"] == active
    assert inactive not in {r.subscription_id for r in vault.notifications()}


def test_a_claim_that_ran_out_is_taken_over_and_the_late_outcome_is_not_recorded(
    vault: Vault, hook: Receiver, clock: FakeClock
) -> None:
    vault.subscribe(hook.url)
    vault.publish()
    queue = SQLNotificationQueue(vault.engine)
    lease = timedelta(seconds=30)
    (mine,) = queue.claim("slow", clock.now(), clock.now(), lease, 10)
    assert queue.claim("other", clock.now(), clock.now(), lease, 10) == []
    clock.advance(seconds=31)
    other = make_dispatcher(vault)
    assert other.run_once() == 1
    hook.wait_for(1)
    # The slow dispatcher comes back with its outcome: nothing is written.
    late = DeliveryAttempt(
        mine.id, mine.subscription_id, mine.merchant_id, 1, "NEW", None, clock.now(), 500, 1.0
    )
    assert not queue.record("slow", mine, Outcome(NotificationStatus.RETRY, clock.now()), late)
    row = vault.notification()
    assert (row.status, row.attempts) == ("DELIVERED", 1)
    assert len(vault.attempts()) == 1


def test_the_doorbell_wakes_the_background_dispatcher(vault: Vault, hook: Receiver) -> None:
    vault.subscribe(hook.url)
    dispatcher = make_dispatcher(vault, poll_seconds=30)
    dispatcher.start()
    try:
        time.sleep(0.3)  # its first round is over: it waits for the bell or 30 s
        started = time.monotonic()
        vault.publish()  # the unit of work rings on commit
        hook.wait_for(1, timeout=10)
        assert time.monotonic() - started < 5
    finally:
        dispatcher.stop()
    assert not dispatcher.running


@pytest.mark.parametrize("workers", [1, 4])
def test_two_dispatchers_send_each_notification_once(
    vault: Vault, hook: Receiver, workers: int
) -> None:
    count = 120
    vault.subscribe(hook.url)
    vault.publish(count)
    dispatchers = [make_dispatcher(vault, workers=workers) for _ in range(2)]
    sent = Counter[str]()

    def drain(dispatcher: Dispatcher) -> None:
        while (n := dispatcher.run_once()) > 0:
            sent[dispatcher.name] += n

    threads = [threading.Thread(target=drain, args=(d,)) for d in dispatchers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    received = hook.wait_for(count)
    by_notification = Counter(r.headers["v-c-transaction-trace-id"] for r in received)
    assert len(by_notification) == count
    assert max(by_notification.values()) == 1
    assert {r.json()["payload"]["data"]["id"] for r in received} == {e.id for e in vault.events}
    assert {r.status for r in vault.notifications()} == {"DELIVERED"}
    assert len(vault.attempts()) == count
    assert sum(sent.values()) == count
    time.sleep(0.2)
    assert len(hook.received()) == count


class _FlakyQueue(SQLNotificationQueue):
    """A queue whose first claims fail, as while the database is away."""

    def __init__(self, vault: Vault, failures: int) -> None:
        super().__init__(vault.engine)
        self.failures = failures

    def claim(self, *args: Any, **kwargs: Any) -> Any:
        if self.failures:
            self.failures -= 1
            raise DatabaseUnavailable()
        return super().claim(*args, **kwargs)


def test_the_background_dispatcher_outlives_failed_rounds(
    vault: Vault, hook: Receiver, caplog: pytest.LogCaptureFixture
) -> None:
    vault.subscribe(hook.url)
    vault.publish()
    transport = HttpxTransport(1.0, 2.0)
    _transports.append(transport)
    queue = _FlakyQueue(vault, failures=3)
    dispatcher = Dispatcher(
        queue,
        vault.signing_keys(),
        transport,
        vault.clock,
        vault.clock,
        DispatcherSettings(poll_seconds=0.05),
    )
    dispatcher.start()
    try:
        hook.wait_for(1, timeout=10)
    finally:
        dispatcher.stop()
    assert queue.failures == 0
    failed = [r for r in caplog.records if "a round failed" in r.getMessage()]
    assert len(failed) == 3


def test_a_delivery_never_logs_the_receivers_url(
    vault: Vault, hook: Receiver, caplog: pytest.LogCaptureFixture
) -> None:
    """Under the server's logger levels, httpx's INFO line (which names the
    whole URL, query included) is off; the dispatcher logs ids."""
    levels = {
        name: conf["level"]
        for name, conf in logging_config("INFO")["loggers"].items()
        if "level" in conf
    }
    previous = {name: logging.getLogger(name).level for name in levels}
    secret_url = hook.url + "?token=receiver-secret-d41d8cd9"
    vault.subscribe(secret_url)
    vault.publish()
    try:
        for name, level in levels.items():
            logging.getLogger(name).setLevel(level)
        with caplog.at_level(logging.INFO):
            assert make_dispatcher(vault).run_once() == 1
    finally:
        for name, level in previous.items():
            logging.getLogger(name).setLevel(level)
    hook.wait_for(1)
    assert any(r.name.startswith("opentms") for r in caplog.records), "the attempt is logged"
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "receiver-secret-d41d8cd9" not in logged
    assert hook.url not in logged
