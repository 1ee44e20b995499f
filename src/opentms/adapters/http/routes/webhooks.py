"""Routes of TMS webhooks (docs/webhooks.md): notification subscriptions v1
and v2, the test notification, replays (``/nrtf/v1``), the signing keys
(``/kms/egress/v2/keys-sym``) and the delivery history (an opentms
extension). Answers deserialize in the CyberSource SDK's models (0.0.80:
``InlineResponse2006``/``2007``/``2008``/``2017``/``2018``/``2019``)."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Any

from starlette.responses import Response

from opentms.adapters.http.openapi import PAGING, Operation
from opentms.adapters.http.pipeline import AuthenticatedRequest, Pipeline, json_response, no_content
from opentms.adapters.http.routes.webhook_inputs import by_status, changes, draft
from opentms.adapters.http.routes.webhook_render import (
    render_products,
    render_time,
    render_webhook,
)
from opentms.adapters.http.schemas.webhooks import (
    ReplayCreate,
    StatusUpdate,
    SymKeyCreate,
    WebhookCreate,
    WebhookCreateV1,
    WebhookUpdate,
    WebhookUpdateV1,
)
from opentms.domain.errors import FieldError, InvalidCombination, MissingFields, invalid_field
from opentms.domain.webhooks import (
    SubscriptionStatus,
)
from opentms.services.container import Services
from opentms.services.webhooks.keys import WebhookKeyService
from opentms.services.webhooks.subscriptions import (
    WebhookService,
)

V1 = "/notification-subscriptions/v1"
V2 = "/notification-subscriptions/v2"
TAG = "Webhooks"
LIST = {"type": "array", "items": {"type": "object"}}
LIST_QUERY = [
    {"name": name, "in": "query", "required": False, "schema": {"type": "string", "maxLength": 128}}
    for name in ("organizationId", "productId", "eventType")
]


@dataclass(frozen=True)
class WebhookRoutes:
    webhooks: WebhookService
    keys: WebhookKeyService

    def _query(self, request: AuthenticatedRequest, name: str) -> str | None:
        value = request.http_request.query_params.get(name)
        if value is not None and len(value) > 128:
            raise invalid_field(name, f"{name} is at most 128 characters.", "query")
        return value

    def _products(self, request: AuthenticatedRequest) -> Response:
        organization = request.path("organizationId")
        products = self.webhooks.products(request.tenant.merchant_id, organization)
        return json_response(render_products(products))

    def _create(self, request: AuthenticatedRequest, version: int) -> Response:
        model: WebhookCreate | WebhookCreateV1
        if version == 2:
            model, _ = request.model(WebhookCreate)
        else:
            model, _ = request.model(WebhookCreateV1)
        created = self.webhooks.create(request.tenant.merchant_id, draft(model))
        return json_response(render_webhook(created, version), 201)

    def _list(self, request: AuthenticatedRequest, version: int) -> Response:
        found = self.webhooks.list_webhooks(
            request.tenant.merchant_id,
            self._query(request, "organizationId"),
            self._query(request, "productId"),
            self._query(request, "eventType"),
        )
        return json_response([render_webhook(s, version) for s in found])

    def _get(self, request: AuthenticatedRequest, version: int) -> Response:
        found = self.webhooks.get(request.tenant.merchant_id, request.path("webhookId"))
        return json_response(render_webhook(found, version))

    def _patch(self, request: AuthenticatedRequest, version: int) -> Response:
        model: WebhookUpdate | WebhookUpdateV1
        if version == 2:
            model, _ = request.model(WebhookUpdate)
        else:
            model, _ = request.model(WebhookUpdateV1)
        updated = self.webhooks.update(
            request.tenant.merchant_id, request.path("webhookId"), changes(model)
        )
        return json_response(render_webhook(updated, version))

    def _delete(self, request: AuthenticatedRequest) -> Response:
        self.webhooks.delete(request.tenant.merchant_id, request.path("webhookId"))
        return no_content()

    def get_products_v2(self, request: AuthenticatedRequest) -> Response:
        return self._products(request)

    def get_products_v1(self, request: AuthenticatedRequest) -> Response:
        return self._products(request)

    def post_webhook_v2(self, request: AuthenticatedRequest) -> Response:
        return self._create(request, 2)

    def post_webhook_v1(self, request: AuthenticatedRequest) -> Response:
        return self._create(request, 1)

    def get_webhooks_v2(self, request: AuthenticatedRequest) -> Response:
        return self._list(request, 2)

    def get_webhooks_v1(self, request: AuthenticatedRequest) -> Response:
        return self._list(request, 1)

    def get_webhook_v2(self, request: AuthenticatedRequest) -> Response:
        return self._get(request, 2)

    def get_webhook_v1(self, request: AuthenticatedRequest) -> Response:
        return self._get(request, 1)

    def patch_webhook_v2(self, request: AuthenticatedRequest) -> Response:
        return self._patch(request, 2)

    def patch_webhook_v1(self, request: AuthenticatedRequest) -> Response:
        return self._patch(request, 1)

    def delete_webhook_v2(self, request: AuthenticatedRequest) -> Response:
        return self._delete(request)

    def delete_webhook_v1(self, request: AuthenticatedRequest) -> Response:
        return self._delete(request)

    def put_webhook_status(self, request: AuthenticatedRequest) -> Response:
        model, _ = request.model(StatusUpdate)
        self.webhooks.set_status(
            request.tenant.merchant_id, request.path("webhookId"), SubscriptionStatus(model.status)
        )
        return no_content()

    def post_webhook_test(self, request: AuthenticatedRequest) -> Response:
        body = self.webhooks.send_test(request.tenant.merchant_id, request.path("webhookId"))
        return json_response(body)

    def post_webhook_replay(self, request: AuthenticatedRequest) -> Response:
        model, _ = request.model(ReplayCreate)
        merchant_id, webhook_id = request.tenant.merchant_id, request.path("webhookId")
        traces, query = model.by_transaction_trace_identifiers, model.by_delivery_status
        if traces is None and query is None:
            raise MissingFields(
                "Give byTransactionTraceIdentifiers or byDeliveryStatus.",
                (FieldError("byTransactionTraceIdentifiers"), FieldError("byDeliveryStatus")),
            )
        if traces is not None and query is not None:
            raise InvalidCombination(
                "Give byTransactionTraceIdentifiers or byDeliveryStatus, not both.",
                (FieldError("byTransactionTraceIdentifiers"), FieldError("byDeliveryStatus")),
            )
        if traces is not None:
            queued = self.webhooks.replay_traces(merchant_id, webhook_id, traces)
        else:
            assert query is not None  # noqa: S101 - checked just above
            queued = self.webhooks.replay_by_status(merchant_id, webhook_id, by_status(query))
        body = {"webhookId": webhook_id, "replayed": len(queued), "notificationIds": queued}
        return json_response(body, 202)

    def get_webhook_deliveries(self, request: AuthenticatedRequest) -> Response:
        offset, limit = request.paging()
        webhook_id = request.path("webhookId")
        attempts, total = self.webhooks.deliveries(
            request.tenant.merchant_id, webhook_id, offset, limit
        )
        deliveries = [
            {
                "attempt": view.attempt.attempt,
                "kind": view.attempt.kind,
                "at": render_time(view.attempt.at),
                "statusCode": view.attempt.status_code,
                "latencyMs": view.attempt.latency_ms,
                "error": view.attempt.error,
                "transactionTraceId": view.attempt.transaction_trace_id,
                "notificationId": view.attempt.notification_id,
                "notificationStatus": view.notification_status,
            }
            for view in attempts
        ]
        body = {
            "webhookId": webhook_id,
            "offset": offset,
            "limit": limit,
            "count": len(deliveries),
            "total": total,
            "deliveries": deliveries,
        }
        return json_response(body)

    def post_sym_egress_key(self, request: AuthenticatedRequest) -> Response:
        model, _ = request.model(SymKeyCreate)
        info = model.key_information
        reference = model.client_reference_information
        merchant_id = request.tenant.merchant_id
        created = self.keys.create(
            merchant_id,
            info.organization_id,
            int(info.expiry_duration) if info.expiry_duration is not None else None,
            reference.code if reference else None,
        )
        key_information = {
            "provider": info.provider or "nrtd",
            "tenant": info.tenant or merchant_id,
            "organizationId": merchant_id,
            "clientKeyId": info.client_key_id,
            "keyId": created.key.key_id,
            # Security: the one time the key is shown; only its sealed form is stored.
            "key": base64.b64encode(created.key.secret).decode(),
            "keyType": "sharedSecret",
            "status": "active",
            "expirationDate": render_time(created.expires_at),
        }
        body: dict[str, Any] = {
            "submitTimeUtc": render_time(created.created_at),
            "status": "SUCCESS",
            "keyInformation": {k: v for k, v in key_information.items() if v is not None},
        }
        if reference and reference.code:
            body["clientReferenceInformation"] = {"code": reference.code}
        return json_response(body, 201)


def operations(services: Services, pipeline: Pipeline) -> list[Operation]:
    """The route table, in the order Starlette tries it (none when the
    services have no webhooks)."""
    if services.webhooks is None or services.webhook_keys is None:
        return []
    routes = WebhookRoutes(services.webhooks, services.webhook_keys)
    e = pipeline.endpoint

    def op(method: str, path: str, handler: Any, summary: str, **extra: Any) -> Operation:
        return Operation(
            method=method, path=path, endpoint=e(handler), summary=summary, tag=TAG, **extra
        )

    table: list[Operation] = []
    for base, v, suffix in ((V2, 2, "v2"), (V1, 1, "v1")):
        table += [
            op(
                "GET",
                f"{base}/products/{{organizationId}}",
                getattr(routes, f"get_products_{suffix}"),
                f"Products and event types to subscribe to ({suffix})",
                response_schema=LIST,
            ),
            op(
                "POST",
                f"{base}/webhooks",
                getattr(routes, f"post_webhook_{suffix}"),
                f"Create a webhook ({suffix})",
                status=201,
                request=WebhookCreate if v == 2 else WebhookCreateV1,
            ),
            op(
                "GET",
                f"{base}/webhooks",
                getattr(routes, f"get_webhooks_{suffix}"),
                f"List webhooks ({suffix})",
                response_schema=LIST,
                parameters=LIST_QUERY,
            ),
            op(
                "GET",
                f"{base}/webhooks/{{webhookId}}",
                getattr(routes, f"get_webhook_{suffix}"),
                f"Retrieve a webhook ({suffix})",
            ),
            op(
                "PATCH",
                f"{base}/webhooks/{{webhookId}}",
                getattr(routes, f"patch_webhook_{suffix}"),
                f"Update a webhook ({suffix})",
                request=WebhookUpdate if v == 2 else WebhookUpdateV1,
            ),
            op(
                "DELETE",
                f"{base}/webhooks/{{webhookId}}",
                getattr(routes, f"delete_webhook_{suffix}"),
                f"Delete a webhook ({suffix}); its history stays",
                status=204,
            ),
        ]
    table += [
        op(
            "PUT",
            f"{V2}/webhooks/{{webhookId}}/status",
            routes.put_webhook_status,
            "Activate (health check) or deactivate a webhook",
            status=204,
            request=StatusUpdate,
        ),
        op(
            "GET",
            f"{V2}/webhooks/{{webhookId}}/deliveries",
            routes.get_webhook_deliveries,
            "A webhook's delivery history, newest first (opentms)",
            parameters=PAGING,
        ),
        op(
            "POST",
            f"{V1}/webhooks/{{webhookId}}",
            routes.post_webhook_test,
            "Send a test notification",
        ),
        op(
            "POST",
            "/nrtf/v1/webhooks/{webhookId}/replays",
            routes.post_webhook_replay,
            "Replay notifications",
            status=202,
            request=ReplayCreate,
        ),
        op(
            "POST",
            "/kms/egress/v2/keys-sym",
            routes.post_sym_egress_key,
            "Create a webhook signing key (shown once)",
            status=201,
            request=SymKeyCreate,
        ),
    ]
    return table
