"""Wire schemas of the notification-subscriptions API (webhooks), both
generations, replays and the signing keys of ``/kms/egress/v2/keys-sym``
(SDK 0.0.80 models ``CreateWebhook``, ``UpdateWebhook``, ``UpdateStatus``,
``SaveSymEgressKey``; the v1 shapes of the older SDKs and the TMS guide)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AliasChoices, Field, StrictBool, StrictInt, StringConstraints

from opentms.adapters.http.schemas.common import WireModel

Url = Annotated[str, StringConstraints(min_length=1, max_length=2048)]
Name = Annotated[str, StringConstraints(max_length=128)]
EventName = Annotated[str, StringConstraints(min_length=1, max_length=128)]
TraceId = Annotated[str, StringConstraints(min_length=1, max_length=80)]
Scope = Literal["SELF", "DESCENDANTS", "CUSTOM"]


class RetryPolicyIn(WireModel):
    """Minutes; ``deactivateFlag`` is a string in the SDK ("true"/"false")."""

    algorithm: Literal["ARITHMETIC", "GEOMETRIC"] | None = None
    first_retry: StrictInt | None = Field(None, ge=0, le=1440)
    interval: StrictInt | None = Field(None, ge=0, le=1440)
    number_of_retries: StrictInt | None = Field(None, ge=0, le=10)
    deactivate_flag: StrictBool | Literal["true", "false"] | None = None
    repeat_sequence_count: StrictInt | None = Field(None, ge=0, le=5)
    repeat_sequence_wait_time: StrictInt | None = Field(None, ge=0, le=10080)
    additional_attributes: list[dict[str, str]] | None = Field(None, max_length=20)


class ProductIn(WireModel):
    product_id: Name
    event_types: list[EventName] = Field(min_length=1, max_length=20)


class NotificationScopeIn(WireModel):
    scope: Scope
    scope_data: list[Name] | None = Field(None, max_length=100)


class AdditionalConfig(WireModel):
    aud: str | None = Field(None, max_length=256)
    # The SDK turns snake_case keys into camelCase before sending: both are read.
    client_id: str | None = Field(
        None,
        validation_alias=AliasChoices("client_id", "clientId"),
        serialization_alias="client_id",
        max_length=256,
    )
    key_id: str | None = Field(None, max_length=256)
    scope: str | None = Field(None, max_length=256)


class SecurityConfig(WireModel):
    o_auth_url: str | None = Field(
        None,
        validation_alias=AliasChoices("oAuthURL", "oAuthUrl"),
        serialization_alias="oAuthURL",
        max_length=2048,
    )
    o_auth_token_type: str | None = Field(None, max_length=64)
    additional_config: AdditionalConfig | None = None


class SecurityPolicyIn(WireModel):
    security_type: str | None = Field(None, max_length=32)
    proxy_type: str | None = Field(None, max_length=32)
    config: SecurityConfig | None = None


class _WebhookFields(WireModel):
    name: Name | None = None
    description: str | None = Field(None, max_length=1024)
    organization_id: Name | None = None
    health_check_url: Url | None = None
    retry_policy: RetryPolicyIn | None = None
    notification_scope: Scope | NotificationScopeIn | None = None
    security_policy: SecurityPolicyIn | None = None


class WebhookCreate(_WebhookFields):
    """CreateWebhook (v2): ``products[]``."""

    products: list[ProductIn] = Field(min_length=1, max_length=10)
    webhook_url: Url


class WebhookCreateV1(_WebhookFields):
    """A v1 create: flat ``productId`` and ``eventTypes``."""

    product_id: Name
    event_types: list[EventName] = Field(min_length=1, max_length=20)
    webhook_url: Url


class WebhookUpdate(_WebhookFields):
    """UpdateWebhook (v2): every field optional."""

    products: list[ProductIn] | None = Field(None, min_length=1, max_length=10)
    webhook_url: Url | None = None


class WebhookUpdateV1(_WebhookFields):
    product_id: Name | None = None
    event_types: list[EventName] | None = Field(None, min_length=1, max_length=20)
    webhook_url: Url | None = None


class StatusUpdate(WireModel):
    """UpdateStatus."""

    status: Literal["ACTIVE", "INACTIVE"]


class ReplayByDeliveryStatus(WireModel):
    status: Literal["FAILED", "RETRY"] | None = None
    start_time: str | None = Field(None, max_length=40)
    end_time: str | None = Field(None, max_length=40)
    hours_back: StrictInt | None = Field(None, ge=1, le=744)
    product_id: Name | None = None
    event_type: EventName | None = None


class ReplayCreate(WireModel):
    """``/nrtf/v1/webhooks/{webhookId}/replays``: one of the two."""

    by_transaction_trace_identifiers: list[TraceId] | None = Field(
        None, min_length=1, max_length=1000
    )
    by_delivery_status: ReplayByDeliveryStatus | None = None


class ClientReference(WireModel):
    code: str | None = Field(None, max_length=50)


class SymKeyInformation(WireModel):
    provider: str | None = Field(None, max_length=32)
    tenant: str | None = Field(None, max_length=64)
    key_type: Literal["sharedSecret"] | None = None
    organization_id: Name | None = None
    client_key_id: str | None = Field(None, max_length=64)
    expiry_duration: (
        Annotated[str, StringConstraints(pattern=r"^[0-9]{1,5}$")] | StrictInt | None
    ) = None


class SymKeyCreate(WireModel):
    """SaveSymEgressKey."""

    client_reference_information: ClientReference | None = None
    client_request_action: Literal["CREATE"]
    key_information: SymKeyInformation
