"""Webhook answers as the CyberSource SDK's models read them (0.0.80:
``InlineResponse2006``, ``2007``, ``2008``, ``2018``): camelCase fields,
``deactivateFlag`` a string, times in UTC with milliseconds."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from opentms.domain.webhooks import PRODUCT_ID, PRODUCT_NAME, ProductEvents, Subscription

DISPLAY_NAMES = {
    "tms.networktoken.provisioned": "Network token provisioned",
    "tms.networktoken.updated": "Network token updated",
    "tms.networktoken.binding": "Network token bound to a device",
    "tms.token.created": "Token created",
    "tms.token.updated": "Token updated",
    "tms.token.pan_updated": "Token card number updated",
}


def render_time(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def _products(products: tuple[ProductEvents, ...]) -> list[dict[str, Any]]:
    return [{"productId": p.product_id, "eventTypes": list(p.event_types)} for p in products]


def render_webhook(subscription: Subscription, version: int) -> dict[str, Any]:
    """The webhook object; a v1 answer also has the flat productId and
    eventTypes, and its notificationScope as given (a v2 one: a string)."""
    s, policy = subscription, subscription.retry_policy
    scope = s.notification_scope
    if version == 2 and isinstance(scope, dict):
        scope = scope.get("scope")
    body: dict[str, Any] = {
        "webhookId": s.id,
        "organizationId": s.merchant_id,
        "products": _products(s.products),
        "webhookUrl": s.webhook_url,
        "healthCheckUrl": s.health_check_url,
        "status": s.status.value,
        "name": s.name,
        "description": s.description,
        "retryPolicy": {
            "algorithm": policy.algorithm,
            "firstRetry": policy.first_retry,
            "interval": policy.interval,
            "numberOfRetries": policy.number_of_retries,
            "deactivateFlag": "true" if policy.deactivate_flag else "false",
            "repeatSequenceCount": policy.repeat_sequence_count,
            "repeatSequenceWaitTime": policy.repeat_sequence_wait_time,
        },
        "securityPolicy": dict(s.security_policy),
        "createdOn": render_time(s.created_at),
        "updatedOn": render_time(s.updated_at) if s.updated_at else None,
        "notificationScope": scope,
    }
    if version == 1 and s.products:
        body["productId"] = s.products[0].product_id
        body["eventTypes"] = list(s.products[0].event_types)
    return {name: value for name, value in body.items() if value is not None}


def render_products(products: tuple[ProductEvents, ...]) -> list[dict[str, Any]]:
    return [
        {
            "productId": p.product_id,
            "productName": PRODUCT_NAME if p.product_id == PRODUCT_ID else p.product_id,
            "eventTypes": [
                {
                    "eventName": name,
                    "displayName": DISPLAY_NAMES.get(name, name),
                    "frequency": 1,
                    "timeSensitivity": True,
                    "payloadEncryption": False,
                }
                for name in p.event_types
            ],
        }
        for p in products
    ]
