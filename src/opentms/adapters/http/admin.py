"""The sandbox admin API's request handling: a bearer token (the admin
token, compared in constant time; merchant credentials never pass), a body
read within the limit, and the TMS error envelope for what goes wrong."""

from __future__ import annotations

import hashlib
import hmac
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from opentms.adapters.http.errors import error_response, vault_error_response
from opentms.adapters.http.pipeline import (
    AUTHENTICATION_FAILURE,
    ClientGone,
    Endpoint,
    audit_correlation,
    read_body,
)
from opentms.adapters.http.schemas.common import parse_json
from opentms.domain import audit
from opentms.domain.errors import FieldError, InvalidFields, VaultError

log = logging.getLogger("opentms.http")

ADMIN_PREFIX = "/opentms/v1/sandbox"


@dataclass(frozen=True)
class AdminRequest:
    """One admin request, its bearer token verified."""

    http_request: Request
    body: bytes

    def json(self) -> dict[str, Any]:
        """The body as a JSON object; an empty body is ``{}``."""
        if not self.body.strip():
            return {}
        return parse_json(self.body)

    def path(self, name: str) -> str:
        return str(self.http_request.path_params[name])

    def query(self, name: str) -> str | None:
        return self.http_request.query_params.get(name)

    def header(self, name: str) -> str | None:
        return self.http_request.headers.get(name)


AdminHandler = Callable[[AdminRequest], Response]


def _digest(value: bytes) -> bytes:
    return hashlib.sha256(value).digest()


class AdminPipeline:
    """Wraps admin handlers: authenticate, read the body, map errors."""

    def __init__(self, token: str, max_body_bytes: int) -> None:
        # Compared as SHA-256 digests: equal lengths, so the comparison time
        # says nothing about the token's length either.
        self._token_digest = _digest(token.encode())
        self._max_body_bytes = max_body_bytes

    def authorized(self, request: Request) -> bool:
        values = [v for k, v in request.scope["headers"] if k.lower() == b"authorization"]
        if len(values) != 1:
            return False
        scheme, _, given = values[0].partition(b" ")
        if scheme.lower() != b"bearer" or not given:
            return False
        return hmac.compare_digest(_digest(given.strip()), self._token_digest)

    def endpoint(self, handler: AdminHandler) -> Endpoint:
        async def run(request: Request) -> Response:
            if not self.authorized(request):
                request.scope[AUTHENTICATION_FAILURE] = "admin_token"
                return error_response(
                    401,
                    "authenticationFailed",
                    "The sandbox admin API takes Authorization: Bearer <admin token> "
                    "(OPENTMS_ADMIN_TOKEN, or the admin-token file in the data directory, "
                    "whose path `opentms serve` prints); merchant credentials do not work here.",
                )
            try:
                body = await read_body(request, self._max_body_bytes)
                with audit.acting(audit.ADMIN, audit_correlation(request)):
                    return handler(AdminRequest(request, body))
            except ClientGone:
                return Response(status_code=400)
            except VaultError as exc:
                return vault_error_response(exc)

        run.__name__ = handler.__name__
        run.__doc__ = handler.__doc__
        return run


def timestamp(moment: datetime) -> str:
    """A moment as the admin API writes it: UTC, to the millisecond, with Z."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def invalid(field: str, message: str) -> InvalidFields:
    """A 400 naming one field of an admin request."""
    return InvalidFields(message, (FieldError(field),))
