"""What every TMS endpoint does before its own work: read the body within
the limit, authenticate, resolve the tenant and profile; and the helpers
endpoints use to read the request and answer."""

from __future__ import annotations

import base64
import logging
import re
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import orjson
from pydantic import BaseModel
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response

from opentms.adapters.http.errors import JSON_CONTENT_TYPE, vault_error_response
from opentms.adapters.http.schemas.common import parse_json, validate
from opentms.crypto import jwe
from opentms.domain import audit
from opentms.domain.errors import (
    AuthenticationFailed,
    FieldError,
    InvalidFields,
    NotFound,
    PayloadTooLarge,
    VaultError,
)
from opentms.domain.ports.audit import AuditLog
from opentms.domain.resources import etag
from opentms.observability import redact
from opentms.services.authentication import Authenticator, Principal, SignedRequest
from opentms.services.merchants import MerchantService
from opentms.services.server_keys import ServerKeys
from opentms.services.tenancy import Tenant

log = logging.getLogger("opentms.http")
_M = TypeVar("_M", bound=BaseModel)
_PATH_ID = re.compile(r"[A-Za-z0-9._\-]{1,64}")
MAX_LIMIT = 100
# Set in a request's scope["state"] by the server protocol when the body did not
# arrive within its deadline (it answered 408 itself and closed the connection).
BODY_TIMED_OUT = "opentms.body_timed_out"
# Set in a request's scope for its access line (app.CorrelationMiddleware): the
# merchant once authenticated, or the reason code of a failed authentication.
# Never the merchant a refused request claimed: nothing vouches for it.
AUTHENTICATED_MERCHANT = "opentms.merchant"
AUTHENTICATION_FAILURE = "opentms.auth_failure"
# For the sandbox's request journal (sandbox_middleware.py): the refusal
# itself (its message, what the server signed), the body as received, and the
# correlation id the response carries (set by app.CorrelationMiddleware).
AUTHENTICATION_REFUSAL = "opentms.auth_refusal"
REQUEST_BODY = "opentms.request_body"
CORRELATION_ID = "opentms.correlation_id"


@dataclass(frozen=True)
class AuthenticatedRequest:
    """One TMS request, authenticated: what a handler is given. Its body is
    read within the limit (and decrypted when it came message-level encrypted),
    and its tenant is the merchant and profile it is made for."""

    http_request: Request
    body: bytes
    tenant: Tenant

    def path(self, name: str) -> str:
        """A path parameter. Ids are letters, digits and ``-_.``; anything else
        names no token (and never reaches the database)."""
        value = str(self.http_request.path_params[name])
        if not _PATH_ID.fullmatch(value):
            raise NotFound()
        return value

    def header(self, name: str) -> str | None:
        return self.http_request.headers.get(name)

    def json(self) -> dict[str, Any]:
        return parse_json(self.body)

    def model(self, model: type[_M]) -> tuple[_M, dict[str, Any]]:
        """The body validated as ``model``, and the raw JSON object."""
        data = self.json()
        return validate(model, data), data

    def flag(self, name: str) -> bool:
        value = self.http_request.query_params.get(name)
        if value is None or value.lower() == "false":
            return False
        if value.lower() == "true":
            return True
        raise InvalidFields(
            f"The query parameter {name} must be true or false.", (FieldError(name, "query"),)
        )

    def paging(self, default_limit: int = 20) -> tuple[int, int]:
        offset = self._integer("offset", 0, 0, 10**9)
        limit = self._integer("limit", default_limit, 1, MAX_LIMIT)
        return offset, limit

    def _integer(self, name: str, default: int, low: int, high: int) -> int:
        raw = self.http_request.query_params.get(name)
        if raw is None:
            return default
        if not raw.isascii() or not raw.isdigit() or len(raw) > 12 or not low <= int(raw) <= high:
            raise InvalidFields(
                f"The query parameter {name} must be an integer from {low} to {high}.",
                (FieldError(name, "query"),),
            )
        return int(raw)


def json_response(
    body: Any, status: int = 200, version: int | None = None, **headers: str
) -> Response:
    all_headers = {"content-type": JSON_CONTENT_TYPE, **headers}
    if version is not None:
        all_headers["etag"] = etag(version)
    return Response(orjson.dumps(body), status, headers=all_headers)


def no_content() -> Response:
    return Response(status_code=204)


async def read_body(request: Request, limit: int) -> bytes:
    """The raw body, refusing more than ``limit`` bytes without reading them all."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(limit)
    chunks: list[bytes] = []
    size = 0
    try:
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise PayloadTooLarge(limit)
            chunks.append(chunk)
    except ClientDisconnect:
        raise ClientGone() from None
    return b"".join(chunks)


class ClientGone(Exception):
    """The client closed the connection before sending its whole body."""


def request_target(request: Request) -> str:
    """The path and query exactly as the client sent them (what it signed)."""
    raw_path = request.scope.get("raw_path")
    path = raw_path.decode("latin-1") if raw_path else request.scope["path"]
    query = request.scope.get("query_string", b"")
    return f"{path}?{query.decode('latin-1')}" if query else path


def audit_correlation(request: Request) -> str | None:
    """The request's correlation id as the audit log records it: the one its
    response carries, unless the client's own holds what looks like a card
    number (then masked, as in the access log)."""
    raw = request.scope.get(CORRELATION_ID)
    if raw is None:
        return None
    value = raw.decode("latin-1") if isinstance(raw, bytes) else str(raw)
    return redact(value)


_SIGNATURE_KEYID = re.compile(r'keyid="([^"]{1,128})"')
_SAFE_KEY_ID = re.compile(r"[A-Za-z0-9._:@/+=\-]{1,128}")


def claimed_key_id(headers: dict[str, str]) -> str | None:
    """The key id a refused request claimed (HTTP Signature keyid, JWT kid),
    if it is a plausible one. Nothing vouches for it; what looks like a card
    number is masked."""
    claimed = None
    found = _SIGNATURE_KEYID.search(headers.get("signature", ""))
    if found:
        claimed = found.group(1)
    else:
        scheme, _, token = headers.get("authorization", "").partition(" ")
        if scheme.lower() == "bearer" and token.count(".") == 2:
            try:
                header = orjson.loads(base64.urlsafe_b64decode(token.split(".")[0] + "=="))
                kid = header.get("kid") if isinstance(header, dict) else None
                claimed = kid if isinstance(kid, str) else None
            except (ValueError, orjson.JSONDecodeError):
                claimed = None
    if claimed is None or not _SAFE_KEY_ID.fullmatch(claimed):
        return None
    return redact(claimed)


class RefusalBudget:
    """At most ``per_second`` refused authentications recorded per second by
    one process; the ones beyond are counted and the count goes into the next
    recorded entry (``suppressedBefore``). Every refusal still gets its
    access-log line."""

    def __init__(self, per_second: int = 20) -> None:
        self._per_second = per_second
        self._lock = threading.Lock()
        self._second = 0
        self._used = 0
        self._suppressed = 0

    def take(self) -> int | None:
        """How many were suppressed since the last recorded one; None: over budget."""
        now = int(time.monotonic())
        with self._lock:
            if now != self._second:
                self._second, self._used = now, 0
            if self._used >= self._per_second:
                self._suppressed += 1
                return None
            self._used += 1
            suppressed, self._suppressed = self._suppressed, 0
            return suppressed


Handler = Callable[[AuthenticatedRequest], Response]
Endpoint = Callable[[Request], Awaitable[Response]]
# Sandbox mode only (sandbox_requests.SandboxRequests): run after
# authentication, before the handler; a response replaces the handler's (a
# fault: the handler never runs), a tenant is the one the handler runs for.
BeforeHandler = Callable[[Request, Tenant], Awaitable[Tenant | Response]]


@dataclass(frozen=True)
class Pipeline:
    authenticator: Authenticator
    merchants: MerchantService
    server_keys: ServerKeys
    max_body_bytes: int
    before_handler: BeforeHandler | None = None
    # The audit log (docs/security.md): refused authentications, and requests
    # refused before a service recorded anything, are written from here.
    audit_log: AuditLog | None = None
    refusals: RefusalBudget = field(default_factory=lambda: RefusalBudget())

    def endpoint(self, handler: Handler) -> Endpoint:
        async def run(request: Request) -> Response:
            try:
                body = await read_body(request, self.max_body_bytes)
            except ClientGone:
                # Nobody is left to read an answer; this is not a server error.
                # The status is only for the access line: what the client got.
                if request.scope.get("state", {}).get(BODY_TIMED_OUT):
                    log.info("request body not whole within the deadline; answered 408")
                    return Response(status_code=408)
                log.info("client disconnected before sending its body")
                return Response(status_code=400)
            request.scope[REQUEST_BODY] = body
            headers = {
                name.decode("latin-1").lower(): value.decode("latin-1")
                for name, value in reversed(request.scope["headers"])
            }
            try:
                principal = self.authenticator.authenticate(
                    SignedRequest(request.method, request_target(request), headers, body)
                )
            except AuthenticationFailed as failed:
                request.scope[AUTHENTICATION_FAILURE] = failed.reason
                request.scope[AUTHENTICATION_REFUSAL] = failed
                self._audit_refusal(request, headers, failed)
                raise
            request.scope[AUTHENTICATED_MERCHANT] = principal.merchant_id
            actor = audit.merchant_actor(principal.merchant_id, principal.key_id or "-")
            with audit.acting(actor, audit_correlation(request)) as scope:
                return await self._run(request, body, principal, headers, handler, scope)

        run.__name__ = handler.__name__
        run.__doc__ = handler.__doc__
        return run

    async def _run(
        self,
        request: Request,
        body: bytes,
        principal: Principal,
        headers: dict[str, str],
        handler: Handler,
        scope: audit.AuditScope,
    ) -> Response:
        """The authenticated part of a request, inside its audit scope."""
        response_key = None
        if principal.response_mle_kid is not None:
            # Checked before the handler runs: a request refused for its
            # kid must not have been carried out.
            response_key = self.merchants.response_key(
                principal.merchant_id, principal.response_mle_kid
            )
            if response_key is None:
                return vault_error_response(
                    InvalidFields(
                        "v-c-response-mle-kid names no key registered for this merchant.",
                        (FieldError("v-c-response-mle-kid", "header"),),
                    )
                )
        try:
            tenant = self.merchants.tenant(principal.merchant_id, headers.get("profile-id"))
            prepared: Tenant | Response = tenant
            if self.before_handler is not None:
                prepared = await self.before_handler(request, tenant)
            if isinstance(prepared, Response):
                response = prepared
            else:
                response = handler(AuthenticatedRequest(request, self._open(body), prepared))
        except VaultError as exc:
            if not scope.written:
                # Refused before any service recorded it (a body that does
                # not validate, an unknown profile, a malformed id...).
                self._audit_write(
                    "request", "operation", (), audit.failure(exc), operation=handler.__name__
                )
            response = vault_error_response(exc)
        if response_key is not None and principal.response_mle_kid is not None:
            return self._seal(principal.response_mle_kid, response_key, response)
        return response

    def _audit_refusal(
        self, request: Request, headers: dict[str, str], failed: AuthenticationFailed
    ) -> None:
        """PCI DSS 10.2.1.4: a refused authentication, with the key id it
        claimed. Budgeted per process (:class:`RefusalBudget`): a flood of
        forged requests must not become a flood of serialised writes."""
        if self.audit_log is None or not self.audit_log.enabled:
            return
        suppressed = self.refusals.take()
        if suppressed is None:
            return
        claimed = claimed_key_id(headers)
        with audit.acting(audit.UNAUTHENTICATED, audit_correlation(request)):
            self._audit_write(
                "authentication",
                "credential",
                () if claimed is None else (claimed,),
                f"failure:{failed.reason}",
                suppressedBefore=suppressed,
            )

    def _audit_write(
        self,
        action: str,
        resource_type: str,
        resource_ids: tuple[str, ...],
        outcome: str,
        **details: str | int | bool | None,
    ) -> None:
        if self.audit_log is None or not self.audit_log.enabled:
            return
        recorder = audit.AuditRecorder(True)
        recorder.record(action, resource_type, resource_ids, **details)
        try:
            self.audit_log.write(recorder.take(outcome))
        except Exception:
            # The request failed already; its answer says why, not this.
            log.exception("could not record a refused request in the audit log")

    def _open(self, body: bytes) -> bytes:
        """Request message-level encryption: ``{"encryptedRequest": "<JWE>"}``
        encrypted to our CyberSource_SJC_US certificate becomes its plaintext."""
        if b"encryptedRequest" not in body:
            return body
        try:
            wrapper = orjson.loads(body)
        except orjson.JSONDecodeError:
            return body
        if not (isinstance(wrapper, dict) and list(wrapper) == ["encryptedRequest"]):
            return body
        token = wrapper["encryptedRequest"]
        private_key, _ = self.server_keys.request_mle()
        try:
            if not isinstance(token, str):
                raise jwe.JWEDecryptionFailed()
            return jwe.decrypt_compact(private_key, token)
        except jwe.JWEDecryptionFailed:
            raise InvalidFields(
                "encryptedRequest is not a JWE (RSA-OAEP-256, A256GCM) encrypted to the "
                "server's CyberSource_SJC_US certificate.",
                (FieldError("encryptedRequest"),),
            ) from None

    @staticmethod
    def _seal(kid: str, key: bytes, response: Response) -> Response:
        """Response message-level encryption, asked for by the JWT claim
        ``v-c-response-mle-kid``: ``{"encryptedResponse": "<JWE>"}``."""
        if not response.body:
            return response
        sealed = jwe.encrypt_compact(key, kid, bytes(response.body), {"iat": int(time.time())})
        headers = {
            name: value
            for name, value in response.headers.items()
            if name.lower() not in ("content-length", "content-type")
        }
        headers["content-type"] = JSON_CONTENT_TYPE
        return Response(
            orjson.dumps({"encryptedResponse": sealed}), response.status_code, headers=headers
        )
