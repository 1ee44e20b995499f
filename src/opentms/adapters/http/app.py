"""The ASGI application: TMS routes, health, the OpenAPI document, and the
middleware every response passes through."""

from __future__ import annotations

import functools
import logging
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, cast

import orjson
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from opentms.adapters.http import errors
from opentms.adapters.http.admin import AdminPipeline
from opentms.adapters.http.openapi import Operation, openapi_document
from opentms.adapters.http.pipeline import (
    AUTHENTICATED_MERCHANT,
    AUTHENTICATION_FAILURE,
    CORRELATION_ID,
    Pipeline,
)
from opentms.adapters.http.routes import (
    customers,
    instrument_identifiers,
    payment_instruments,
    simulator,
    tokenize,
    tokens,
    webhooks,
)
from opentms.adapters.http.routes import sandbox as sandbox_routes
from opentms.adapters.http.sandbox_middleware import SandboxMiddleware
from opentms.adapters.http.sandbox_requests import SandboxRequests
from opentms.domain.errors import VaultError
from opentms.observability import redact
from opentms.services.container import Services

log = logging.getLogger("opentms.http")


class CorrelationMiddleware:
    """Adds ``v-c-correlation-id`` (echoed or new) and ``uniqueTransactionID``
    to every response, and writes one access-log line per request (client;
    the merchant once authenticated, or the reason code of a 401; method,
    path, status, time, correlation id; never bodies, queries or credentials,
    which may carry card data or secrets). The fields are also
    record attributes (:data:`opentms.observability.ACCESS_FIELDS`), which the
    JSON log format writes one by one."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        correlation = None
        for name, value in scope["headers"]:
            if name.lower() == b"v-c-correlation-id":
                correlation = value[:128]
                break
        if correlation:
            logged_correlation = redact(correlation.decode("latin-1"))
        else:
            correlation = _new_correlation_id()
            logged_correlation = correlation.decode()
        transaction = uuid.uuid4().hex.upper().encode()
        scope[CORRELATION_ID] = correlation
        started = time.perf_counter()
        status = 0

        async def send_with_headers(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = list(message.get("headers", []))
                headers.append((b"v-c-correlation-id", correlation))
                headers.append((b"uniquetransactionid", transaction))
                message["headers"] = headers
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        finally:
            duration = round((time.perf_counter() - started) * 1000, 1)
            client = scope.get("client")
            merchant = scope.get(AUTHENTICATED_MERCHANT)
            failure = scope.get(AUTHENTICATION_FAILURE)
            fields = {
                "client": f"{client[0]}:{client[1]}" if client else "-",
                "method": scope["method"],
                # Card numbers are masked here, so that no record holds one
                # (the formatter then only escapes control characters).
                "path": redact(scope["path"]),
                "status": status,
                "duration_ms": duration,
                "correlation_id": logged_correlation,
                "merchant": None if merchant is None else _logged_merchant(merchant),
                # One of the fixed codes of services.authentication, never its message.
                "auth_failure": failure,
                "masked": True,
            }
            if merchant is not None:
                line = _ACCESS_LINE_MERCHANT
            elif failure is not None:
                line = _ACCESS_LINE_FAILURE
            else:
                line = _ACCESS_LINE
            log.info(line, fields, extra=fields)


# Security: who made the request is the field after the client address, before
# anything the client chose: the path and the correlation id may hold any
# printable text, "merchant=..." included, so the field is read by position.
# The quotes end the path: its last digits never run on into the status.
_REQUEST = '"%(method)s %(path)s" %(status)s %(duration_ms)sms %(correlation_id)s'
_ACCESS_LINE = "%(client)s - " + _REQUEST
_ACCESS_LINE_MERCHANT = "%(client)s merchant=%(merchant)s " + _REQUEST
_ACCESS_LINE_FAILURE = "%(client)s auth_failure=%(auth_failure)s " + _REQUEST
# A merchant id as logged, masked like the path (ids are letters, digits, - and
# _: one could look like a card number). Cached: only authenticated ids reach
# it, so the few registered merchants fill it, never a client.
_logged_merchant = functools.lru_cache(maxsize=1024)(redact)


def _new_correlation_id() -> bytes:
    """A random UUID that the log filter leaves whole (about 3 in 1,000 hold
    digits it would take for a card number), so it can always be searched for."""
    while True:
        value = str(uuid.uuid4())
        if redact(value) == value:
            return value.encode()


def create_app(services: Services, *, dispatch: bool = False) -> Starlette:
    """The app over ``services``. ``dispatch``: a server process's app, whose
    lifespan runs the webhook dispatcher (when OPENTMS_WEBHOOK_DISPATCHER);
    in-process apps of tests leave it off, so their tests send nothing
    unless they ask."""
    pipeline = Pipeline(
        services.authenticator,
        services.merchants,
        services.server_keys,
        services.settings.max_body_bytes,
        # Sandbox mode only: faults and forced outcomes (docs/sandbox.md).
        before_handler=(
            SandboxRequests(services.sandbox.faults).before_handler
            if services.sandbox is not None
            else None
        ),
        audit_log=services.audit_log,
    )
    # Starlette tries routes in order: the busiest (payment credentials) first.
    operations: list[Operation] = [
        *tokens.operations(services, pipeline),
        *instrument_identifiers.operations(services, pipeline),
        *payment_instruments.operations(services, pipeline),
        *customers.operations(services, pipeline),
        *tokenize.operations(services, pipeline),
        *simulator.operations(services, pipeline),
        # TMS webhooks, in both modes (docs/webhooks.md).
        *webhooks.operations(services, pipeline),
    ]
    if services.sandbox is not None:
        # Sandbox mode only: in a vault these paths do not exist (404).
        admin = AdminPipeline(services.sandbox.admin_token, services.settings.max_body_bytes)
        operations += sandbox_routes.operations(services.sandbox, admin)
    document = orjson.dumps(openapi_document(operations))

    async def openapi(_: Request) -> Response:
        return Response(document, headers={"content-type": "application/json"})

    async def healthz(_: Request) -> Response:
        return Response(b'{"status":"ok"}', headers={"content-type": "application/json"})

    async def readyz(_: Request) -> Response:
        reason = services.readiness.unready_reason()
        if reason is not None:
            return errors.error_response(503, "notAvailable", reason)
        return Response(b'{"status":"ready"}', headers={"content-type": "application/json"})

    routes = [Route(op.path, op.endpoint, methods=[op.method]) for op in operations]
    routes += [
        Route("/openapi.json", openapi, methods=["GET"]),
        Route("/healthz", healthz, methods=["GET"]),
        Route("/readyz", readyz, methods=["GET"]),
    ]

    async def on_vault_error(_: Request, exc: Exception) -> Response:
        return errors.vault_error_response(cast(VaultError, exc))

    async def on_http_error(request: Request, error: Exception) -> Response:
        exc = cast(HTTPException, error)
        if exc.status_code == 405:
            return errors.error_response(
                405,
                "invalidRequest",
                f"{request.method} is not allowed on {redact(request.url.path)}.",
            )
        if exc.status_code == 404:
            return errors.error_response(
                404, "notFound", f"No TMS resource at {redact(request.url.path)}."
            )
        return errors.error_response(exc.status_code, "invalidRequest", str(exc.detail))

    async def on_unexpected(request: Request, exc: Exception) -> Response:
        log.error(
            "unexpected error on %s %s: %s",
            request.method,
            redact(request.url.path),
            type(exc).__name__,
            exc_info=exc,
        )
        return errors.error_response(500, "internalError", "Internal server error")

    handlers: dict[Any, Any] = {
        VaultError: on_vault_error,
        HTTPException: on_http_error,
        Exception: on_unexpected,
    }
    app = Starlette(
        routes=routes,
        exception_handlers=handlers,
        lifespan=_dispatching(services) if dispatch else None,
    )
    # Never redirect: an SDK follows a redirect and re-sends a signature made
    # for the original URL.
    app.router.redirect_slashes = False
    if services.sandbox is not None:
        app.add_middleware(SandboxMiddleware, controls=services.sandbox)
    app.add_middleware(CorrelationMiddleware)
    app.state.services = services
    return app


def _dispatching(services: Services) -> Any:
    """A lifespan that runs this process's webhook dispatcher while it serves."""
    dispatcher = services.dispatcher if services.settings.webhook_dispatcher else None

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        if dispatcher is not None:
            dispatcher.start()
        try:
            yield
        finally:
            if dispatcher is not None:
                dispatcher.stop()

    return lifespan
