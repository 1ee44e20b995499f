"""What sandbox mode does to an authenticated TMS request before its
handler runs (docs/sandbox.md): the first fault rule that matches and fires
answers instead of the handler, drops the connection or waits; then the
``X-Opentms-Outcome`` header is read into the request's tenant.

A vault never builds this (``Pipeline.before_handler`` is None there), so it
neither faults a request nor reads the header.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response

from opentms.adapters.http.errors import JSON_CONTENT_TYPE
from opentms.domain.errors import FieldError, InvalidHeaders
from opentms.domain.ports import ConnectionFault, Fault
from opentms.services.sandbox.faults import FaultControl
from opentms.services.sandbox.outcomes import OUTCOME_HEADER, parse_outcome
from opentms.services.tenancy import Tenant

log = logging.getLogger("opentms.http")

# Put into ``scope["extensions"]`` by our server protocol
# (server.GuardedHttpToolsProtocol): a callable that drops the request's
# connection, with a TCP RST (``ConnectionFault.RESET``) or a plain close
# (``ConnectionFault.EMPTY``). In-process (an ASGI transport) it is absent.
DROP_CONNECTION = "opentms.drop_connection"
DropConnection = Callable[[ConnectionFault], None]
# The status the access line (and the journal) records for a request whose
# connection a fault dropped: no byte of it reaches the client (nginx's 444).
DROPPED_STATUS = 444
# Where no connection can be dropped (in-process), a connection fault answers this.
NO_CONNECTION_STATUS = 502

_ERROR_TYPES = {
    400: "invalidRequest",
    401: "authenticationFailed",
    403: "forbidden",
    404: "notFound",
    409: "conflict",
    410: "notAvailable",
    412: "conflict",
    424: "notFound",
    429: "tooManyRequests",
    500: "internalError",
}


def error_type_for(status: int) -> str:
    """The TMS error ``type`` of a faulted status: the one the code answers
    with that status, else ``invalidRequest`` (4xx) or ``serverError`` (5xx)."""
    return _ERROR_TYPES.get(status, "invalidRequest" if status < 500 else "serverError")


def _error(status: int, error: dict[str, Any]) -> Response:
    body = orjson.dumps({"errors": [error]})
    return Response(body, status, headers={"content-type": JSON_CONTENT_TYPE})


def fault_response(fault: Fault) -> Response:
    """A status fault's answer: the TMS error envelope."""
    rule = fault.rule
    status = rule.status or 500
    error: dict[str, Any] = {
        "type": error_type_for(status),
        "message": rule.message or f"Fault injected by the sandbox (rule {fault.id}).",
    }
    if rule.reason is not None:
        error["reason"] = rule.reason
    return _error(status, error)


def drop_connection(request: Request, fault: Fault, how: ConnectionFault) -> Response:
    """Drop the connection through the server's seam; the response returned
    is never sent (only the access line sees its status). Without the seam
    (the app in-process, no socket) a 502 ``serverError`` says what would
    have happened."""
    drop = request.scope.get("extensions", {}).get(DROP_CONNECTION)
    if drop is None:
        return _error(
            NO_CONNECTION_STATUS,
            {
                "type": "serverError",
                "reason": "CONNECTION_" + how.name,
                "message": f"Fault rule {fault.id} drops the connection ({how.value}); "
                "this app runs without opentms' server, so it answers 502 instead.",
            },
        )
    drop(how)
    return Response(status_code=DROPPED_STATUS)


@dataclass(frozen=True)
class SandboxRequests:
    """The sandbox's step before a TMS handler (``Pipeline.before_handler``)."""

    faults: FaultControl

    async def before_handler(self, request: Request, tenant: Tenant) -> Tenant | Response:
        """A response that replaces the handler's (a fault), or the tenant
        the handler runs for (with its forced outcome, if any)."""
        fault = self.faults.pick(request.method, request.scope["path"], tenant.merchant_id)
        if fault is not None:
            answer = await self._apply(request, fault)
            if answer is not None:
                return answer
        return await self._outcome(request, tenant)

    async def _apply(self, request: Request, fault: Fault) -> Response | None:
        rule = fault.rule
        log.info("sandbox fault rule %s fired", fault.id)
        delay = self.faults.delay_seconds(rule)
        if delay > 0:
            await asyncio.sleep(delay)
        if rule.connection is not None:
            return drop_connection(request, fault, rule.connection)
        if rule.status is not None:
            return fault_response(fault)
        return None  # latency only: the request goes on

    @staticmethod
    async def _outcome(request: Request, tenant: Tenant) -> Tenant:
        values = request.headers.getlist(OUTCOME_HEADER)
        if not values:
            return tenant
        if len(values) > 1:
            raise InvalidHeaders(
                f"Send {OUTCOME_HEADER} once; join several outcomes with commas.",
                (FieldError(OUTCOME_HEADER, "header"),),
            )
        outcome = parse_outcome(values[0])
        if outcome.delay_ms:
            await asyncio.sleep(outcome.delay_ms / 1000)
        return replace(tenant, outcome=outcome)
