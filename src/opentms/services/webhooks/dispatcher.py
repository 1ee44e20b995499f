"""The webhook dispatcher (docs/webhooks.md, "Delivery"): claims due
notifications from the queue the outbox fills, sends each signed to its
receiver, and records what came of it: delivered, due again per the
subscription's retry policy, FAILED after the last retry, or HELD (with the
subscription SUSPENDED) when the policy says to deactivate. It also pings
SUSPENDED subscriptions again, at most once a minute of the service clock;
one that answers is ACTIVE again and its held notifications go.

Every server process runs one (``OPENTMS_WEBHOOK_DISPATCHER``); they share
the queue, and each claim is one dispatcher's. Delivery is at least once: a
dispatcher that dies between sending and recording leaves a claim that
expires, and the notification is sent again with the same event id."""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from opentms.crypto.webhook_signature import SignatureInput
from opentms.domain.ports import Clock, SigningKeys, TransportResult, WebhookTransport
from opentms.domain.ports.webhooks import (
    DueNotification,
    NotificationQueue,
    Outcome,
    PingTarget,
)
from opentms.domain.webhooks import (
    DeliveryAttempt,
    NotificationStatus,
    RequestType,
    notification_body,
)
from opentms.services.webhooks import envelope

log = logging.getLogger("opentms.webhooks")

# How often a SUSPENDED subscription's receiver is pinged again (service clock).
PING_INTERVAL = timedelta(minutes=1)
# The longest wait after rounds that failed (the database away, say).
MAX_BACKOFF_SECONDS = 30.0


@dataclass(frozen=True)
class DispatcherSettings:
    """``lease``: how long a claim lasts (real time); it covers a batch's
    requests, so that no other dispatcher takes a notification while it is
    being sent. ``workers``: requests in flight at once; a claim takes at
    most ``batch`` notifications (``workers`` by default)."""

    signature_input: SignatureInput = "payload"
    poll_seconds: float = 1.0
    lease: timedelta = timedelta(seconds=35)
    workers: int = 4
    batch: int | None = None


def outcome_of(notification: DueNotification, result: TransportResult, now: datetime) -> Outcome:
    """Where ``notification`` goes after an attempt that got ``result`` at
    ``now``: a 2xx answer delivers it; otherwise retry number ``k`` (``k``
    the attempts made so far, this one included) is due after the policy's
    delay, and when the policy has no such retry it FAILS, or with
    ``deactivateFlag`` is HELD (its subscription SUSPENDED)."""
    if result.succeeded:
        return Outcome(NotificationStatus.DELIVERED)
    policy = notification.retry_policy
    delay = policy.delay(notification.attempts + 1)
    if delay is not None:
        return Outcome(NotificationStatus.RETRY, now + delay)
    if policy.deactivate_flag:
        return Outcome(NotificationStatus.HELD)
    return Outcome(NotificationStatus.FAILED)


def worker_name() -> str:
    """This dispatcher's name in ``claimed_by``: host, process, and a random
    part (two dispatchers of one process have two names)."""
    return f"{socket.gethostname()[:32]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class Dispatcher:
    """Sends due notifications: :meth:`run_once` for one round (tests call
    it directly), :meth:`start` and :meth:`stop` for a background thread
    that runs rounds until stopped, woken by ``doorbell`` (set by a unit of
    work that queued notifications) or every ``poll_seconds``."""

    def __init__(
        self,
        queue: NotificationQueue,
        signing_keys: SigningKeys,
        transport: WebhookTransport,
        clock: Clock,
        real_clock: Clock,
        settings: DispatcherSettings | None = None,
        doorbell: threading.Event | None = None,
    ) -> None:
        self._queue = queue
        self._keys = signing_keys
        self._transport = transport
        self._clock = clock
        self._real_clock = real_clock
        self._settings = settings or DispatcherSettings()
        self.doorbell = doorbell or threading.Event()
        self.name = worker_name()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._pool: ThreadPoolExecutor | None = None
        self._lock = threading.Lock()

    @property
    def batch(self) -> int:
        return self._settings.batch or self._settings.workers

    def run_once(self) -> int:
        """Claim a batch of due notifications and send them, then ping the
        SUSPENDED subscriptions that are due; the number of notifications sent."""
        claimed = self._queue.claim(
            self.name,
            self._clock.now(),
            self._real_clock.now(),
            self._settings.lease,
            self.batch,
        )
        if len(claimed) > 1 and self._settings.workers > 1:
            list(self._executor().map(self._send, claimed))
        else:
            for notification in claimed:
                self._send(notification)
        self._ping_suspended()
        return len(claimed)

    def start(self) -> None:
        """Run rounds in a background thread until :meth:`stop`."""
        with self._lock:
            if self._thread is not None:
                return
            self._stopping.clear()
            self._thread = threading.Thread(
                target=self._loop, name="opentms-webhook-dispatcher", daemon=True
            )
            self._thread.start()
        log.info("webhook dispatcher %s started", self.name)

    def stop(self, timeout: float | None = 30.0) -> None:
        """Stop the thread after the round under way (waits up to ``timeout``
        seconds for it); notifications it had claimed and not recorded are
        sent again once their claim expires."""
        with self._lock:
            thread, self._thread = self._thread, None
            self._stopping.set()
            self.doorbell.set()
        if thread is not None:
            thread.join(timeout)
            log.info("webhook dispatcher %s stopped", self.name)
        pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def _loop(self) -> None:
        failures = 0
        while not self._stopping.is_set():
            self.doorbell.clear()
            try:
                sent = self.run_once()
                failures = 0
            except Exception:
                # The database may be away for a while: log, wait longer each
                # time (up to MAX_BACKOFF_SECONDS), try again.
                failures += 1
                log.exception("webhook dispatcher %s: a round failed", self.name)
                sent = 0
            if self._stopping.is_set():
                break
            if failures:
                wait = min(self._settings.poll_seconds * 2**failures, MAX_BACKOFF_SECONDS)
                self._stopping.wait(wait)
            elif sent < self.batch:
                self.doorbell.wait(self._settings.poll_seconds)

    def _executor(self) -> ThreadPoolExecutor:
        with self._lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(
                    self._settings.workers, thread_name_prefix="opentms-webhook"
                )
            return self._pool

    def _send(self, notification: DueNotification) -> None:
        try:
            self._deliver(notification)
        except Exception:
            # Left claimed: sent again once the claim expires.
            log.exception(
                "webhook notification=%s subscription=%s: not sent",
                notification.id,
                notification.subscription_id,
            )

    def _deliver(self, notification: DueNotification) -> None:
        retry_number = notification.attempts
        request_type = RequestType.RETRY if retry_number else RequestType.NEW
        trace_id = envelope.transaction_trace_id(notification.id, retry_number)
        body = notification_body(
            notification.event, notification.subscription_id, trace_id, retry_number, request_type
        )
        key = self._keys.current(notification.merchant_id, self._clock.now())
        request = envelope.delivery(
            body, key, self._real_clock.now(), self._settings.signature_input
        )
        result = self._transport.post(notification.webhook_url, request.headers, request.body)
        now = self._clock.now()
        outcome = outcome_of(notification, result, now)
        attempt = DeliveryAttempt.of(
            result,
            notification_id=notification.id,
            subscription_id=notification.subscription_id,
            merchant_id=notification.merchant_id,
            attempt=retry_number + 1,
            kind=_kind(notification),
            transaction_trace_id=trace_id,
            at=now,
        )
        recorded = self._queue.record(self.name, notification, outcome, attempt)
        log.info(
            "webhook notification=%s event=%s subscription=%s merchant=%s retry=%d "
            "status=%s latency_ms=%.1f outcome=%s%s",
            notification.id,
            notification.event.id,
            notification.subscription_id,
            notification.merchant_id,
            retry_number,
            result.status_code if result.status_code is not None else "none",
            result.latency_ms,
            outcome.status.value,
            "" if recorded else " (not recorded: the claim was lost)",
        )

    def _ping_suspended(self) -> None:
        targets = self._queue.claim_pings(self._clock.now(), PING_INTERVAL, self.batch)
        for target in targets:
            try:
                self._ping(target)
            except Exception:
                log.exception("webhook subscription=%s: ping failed", target.subscription_id)

    def _ping(self, target: PingTarget) -> None:
        result = self._transport.get(target.url)
        attempt = DeliveryAttempt.of(
            result,
            notification_id=None,
            subscription_id=target.subscription_id,
            merchant_id=target.merchant_id,
            attempt=1,
            kind="HEALTH_CHECK",
            transaction_trace_id=None,
            at=self._clock.now(),
        )
        activated = self._queue.record_ping(target, attempt)
        log.info(
            "webhook ping subscription=%s merchant=%s status=%s%s",
            target.subscription_id,
            target.merchant_id,
            result.status_code if result.status_code is not None else "none",
            " (ACTIVE again)" if activated else "",
        )


def lease_for(connect_timeout: float, read_timeout: float, batch: int, workers: int) -> timedelta:
    """A claim's length: time for every request of a batch (``batch`` over
    ``workers`` rounds of a connect and a read timeout each), twice, plus 5 s."""
    rounds = -(-batch // max(workers, 1))
    return timedelta(seconds=2 * rounds * (connect_timeout + read_timeout) + 5)


def _kind(notification: DueNotification) -> Literal["NEW", "RETRY", "REPLAY"]:
    if notification.attempts:
        return "RETRY"
    return "REPLAY" if notification.replay else "NEW"
