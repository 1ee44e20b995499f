"""The use cases of CyberSource's notification-subscriptions API
(docs/webhooks.md, "Subscription API"): a merchant's webhooks, the health
check that activates them, the test notification, replays and the delivery
history.

Tenancy: ``organizationId`` is the authenticated merchant. An organization
named in a path or a query (``/products/{organizationId}``, ``GET
/webhooks?organizationId=``) that is not the merchant does not exist for it:
404 ``notFound``, as another merchant's webhook id. In a request body
(create, update) it is a field of the request, so another value is a 400
``invalidFields`` naming ``organizationId``; absent, it is the merchant."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from opentms.crypto.webhook_signature import SignatureInput
from opentms.domain import randomness
from opentms.domain.errors import FieldError, InvalidFields, NotFound, invalid_field
from opentms.domain.ports import Clock, DestinationRefused, SigningKeys, WebhookTransport
from opentms.domain.ports.webhooks import AttemptView, WebhookSubscriptionStore
from opentms.domain.webhooks import (
    DeliveryAttempt,
    ProductEvents,
    Subscription,
    SubscriptionStatus,
)
from opentms.services.webhooks.drafts import (
    ReplayByStatus,
    SubscriptionChanges,
    SubscriptionDraft,
    catalogue,
    check_products,
    check_retry_policy,
)
from opentms.services.webhooks.envelope import delivery

TEST_MESSAGE = "This is a test notification from opentms."
# How far back a replay by delivery status may look, and its widest window.
MAX_REPLAY_AGE = timedelta(days=31)
MAX_REPLAY_WINDOW = timedelta(hours=24)


class WebhookService:
    """A merchant's webhook subscriptions. The health check (a GET of the
    health-check URL, else the webhook URL) is made inline when a webhook is
    created, updated or set ACTIVE: an answer below 500 makes it ACTIVE,
    anything else SUSPENDED; every ping is a HEALTH_CHECK attempt of its
    history. Times are the service clock's (a sandbox's moves with it)."""

    def __init__(
        self,
        store: WebhookSubscriptionStore,
        transport: WebhookTransport,
        keys: SigningKeys,
        clock: Clock,
        signature_input: SignatureInput = "payload",
    ) -> None:
        self._store = store
        self._transport = transport
        self._keys = keys
        self._clock = clock
        self._signature_input: SignatureInput = signature_input

    # Reading.

    def products(self, merchant_id: str, organization_id: str) -> tuple[ProductEvents, ...]:
        self._check_organization(merchant_id, organization_id)
        return catalogue()

    def list_webhooks(
        self,
        merchant_id: str,
        organization_id: str | None,
        product_id: str | None = None,
        event_type: str | None = None,
    ) -> list[Subscription]:
        if organization_id is not None:
            self._check_organization(merchant_id, organization_id)
        return [
            s
            for s in self._store.list_all(merchant_id)
            if (product_id is None or any(p.product_id == product_id for p in s.products))
            and (event_type is None or any(event_type in p.event_types for p in s.products))
        ]

    def get(self, merchant_id: str, webhook_id: str) -> Subscription:
        subscription = self._store.get(merchant_id, webhook_id)
        if subscription is None:
            raise NotFound(f"Webhook {webhook_id} does not exist.")
        return subscription

    def deliveries(
        self, merchant_id: str, webhook_id: str, offset: int, limit: int
    ) -> tuple[list[AttemptView], int]:
        self.get(merchant_id, webhook_id)
        return self._store.attempts(merchant_id, webhook_id, offset, limit)

    # Writing.

    def create(self, merchant_id: str, draft: SubscriptionDraft) -> Subscription:
        self._check_body_organization(merchant_id, draft.organization_id)
        self._check_url("webhookUrl", draft.webhook_url)
        if draft.health_check_url is not None:
            self._check_url("healthCheckUrl", draft.health_check_url)
        field = "products" if draft.api_version == 2 else "eventTypes"
        now = self._clock.now()
        subscription = Subscription(
            id=_new_webhook_id(),
            merchant_id=merchant_id,
            api_version=draft.api_version,
            name=draft.name,
            description=draft.description,
            products=check_products(draft.products, field),
            webhook_url=draft.webhook_url,
            health_check_url=draft.health_check_url,
            status=SubscriptionStatus.SUSPENDED,
            retry_policy=check_retry_policy(draft.retry_policy),
            notification_scope=draft.notification_scope,
            security_policy=dict(draft.security_policy),
            created_at=now,
        )
        self._store.add(subscription, None)
        return self._activate(subscription, updated=False)

    def update(
        self, merchant_id: str, webhook_id: str, changes: SubscriptionChanges
    ) -> Subscription:
        current = self.get(merchant_id, webhook_id)
        self._check_body_organization(merchant_id, changes.organization_id)
        if changes.webhook_url is not None:
            self._check_url("webhookUrl", changes.webhook_url)
        if changes.health_check_url is not None:
            self._check_url("healthCheckUrl", changes.health_check_url)
        field = changes.products_field
        changed = replace(
            current,
            name=_either(changes.name, current.name),
            description=_either(changes.description, current.description),
            products=(
                check_products(changes.products, field)
                if changes.products is not None
                else current.products
            ),
            webhook_url=changes.webhook_url or current.webhook_url,
            health_check_url=_either(changes.health_check_url, current.health_check_url),
            retry_policy=(
                check_retry_policy(replace(current.retry_policy, **changes.retry_policy))
                if changes.retry_policy
                else current.retry_policy
            ),
            notification_scope=_either(changes.notification_scope, current.notification_scope),
            security_policy=(
                dict(changes.security_policy)
                if changes.security_policy is not None
                else current.security_policy
            ),
        )
        if current.status is SubscriptionStatus.INACTIVE:
            # Turned off by the merchant: an update does not turn it on.
            return self._save(changed, None)
        return self._activate(changed, updated=True)

    def set_status(
        self, merchant_id: str, webhook_id: str, status: SubscriptionStatus
    ) -> Subscription:
        """ACTIVE: pinged, then ACTIVE or SUSPENDED; INACTIVE: nothing more is queued."""
        current = self.get(merchant_id, webhook_id)
        if status is SubscriptionStatus.INACTIVE:
            return self._save(replace(current, status=status), None)
        return self._activate(current, updated=True)

    def delete(self, merchant_id: str, webhook_id: str) -> None:
        """Soft: its history and notifications stay; its pending notifications
        are never sent (dispatchers claim those of live, ACTIVE subscriptions only)."""
        if not self._store.delete(merchant_id, webhook_id, self._clock.now()):
            raise NotFound(f"Webhook {webhook_id} does not exist.")

    def _activate(self, subscription: Subscription, *, updated: bool) -> Subscription:
        now = self._clock.now()
        result = self._transport.get(subscription.ping_url)
        attempt = DeliveryAttempt.of(
            result,
            notification_id=None,
            subscription_id=subscription.id,
            merchant_id=subscription.merchant_id,
            attempt=1,
            kind="HEALTH_CHECK",
            transaction_trace_id=None,
            at=now,
        )
        self._store.record_attempt(attempt)
        status = SubscriptionStatus.ACTIVE if attempt.answered else SubscriptionStatus.SUSPENDED
        changed = replace(subscription, status=status)
        if not updated:
            self._store.update(changed, now)
            return changed
        saved = self._save(changed, now)
        if status is SubscriptionStatus.ACTIVE:
            self._store.release_held(subscription.merchant_id, subscription.id, now)
        return saved

    def _save(self, subscription: Subscription, checked_at: datetime | None) -> Subscription:
        saved = replace(
            subscription, updated_at=self._clock.now(), version=subscription.version + 1
        )
        if not self._store.update(saved, checked_at):
            raise NotFound(f"Webhook {subscription.id} does not exist.")
        return saved

    # Notifications.

    def send_test(self, merchant_id: str, webhook_id: str) -> dict[str, Any]:
        """A sample notification, signed and sent now whatever the webhook's
        status, recorded as a TEST attempt; the body as sent."""
        subscription = self.get(merchant_id, webhook_id)
        now = self._clock.now()
        trace_id = f"{randomness.token_hex('webhook test id', 16).upper()}-0"
        product = subscription.products[0]
        body: dict[str, Any] = {
            "eventDate": now.strftime("%Y-%m-%dT%H:%M:%S"),
            "eventType": product.event_types[0],
            "organizationId": merchant_id,
            "payloads": {"testPayload": {"message": TEST_MESSAGE}},
            "productId": product.product_id,
            "requestType": "NEW",
            "retryNumber": 0,
            "transactionTraceId": trace_id,
            "webhookId": subscription.id,
        }
        key = self._keys.current(merchant_id, now)
        # Security: t is real time, which receivers compare with their own clocks.
        request = delivery(body, key, datetime.now(UTC), self._signature_input)
        result = self._transport.post(subscription.webhook_url, request.headers, request.body)
        self._store.record_attempt(
            DeliveryAttempt.of(
                result,
                notification_id=None,
                subscription_id=subscription.id,
                merchant_id=merchant_id,
                attempt=1,
                kind="TEST",
                transaction_trace_id=trace_id,
                at=now,
            )
        )
        return body

    def replay_traces(
        self, merchant_id: str, webhook_id: str, trace_ids: Sequence[str]
    ) -> list[str]:
        """New notifications (replays) of the events that the attempts
        ``trace_ids`` (``{notificationId}-{n}``) carried; their ids."""
        self.get(merchant_id, webhook_id)
        notification_ids = [t.rsplit("-", 1)[0] if "-" in t else t for t in trace_ids]
        events = self._store.events_of_notifications(merchant_id, webhook_id, notification_ids)
        return self._store.requeue(merchant_id, webhook_id, events, self._clock.now())

    def replay_by_status(
        self, merchant_id: str, webhook_id: str, query: ReplayByStatus
    ) -> list[str]:
        self.get(merchant_id, webhook_id)
        now = self._clock.now()
        if (query.start is None) != (query.end is None):
            raise InvalidFields(
                "byDeliveryStatus: give both startTime and endTime, or neither (hoursBack).",
                (FieldError("byDeliveryStatus.startTime"), FieldError("byDeliveryStatus.endTime")),
            )
        if query.start is not None and query.end is not None:
            start, end = query.start, query.end
            if not start <= end or end - start > MAX_REPLAY_WINDOW:
                raise invalid_field(
                    "byDeliveryStatus.endTime",
                    "endTime is after startTime, at most 24 hours after it.",
                )
            if start < now - MAX_REPLAY_AGE:
                raise invalid_field(
                    "byDeliveryStatus.startTime", "startTime is at most one month ago."
                )
        else:
            start, end = now - timedelta(hours=query.hours_back), now
        events = self._store.events_by_status(
            merchant_id,
            webhook_id,
            query.statuses,
            start,
            end,
            query.product_id,
            query.event_type,
        )
        return self._store.requeue(merchant_id, webhook_id, events, now)

    # Checks.

    def _check_url(self, field: str, url: str) -> None:
        try:
            self._transport.check_destination(url)
        except DestinationRefused as refused:
            raise invalid_field(field, f"{field}: {refused}") from None

    @staticmethod
    def _check_organization(merchant_id: str, organization_id: str) -> None:
        if organization_id != merchant_id:
            raise NotFound("The organization does not exist.")

    @staticmethod
    def _check_body_organization(merchant_id: str, organization_id: str | None) -> None:
        if organization_id is not None and organization_id != merchant_id:
            raise invalid_field(
                "organizationId", "organizationId is the authenticated merchant's id."
            )


def _either(given: Any, current: Any) -> Any:
    return current if given is None else given


def _new_webhook_id() -> str:
    return str(uuid.UUID(bytes=randomness.token_bytes("webhook id", 16), version=4))
