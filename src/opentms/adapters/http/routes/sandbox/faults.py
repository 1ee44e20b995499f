"""``/opentms/v1/sandbox/faults``: add, list, read and delete fault and
latency rules (docs/sandbox.md, "Faults and latency")."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

from starlette.responses import Response

from opentms.adapters.http.admin import (
    ADMIN_PREFIX,
    AdminPipeline,
    AdminRequest,
    invalid,
    timestamp,
)
from opentms.adapters.http.openapi import Operation
from opentms.adapters.http.pipeline import json_response, no_content
from opentms.domain.errors import NotFound
from opentms.domain.ports import ConnectionFault, Fault, FaultRule
from opentms.services.sandbox import SandboxControls
from opentms.services.sandbox.faults import FaultControl

PATH = f"{ADMIN_PREFIX}/faults"
MAX_DELAY_MS = 60_000
MAX_TIMES = 1_000_000
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
_MERCHANT_ID = re.compile(r"[A-Za-z0-9_\-]{1,64}")
_REASON = re.compile(r"[A-Z][A-Z0-9_]{0,63}")
_FAULT_ID = re.compile(r"[0-9a-f]{32}")
# A glob over the request path: printable ASCII without spaces, from "/" or "*".
_PATH_GLOB = re.compile(r"[/*][!-~]{0,511}")
_FIELDS = (
    "method",
    "path",
    "merchantId",
    "status",
    "reason",
    "message",
    "connection",
    "delayMs",
    "delayMaxMs",
    "times",
    "probability",
)


def _integer(body: dict[str, Any], name: str, low: int, high: int) -> int | None:
    value = body.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise invalid(name, f"{name} must be a whole number from {low} to {high}.")
    return value


def _text(body: dict[str, Any], name: str, pattern: re.Pattern[str], shape: str) -> str | None:
    value = body.get(name)
    if value is None:
        return None
    if not isinstance(value, str) or not pattern.fullmatch(value):
        raise invalid(name, f"{name} must be {shape}.")
    return value


def _method(body: dict[str, Any]) -> str | None:
    value = body.get("method")
    if value is None:
        return None
    if not isinstance(value, str) or value.upper() not in METHODS:
        raise invalid("method", f"method must be one of {', '.join(sorted(METHODS))}.")
    return value.upper()


def _message(body: dict[str, Any]) -> str | None:
    value = body.get("message")
    if value is None:
        return None
    if not isinstance(value, str) or not 1 <= len(value) <= 500 or not value.isprintable():
        raise invalid("message", "message must be printable text of 1 to 500 characters.")
    return value


def _connection(body: dict[str, Any]) -> ConnectionFault | None:
    value = body.get("connection")
    if value is None:
        return None
    if value not in ("reset", "empty"):
        raise invalid("connection", "connection must be reset or empty.")
    return ConnectionFault(value)


def _probability(body: dict[str, Any]) -> float:
    value = body.get("probability")
    if value is None:
        return 1.0
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not math.isfinite(value)
        or not 0 <= value <= 1
    ):
        raise invalid("probability", "probability must be a number from 0 to 1.")
    return float(value)


def parse_rule(body: dict[str, Any]) -> FaultRule:
    """A fault rule from the admin API's JSON, strictly: unknown fields,
    wrong types and values out of range are a 400 naming the field."""
    for name in body:
        if name not in _FIELDS:
            raise invalid(name, f"{name} is not a field of a fault rule.")
    status = _integer(body, "status", 400, 599)
    connection = _connection(body)
    if status is not None and connection is not None:
        raise invalid("connection", "Give at most one of status and connection.")
    delay_ms = _integer(body, "delayMs", 0, MAX_DELAY_MS) or 0
    delay_max_ms = _integer(body, "delayMaxMs", 0, MAX_DELAY_MS)
    if delay_max_ms is not None and delay_max_ms < delay_ms:
        raise invalid("delayMaxMs", "delayMaxMs must be at least delayMs.")
    if status is None and connection is None and not (delay_ms or delay_max_ms):
        raise invalid("status", "A rule needs a status, a connection or a delay to do anything.")
    rule = FaultRule(
        method=_method(body),
        path=_text(body, "path", _PATH_GLOB, "a glob over the request path, like /tms/v2/*"),
        merchant_id=_text(body, "merchantId", _MERCHANT_ID, "a merchant id"),
        status=status,
        reason=_text(body, "reason", _REASON, "upper-case letters, digits and _"),
        message=_message(body),
        connection=connection,
        delay_ms=delay_ms,
        delay_max_ms=delay_max_ms,
        times=_integer(body, "times", 1, MAX_TIMES),
        probability=_probability(body),
    )
    if connection is not None and (rule.reason or rule.message):
        raise invalid("reason", "reason and message go with a status, not a connection.")
    return rule


def render(fault: Fault) -> dict[str, Any]:
    rule = fault.rule
    return {
        "id": fault.id,
        "method": rule.method,
        "path": rule.path,
        "merchantId": rule.merchant_id,
        "status": rule.status,
        "reason": rule.reason,
        "message": rule.message,
        "connection": rule.connection.value if rule.connection else None,
        "delayMs": rule.delay_ms,
        "delayMaxMs": rule.delay_max_ms,
        "times": rule.times,
        "probability": rule.probability,
        "hits": fault.hits,
        "remaining": fault.remaining,
        "createdAt": timestamp(fault.created_at),
    }


@dataclass(frozen=True)
class FaultRoutes:
    faults: FaultControl

    def post_sandbox_fault(self, request: AdminRequest) -> Response:
        """Add a rule after the existing ones."""
        fault = self.faults.add(parse_rule(request.json()))
        return json_response(render(fault), 201)

    def get_sandbox_faults(self, _: AdminRequest) -> Response:
        """Every rule, in the order they are tried."""
        return json_response({"faults": [render(fault) for fault in self.faults.list()]})

    def delete_sandbox_faults(self, _: AdminRequest) -> Response:
        """Delete every rule."""
        self.faults.clear()
        return no_content()

    def get_sandbox_fault(self, request: AdminRequest) -> Response:
        """One rule, with how often it fired."""
        return json_response(render(self._found(request)))

    def delete_sandbox_fault(self, request: AdminRequest) -> Response:
        """Delete one rule."""
        if not self.faults.remove(self._found(request).id):
            raise NotFound("No fault rule has this id.")
        return no_content()

    def _found(self, request: AdminRequest) -> Fault:
        fault_id = request.path("faultId")
        fault = self.faults.get(fault_id) if _FAULT_ID.fullmatch(fault_id) else None
        if fault is None:
            raise NotFound("No fault rule has this id.")
        return fault


def operations(controls: SandboxControls, admin: AdminPipeline) -> list[Operation]:
    routes = FaultRoutes(controls.faults)
    common: dict[str, Any] = {"tag": "Sandbox", "security": "admin"}
    one = f"{PATH}/{{faultId}}"
    return [
        Operation(
            method="POST",
            path=PATH,
            endpoint=admin.endpoint(routes.post_sandbox_fault),
            summary="Add a fault or latency rule",
            **common,
        ),
        Operation(
            method="GET",
            path=PATH,
            endpoint=admin.endpoint(routes.get_sandbox_faults),
            summary="List the fault rules",
            **common,
        ),
        Operation(
            method="DELETE",
            path=PATH,
            endpoint=admin.endpoint(routes.delete_sandbox_faults),
            summary="Delete every fault rule",
            **common,
        ),
        Operation(
            method="GET",
            path=one,
            endpoint=admin.endpoint(routes.get_sandbox_fault),
            summary="Read a fault rule",
            **common,
        ),
        Operation(
            method="DELETE",
            path=one,
            endpoint=admin.endpoint(routes.delete_sandbox_fault),
            summary="Delete a fault rule",
            **common,
        ),
    ]
