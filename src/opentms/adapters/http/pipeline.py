"""What every TMS endpoint does before its own work: read the body within
the limit, authenticate, resolve the tenant and profile; and the helpers
endpoints use to read the request and answer."""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import orjson
from pydantic import BaseModel
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response

from opentms.adapters.http.errors import JSON_CONTENT_TYPE, vault_error_response
from opentms.adapters.http.schemas.common import parse_json, validate
from opentms.crypto import jwe
from opentms.domain.errors import (
    AuthenticationFailed,
    FieldError,
    InvalidFields,
    NotFound,
    PayloadTooLarge,
    VaultError,
)
from opentms.domain.resources import etag
from opentms.services.authentication import Authenticator, SignedRequest
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
                raise
            request.scope[AUTHENTICATED_MERCHANT] = principal.merchant_id
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
                response = vault_error_response(exc)
            if response_key is not None and principal.response_mle_kid is not None:
                return self._seal(principal.response_mle_kid, response_key, response)
            return response

        run.__name__ = handler.__name__
        run.__doc__ = handler.__doc__
        return run

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
