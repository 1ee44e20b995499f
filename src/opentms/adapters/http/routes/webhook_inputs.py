"""Webhook requests as the services take them: the wire schemas of
:mod:`opentms.adapters.http.schemas.webhooks` turned into drafts, changes and
replay queries (defaults of either API generation applied here)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from opentms.adapters.http.schemas.webhooks import (
    NotificationScopeIn,
    ReplayByDeliveryStatus,
    RetryPolicyIn,
    SecurityPolicyIn,
    WebhookCreate,
    WebhookCreateV1,
    WebhookUpdate,
    WebhookUpdateV1,
)
from opentms.domain.errors import invalid_field
from opentms.domain.webhooks import PRODUCT_ID, NotificationStatus, ProductEvents, RetryPolicy
from opentms.services.webhooks.drafts import (
    ReplayByStatus,
    SubscriptionChanges,
    SubscriptionDraft,
)

DEFAULT_SECURITY_POLICY = {"securityType": "KEY"}
_POLICY_FIELDS = (
    "algorithm",
    "first_retry",
    "interval",
    "number_of_retries",
    "repeat_sequence_count",
    "repeat_sequence_wait_time",
)


def _policy_changes(given: RetryPolicyIn | None) -> dict[str, Any]:
    if given is None:
        return {}
    changes = {f: getattr(given, f) for f in _POLICY_FIELDS if getattr(given, f) is not None}
    if given.deactivate_flag is not None:
        changes["deactivate_flag"] = given.deactivate_flag in (True, "true")
    return changes


def _scope(given: str | NotificationScopeIn | None) -> Any:
    if isinstance(given, NotificationScopeIn):
        return given.model_dump(by_alias=True, exclude_none=True)
    return given


def _security(given: SecurityPolicyIn | None) -> dict[str, Any] | None:
    return None if given is None else given.model_dump(by_alias=True, exclude_none=True)


def draft(model: WebhookCreate | WebhookCreateV1) -> SubscriptionDraft:
    if isinstance(model, WebhookCreate):
        version, default_scope = 2, "DESCENDANTS"
        products = tuple(ProductEvents(p.product_id, tuple(p.event_types)) for p in model.products)
    else:
        version, default_scope = 1, "SELF"
        products = (ProductEvents(model.product_id, tuple(model.event_types)),)
    return SubscriptionDraft(
        api_version=version,
        organization_id=model.organization_id,
        name=model.name,
        description=model.description,
        products=products,
        webhook_url=model.webhook_url,
        health_check_url=model.health_check_url,
        retry_policy=RetryPolicy(**_policy_changes(model.retry_policy)),
        notification_scope=_scope(model.notification_scope) or default_scope,
        security_policy=_security(model.security_policy) or DEFAULT_SECURITY_POLICY,
    )


def changes(model: WebhookUpdate | WebhookUpdateV1) -> SubscriptionChanges:
    products: tuple[ProductEvents, ...] | None = None
    if isinstance(model, WebhookUpdate):
        if model.products is not None:
            products = tuple(
                ProductEvents(p.product_id, tuple(p.event_types)) for p in model.products
            )
    elif model.event_types is not None:
        products = (ProductEvents(model.product_id or PRODUCT_ID, tuple(model.event_types)),)
    elif model.product_id is not None and model.product_id != PRODUCT_ID:
        raise invalid_field("productId", f"The only product is {PRODUCT_ID!r}.")
    return SubscriptionChanges(
        products_field="products" if isinstance(model, WebhookUpdate) else "eventTypes",
        organization_id=model.organization_id,
        name=model.name,
        description=model.description,
        products=products,
        webhook_url=model.webhook_url,
        health_check_url=model.health_check_url,
        retry_policy=_policy_changes(model.retry_policy) or None,
        notification_scope=_scope(model.notification_scope),
        security_policy=_security(model.security_policy),
    )


def _instant(value: str | None, field: str) -> datetime | None:
    """``yyyy-mm-dd hh:mm:ss.ms`` or ISO 8601; without a zone, UTC."""
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise invalid_field(field, f"{field} is a date and time (yyyy-mm-dd hh:mm:ss).") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def by_status(query: ReplayByDeliveryStatus) -> ReplayByStatus:
    statuses = (
        (NotificationStatus(query.status),)
        if query.status
        else (NotificationStatus.FAILED, NotificationStatus.RETRY)
    )
    return ReplayByStatus(
        statuses=statuses,
        start=_instant(query.start_time, "byDeliveryStatus.startTime"),
        end=_instant(query.end_time, "byDeliveryStatus.endTime"),
        hours_back=query.hours_back or 24,
        product_id=query.product_id,
        event_type=query.event_type,
    )
