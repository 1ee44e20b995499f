"""Operations (route + OpenAPI metadata) and the OpenAPI document built from
them and from the wire schemas."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from opentms import __version__
from opentms.adapters.http.pipeline import Endpoint

PROFILE_ID = {
    "name": "profile-id",
    "in": "header",
    "required": False,
    "description": "TMS profile; the merchant's default profile when absent.",
    "schema": {"type": "string", "maxLength": 36},
}
IF_MATCH = {
    "name": "if-match",
    "in": "header",
    "required": False,
    "description": (
        'ETag from an earlier response ("3"; 3 unquoted is read as "3"), a list of them, '
        "or *. Weak tags (W/) never match. A mismatch answers 412 with the current ETag."
    ),
    "schema": {"type": "string"},
}
RETRIEVE_BIN_DETAILS = {
    "name": "retrieveBinDetails",
    "in": "query",
    "required": False,
    "schema": {"type": "string", "enum": ["true", "false", "True", "False"]},
}
PAGING = [
    {
        "name": "offset",
        "in": "query",
        "required": False,
        "schema": {"type": "integer", "minimum": 0, "default": 0},
    },
    {
        "name": "limit",
        "in": "query",
        "required": False,
        "schema": {"type": "integer", "minimum": 1, "maximum": 100, "default": 20},
    },
]
ERROR_STATUSES = {
    "400": "Invalid request: errors[].details[] names the fields",
    "401": "Authentication failed: errors[].reason names the check",
    "403": "Refused: a network declined, or the token is suspended",
    "404": "Token not found",
    "409": "Conflict",
    "410": "Token was deleted",
    "412": "If-Match does not match the ETag; the ETag header gives the current one",
    "424": "Profile not found",
}


@dataclass(frozen=True, kw_only=True)
class Operation:
    """A route and its OpenAPI entry; built by keyword, so each is named where it is given."""

    method: str
    path: str
    endpoint: Endpoint
    summary: str
    tag: str
    status: int = 200
    request: type[BaseModel] | None = None
    parameters: list[dict[str, Any]] = field(default_factory=list)
    extra_statuses: tuple[int, ...] = ()
    media_type: str = "application/json"
    # "merchant": HTTP Signature or JWT (the TMS API); "admin": the sandbox
    # admin API's bearer token (no profile-id header either).
    security: Literal["merchant", "admin"] = "merchant"
    # The success body's schema when it is not an object (a list: webhooks).
    response_schema: dict[str, Any] | None = None

    @property
    def operation_id(self) -> str:
        return self.endpoint.__name__


def openapi_document(operations: list[Operation]) -> dict[str, Any]:
    models = sorted({op.request for op in operations if op.request}, key=lambda m: m.__name__)
    refs, schemas = models_json_schema(
        [(model, "validation") for model in models],
        ref_template="#/components/schemas/{model}",
        by_alias=True,
    )
    paths: dict[str, dict[str, Any]] = {}
    for op in operations:
        path_params = [
            {"name": part[1:-1], "in": "path", "required": True, "schema": {"type": "string"}}
            for part in op.path.split("/")
            if part.startswith("{")
        ]
        responses: dict[str, Any] = {}
        for status in (op.status, *op.extra_statuses):
            responses[str(status)] = {"description": "Success"}
            if status in (200, 201):
                schema = op.response_schema or (
                    {"type": "string"}
                    if op.media_type == "application/jose"
                    else {"type": "object"}
                )
                responses[str(status)]["content"] = {op.media_type: {"schema": schema}}
        for code, text in ERROR_STATUSES.items():
            responses[code] = {
                "description": text,
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
            }
        entry: dict[str, Any] = {
            "operationId": op.operation_id,
            "summary": op.summary,
            "tags": [op.tag],
            "parameters": path_params + op.parameters + [PROFILE_ID],
            "responses": responses,
            "security": [{"httpSignature": []}, {"jwt": []}],
        }
        if op.security == "admin":
            entry["parameters"] = path_params + op.parameters
            entry["security"] = [{"adminToken": []}]
        if op.request is not None:
            entry["requestBody"] = {
                "required": True,
                "content": {"application/json": {"schema": refs[(op.request, "validation")]}},
            }
        paths.setdefault(op.path, {})[op.method.lower()] = entry
    components = dict(schemas.get("$defs", {}))
    components["Error"] = {
        "type": "object",
        "required": ["errors"],
        "properties": {
            "errors": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["type", "message"],
                    "properties": {
                        "type": {"type": "string"},
                        "message": {"type": "string"},
                        "reason": {"type": "string"},
                        "details": {
                            "type": "array",
                            "items": {
                                "type": "object",
                                "properties": {
                                    "name": {"type": "string"},
                                    "location": {"type": "string"},
                                },
                            },
                        },
                    },
                },
            }
        },
    }
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "opentms",
            "version": __version__,
            "description": "A Token Management Service speaking the CyberSource TMS API.",
        },
        "paths": paths,
        "components": {
            "schemas": components,
            "securitySchemes": {
                "httpSignature": {
                    "type": "apiKey",
                    "in": "header",
                    "name": "Signature",
                    "description": "CyberSource HTTP Signature (HmacSHA256).",
                },
                "jwt": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"},
                "adminToken": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "The sandbox admin token (sandbox mode only).",
                },
            },
        },
    }
