"""Delivery by real ``opentms serve`` processes: retries that follow the
sandbox's service clock (moved through the admin API), every committed event
delivered after a kill -9 (none lost; a duplicate carries the same event id),
and two servers on one PostgreSQL database sending each notification once.

The test process writes to the server's database directly (subscriptions as
rows, events through a unit of work's outbox), as the API will."""

from __future__ import annotations

import os
import signal
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from opentms.bootstrap import open_database
from opentms.domain.webhooks import RetryPolicy
from opentms.services.tenancy import SystemClock
from tests.conftest import make_settings
from tests.sandbox.served import serve
from tests.support import backend_database_url, fresh_postgres_schema
from tests.webhooks.delivery.receiver import Answer, Received, receiver
from tests.webhooks.delivery.support import Vault, verify_signature

# Quick rounds and short claims: a claim lasts 2 * (1 + 2) + 5 = 11 s.
SERVER_ENVIRONMENT = {
    "OPENTMS_WEBHOOK_POLL_SECONDS": "0.2",
    "OPENTMS_WEBHOOK_CONNECT_TIMEOUT_SECONDS": "1",
    "OPENTMS_WEBHOOK_READ_TIMEOUT_SECONDS": "2",
    "OPENTMS_WEBHOOK_WORKERS": "2",
}


@contextmanager
def vault_of(data_dir: Path, database_url: str | None) -> Iterator[Vault]:
    """The served database, opened in the test process."""
    database = open_database(make_settings(data_dir, database_url=database_url), upgrade=False)
    opened = Vault.open(database, SystemClock())
    try:
        yield opened
    finally:
        opened.close()


def wait_until(condition: Callable[[], bool], timeout: float, what: str) -> float:
    """Seconds until ``condition`` held (fails after ``timeout``)."""
    started = time.monotonic()
    while not condition():
        if time.monotonic() - started > timeout:
            pytest.fail(f"{what}: not within {timeout} s")
        time.sleep(0.1)
    return time.monotonic() - started


def notification_of(request: Received) -> str:
    return request.headers["v-c-transaction-trace-id"].rsplit("-", 1)[0]


def test_retries_follow_the_service_clock(tmp_path: Path) -> None:
    with (
        backend_database_url("opentms_webhooks") as url,
        receiver() as hook,
        # Two worker processes (opentms.asgi:app), a dispatcher each.
        serve(tmp_path, workers=2, database_url=url, environment=SERVER_ENVIRONMENT) as server,
        vault_of(server.data_dir, url) as vault,
        server.admin() as admin,
    ):
        key = vault.create_key()
        hook.post = Answer(status=500)
        vault.subscribe(hook.url, policy=RetryPolicy(first_retry=1, interval=1))
        (event,) = vault.publish()
        (first,) = hook.wait_for(1)
        assert first.headers["v-c-request-type"] == "new"
        wait_until(lambda: vault.notification().status == "RETRY", 10, "the failure recorded")
        time.sleep(1.5)
        assert len(hook.received()) == 1, "a retry waits for the service clock"

        assert admin.post("/clock", json={"advance": 60}).status_code == 200
        second = hook.wait_for(2, timeout=10)[1]
        assert second.headers["v-c-request-type"] == "retry"
        assert second.headers["v-c-retry-count"] == "1"
        verify_signature(second.headers, second.body, key)
        assert second.json()["payload"]["data"]["id"] == event.id

        hook.post = Answer(status=200)
        wait_until(lambda: vault.notification().attempts == 2, 10, "the retry recorded")
        assert admin.post("/clock", json={"advance": 120}).status_code == 200
        third = hook.wait_for(3, timeout=10)[2]
        assert third.headers["v-c-retry-count"] == "2"
        wait_until(lambda: vault.notification().status == "DELIVERED", 10, "delivered")
        time.sleep(1.0)
        assert len(hook.received()) == 3, "each attempt made by one of the workers"
        assert "outcome=DELIVERED" in server.log()
        assert "outcome=RETRY" in server.log()


def test_kill_9_between_commit_and_delivery_loses_nothing(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    for root in ("first", "second"):
        (tmp_path / root).mkdir()
    with backend_database_url("opentms_webhooks") as url, receiver() as hook:
        hook.post = Answer(hang=60)  # the receiver holds the first requests
        with (
            serve(
                tmp_path / "first",
                data_dir=data_dir,
                database_url=url,
                environment=SERVER_ENVIRONMENT,
            ) as first,
            vault_of(data_dir, url) as vault,
        ):
            vault.subscribe(hook.url)
            vault.publish(5)
            hook.wait_for(1)  # claimed and in flight, not delivered
            os.kill(first.pid, signal.SIGKILL)
            wait_until(lambda: _dead(first.pid), 10, "the server killed")
            assert {n.status for n in vault.notifications()} == {"PENDING"}
            assert any(n.claimed_by for n in vault.notifications())
            # Committed while no server runs.
            vault.publish(3)
            committed = {e.id for e in vault.events}
        hook.post = Answer(status=200)
        hook.release()
        before_restart = len(hook.received())

        with (
            serve(
                tmp_path / "second",
                data_dir=data_dir,
                database_url=url,
                environment=SERVER_ENVIRONMENT,
            ),
            vault_of(data_dir, url) as vault,
        ):
            started = time.monotonic()
            wait_until(
                lambda: {n.status for n in vault.notifications()} == {"DELIVERED"},
                60,
                "every notification delivered after the restart",
            )
            elapsed = time.monotonic() - started
            rows = vault.notifications()

    requests = hook.received()
    by_event: dict[str, set[str]] = defaultdict(set)
    for request in requests:
        by_event[request.json()["payload"]["data"]["id"]].add(notification_of(request))
    assert set(by_event) == committed, "exactly the committed events, none lost"
    # A duplicate is the same notification (same event id) sent again.
    assert all(len(notifications) == 1 for notifications in by_event.values())
    assert len(rows) == len(committed)
    assert all(row.attempts == 1 for row in rows)
    print(  # noqa: T201 - the figures, shown with -s
        f"kill -9: {before_restart} requests in flight at the kill, "
        f"{len(requests) - before_restart} after the restart, "
        f"all {len(committed)} delivered {elapsed:.1f} s after the restart"
    )


def _dead(pid: int) -> bool:
    try:
        waited, _ = os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        return True
    return waited == pid


@pytest.mark.postgres
def test_two_servers_on_postgresql_send_each_notification_once(
    tmp_path: Path, postgres_url: str
) -> None:
    count = 200
    data_dir = tmp_path / "data"
    for root in ("a", "b"):
        (tmp_path / root).mkdir()
    with (
        fresh_postgres_schema(postgres_url, "opentms_webhooks") as url,
        receiver() as hook,
        serve(
            tmp_path / "a", data_dir=data_dir, database_url=url, environment=SERVER_ENVIRONMENT
        ) as a,
        serve(
            tmp_path / "b", data_dir=data_dir, database_url=url, environment=SERVER_ENVIRONMENT
        ) as b,
        vault_of(data_dir, url) as vault,
    ):
        vault.subscribe(hook.url)
        started = time.monotonic()
        vault.publish(count)
        received = hook.wait_for(count, timeout=60)
        elapsed = time.monotonic() - started
        wait_until(
            lambda: {n.status for n in vault.notifications()} == {"DELIVERED"}, 20, "recorded"
        )
        time.sleep(1.0)  # anything sent twice would have come by now
        received = hook.received()
        sent_by = {name: _delivered_in(server.log()) for name, server in (("a", a), ("b", b))}
    per_notification = Counter(notification_of(r) for r in received)
    assert len(per_notification) == count
    assert set(per_notification.values()) == {1}, "each notification sent once"
    assert sum(sent_by.values()) == count
    print(  # noqa: T201 - the figures, shown with -s
        f"two servers on PostgreSQL: {count} notifications, {len(received)} requests, "
        f"server a sent {sent_by['a']}, server b {sent_by['b']}, in {elapsed:.1f} s"
    )


def _delivered_in(log: str) -> int:
    return sum(1 for line in log.splitlines() if "outcome=DELIVERED" in line)
