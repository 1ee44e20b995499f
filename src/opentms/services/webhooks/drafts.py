"""What a webhook request asks for, as the service takes it (a draft, the
changes of an update, a replay query), and the checks of its products, event
types and retry policy."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from opentms.domain.errors import FieldError, InvalidFields, invalid_field
from opentms.domain.webhooks import (
    PRODUCT_ID,
    EventType,
    NotificationStatus,
    ProductEvents,
    RetryPolicy,
)

# A retry is never scheduled further than this after the attempt before it.
MAX_RETRY_DELAY = timedelta(days=30)


@dataclass(frozen=True)
class SubscriptionDraft:
    """A webhook as a create request gives it (either generation)."""

    api_version: int
    organization_id: str | None
    name: str | None
    description: str | None
    products: tuple[ProductEvents, ...]
    webhook_url: str
    health_check_url: str | None
    retry_policy: RetryPolicy
    notification_scope: Any
    security_policy: Mapping[str, Any]


@dataclass(frozen=True)
class SubscriptionChanges:
    """An update (PATCH): None leaves a field as it is. ``products_field``
    is what the request calls the product list (``eventTypes`` in v1)."""

    products_field: str = "products"
    organization_id: str | None = None
    name: str | None = None
    description: str | None = None
    products: tuple[ProductEvents, ...] | None = None
    webhook_url: str | None = None
    health_check_url: str | None = None
    # RetryPolicy's fields to change (the others stay).
    retry_policy: Mapping[str, Any] | None = None
    notification_scope: Any = None
    security_policy: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class ReplayByStatus:
    """``byDeliveryStatus`` of a replay: notifications in ``statuses`` made
    from ``start`` (else ``hours_back`` before now) to ``end`` (else now)."""

    statuses: tuple[NotificationStatus, ...]
    start: datetime | None
    end: datetime | None
    hours_back: int
    product_id: str | None
    event_type: str | None


def catalogue() -> tuple[ProductEvents, ...]:
    """What a merchant may subscribe to."""
    return (ProductEvents(PRODUCT_ID, tuple(e.value for e in EventType)),)


def check_products(products: Sequence[ProductEvents], field: str) -> tuple[ProductEvents, ...]:
    """``products`` when every product and event type is known (merged by
    product), else a 400 naming the first one at fault. ``field`` is the
    request's name for the list (``products``; a v1 request's flat fields
    are named ``productId`` and ``eventTypes``)."""
    if not products:
        raise InvalidFields(f"{field} must name at least one product.", (FieldError(field),))
    merged: dict[str, list[str]] = {}
    for i, product in enumerate(products):
        prefix = f"{field}[{i}]." if field == "products" else ""
        if product.product_id != PRODUCT_ID:
            raise invalid_field(f"{prefix}productId", f"The only product is {PRODUCT_ID!r}.")
        if not product.event_types:
            raise invalid_field(f"{prefix}eventTypes", "Name at least one event type.")
        for j, event_type in enumerate(product.event_types):
            if event_type not in EventType._value2member_map_:
                raise invalid_field(
                    f"{prefix}eventTypes[{j}]",
                    f"Unknown event type; the event types are {', '.join(EventType)}.",
                )
            if event_type not in merged.setdefault(product.product_id, []):
                merged[product.product_id].append(event_type)
    return tuple(ProductEvents(p, tuple(types)) for p, types in merged.items())


def check_retry_policy(policy: RetryPolicy) -> RetryPolicy:
    """No retry may wait more than :data:`MAX_RETRY_DELAY` (GEOMETRIC grows fast)."""
    for retry in range(1, policy.total_retries + 1):
        try:
            delay = policy.delay(retry)
        except OverflowError:
            delay = None
        if delay is None or delay > MAX_RETRY_DELAY:
            raise invalid_field(
                "retryPolicy", f"Retry {retry} would wait longer than {MAX_RETRY_DELAY.days} days."
            )
    return policy
