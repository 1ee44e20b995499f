"""The exceptions of ``opentms.client``, and the one table from a TMS error
response to the class raised.

::

    OpenTMSError                      base: catch this for any client failure
    ├── TransportError                no HTTP response (connection, TLS, timeout); wraps
    │                                 the httpx.TransportError and keeps ``.request``
    ├── APIError                      an error response: status_code, type, message, details
    │   ├── BadRequest                400  invalidFields, missingFields, invalidHeaders, ...
    │   ├── AuthenticationError       401  the signature or JWT was refused
    │   ├── Forbidden                 403  forbidden, declined
    │   ├── NotFound                  404  notFound
    │   ├── Conflict                  409  conflict, tokenIdConflict, ...DeletionError
    │   ├── NotAvailable              410  notAvailable (the token was deleted)
    │   ├── PreconditionFailed        412  If-Match does not match the ETag
    │   ├── FailedDependency          424  e.g. "Profile not found"
    │   └── ServerError               5xx, whatever its type
    ├── InvalidResponse               a success response the client cannot read
    ├── CredentialDecryptionFailed    the payment-credentials JWE did not open
    └── WebhookVerificationError      a webhook notification failed verification
                                      (opentms.client.webhooks.verify)

An error ``type`` this client does not know raises plain :class:`APIError`, so a
new server error never breaks an old client. Messages carry ids and field
names, never card data or key material.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import httpx

__all__ = [
    "APIError",
    "AuthenticationError",
    "BadRequest",
    "Conflict",
    "CredentialDecryptionFailed",
    "ErrorDetail",
    "FailedDependency",
    "Forbidden",
    "InvalidResponse",
    "NotAvailable",
    "NotFound",
    "OpenTMSError",
    "PreconditionFailed",
    "ServerError",
    "TransportError",
    "WebhookVerificationError",
]


class OpenTMSError(Exception):
    """Base of every exception ``opentms.client`` raises on purpose."""


class TransportError(OpenTMSError):
    """The request got no HTTP response: the connection failed or timed out,
    or TLS verification failed. The message names the method, the URL and the
    cause (``GET http://... got no response (ConnectError: ...)``); the httpx
    exception is ``__cause__``.

    **Attributes:** ``request`` (the ``httpx.Request``, or ``None``).
    """

    def __init__(self, message: str, *, request: httpx.Request | None = None) -> None:
        super().__init__(message)
        self.request = request

    def __repr__(self) -> str:
        where = f"{self.request.method} {self.request.url.path}" if self.request else "?"
        return f"{type(self).__name__}({str(self)!r}, request={where!r})"


@dataclass(frozen=True, slots=True)
class ErrorDetail:
    """One entry of a TMS error's ``details``: the field at fault and where
    it was (``body``, ``query``, ``header`` or ``path``)."""

    name: str
    location: str | None = None


class APIError(OpenTMSError):
    """The server answered with an error status.

    **Attributes:**

    * ``status_code`` - the HTTP status, e.g. ``404``.
    * ``type`` - the TMS error type, e.g. ``"notFound"`` (``None`` without a TMS body).
    * ``message`` - the server's message.
    * ``details`` - the fields at fault (``tuple[ErrorDetail, ...]``; 400s only).
    * ``response`` - the ``httpx.Response``; ``correlation_id`` its ``v-c-correlation-id``.
    """

    def __init__(
        self,
        status_code: int,
        type: str | None,
        message: str,
        details: tuple[ErrorDetail, ...] = (),
        response: httpx.Response | None = None,
    ) -> None:
        super().__init__(f"{status_code} {type or 'error'}: {message}")
        self.status_code = status_code
        self.type = type
        self.message = message
        self.details = details
        self.response = response

    @property
    def correlation_id(self) -> str | None:
        """The ``v-c-correlation-id`` to quote to the server's operators."""
        return self.response.headers.get("v-c-correlation-id") if self.response else None

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(status_code={self.status_code}, type={self.type!r}, "
            f"message={self.message!r}, details={list(self.details)!r})"
        )


class BadRequest(APIError):
    """400: a field or header is missing or invalid; ``details`` names it."""


class AuthenticationError(APIError):
    """401: the HTTP Signature or JWT was refused; ``message`` says which check failed."""


class Forbidden(APIError):
    """403: the profile may not do this, or a network declined (``type`` ``declined``)."""


class NotFound(APIError):
    """404: no such token for this merchant."""


class Conflict(APIError):
    """409: e.g. an instrument identifier still has payment instruments
    (``type`` ``instrumentIdentifierDeletionError``), or the default cannot go."""


class NotAvailable(APIError):
    """410: the token was deleted (``type`` ``notAvailable``)."""


class PreconditionFailed(APIError):
    """412: ``if_match`` is not the resource's current ETag; get it again."""


class FailedDependency(APIError):
    """424: a dependency is missing, e.g. the ``profile_id`` names no profile."""


class ServerError(APIError):
    """5xx: the server failed. Idempotent calls were already retried."""


class InvalidResponse(OpenTMSError):
    """A success response this client cannot read (not the JSON it expects,
    or an ``encryptedResponse`` it has no key for).

    **Attributes:** ``response`` (the ``httpx.Response``).
    """

    def __init__(self, message: str, response: httpx.Response | None = None) -> None:
        super().__init__(message)
        self.response = response


class CredentialDecryptionFailed(OpenTMSError):
    """The payment-credentials JWE does not open with the private key given
    (wrong key, or not a JWE). Deliberately without detail."""


class WebhookVerificationError(OpenTMSError):
    """A webhook notification did not verify (:func:`opentms.client.webhooks.verify`):
    no or a malformed ``v-c-signature``, an unknown ``keyId``, a timestamp outside
    the tolerance, a signature that does not match, or a body that is not a
    notification. Answer such a request with an error and do not act on it.

    **Attributes:** ``reason`` - one of ``missing_signature``,
    ``malformed_signature``, ``unknown_key_id``, ``stale_timestamp``,
    ``bad_signature``, ``malformed_body``.
    """

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason

    def __repr__(self) -> str:
        return f"{type(self).__name__}(reason={self.reason!r}, message={str(self)!r})"


# The TMS error types, by family. A type seen with another status than its
# usual one (``notFound`` with 424, ``conflict`` with 412) follows the status.
_BY_TYPE: dict[str, type[APIError]] = {
    "invalidHeaders": BadRequest,
    "missingHeaders": BadRequest,
    "invalidFields": BadRequest,
    "missingFields": BadRequest,
    "unsupportedPaymentMethodModification": BadRequest,
    "invalidCombination": BadRequest,
    "invalidParameters": BadRequest,
    "unknownField": BadRequest,
    "unsupportedFields": BadRequest,
    "invalidRequest": BadRequest,
    "instrumentIdentifierNotFound": BadRequest,
    "instrumentIdentifierGone": BadRequest,
    "authenticationFailed": AuthenticationError,
    "forbidden": Forbidden,
    "declined": Forbidden,
    "notFound": NotFound,
    "subscriptionNotFound": NotFound,
    "conflict": Conflict,
    "tokenIdConflict": Conflict,
    "instrumentIdentifierDeletionError": Conflict,
    "notAvailable": NotAvailable,
    "serverError": ServerError,
    "internalError": ServerError,
}

_BY_STATUS: dict[int, type[APIError]] = {
    400: BadRequest,
    401: AuthenticationError,
    403: Forbidden,
    404: NotFound,
    409: Conflict,
    410: NotAvailable,
    412: PreconditionFailed,
    424: FailedDependency,
}

# Statuses whose class wins over the type's family (TMS reuses types there).
_STATUS_FIRST = frozenset({401, 412, 424})


def _error_class(status: int, error_type: str | None) -> type[APIError]:
    if status >= 500:
        return ServerError
    if status in _STATUS_FIRST:
        return _BY_STATUS[status]
    if error_type is not None:
        return _BY_TYPE.get(error_type, APIError)
    return _BY_STATUS.get(status, APIError)


def _first_error(body: Any) -> dict[str, Any]:
    if isinstance(body, dict):
        errors = body.get("errors")
        if isinstance(errors, list) and errors and isinstance(errors[0], dict):
            return errors[0]
        # The CyberSource gateway's own 401 shape.
        gateway = body.get("response")
        if isinstance(gateway, dict) and isinstance(gateway.get("rmsg"), str):
            return {"message": gateway["rmsg"]}
        if isinstance(body.get("message"), str):
            return {"message": body["message"], "type": body.get("reason")}
    return {}


def error_from_response(response: httpx.Response, content: bytes) -> APIError:
    """The exception for an error ``response`` whose (decrypted) body is ``content``."""
    try:
        body = json.loads(content) if content else None
    except ValueError:
        body = None
    first = _first_error(body)
    error_type = first.get("type") if isinstance(first.get("type"), str) else None
    message = first.get("message")
    if not isinstance(message, str):
        message = response.reason_phrase or f"HTTP {response.status_code}"
    details: list[ErrorDetail] = []
    for item in first.get("details") or ():
        if isinstance(item, dict) and isinstance(item.get("name"), str):
            location = item.get("location")
            details.append(
                ErrorDetail(item["name"], location if isinstance(location, str) else None)
            )
    cls = _error_class(response.status_code, error_type)
    return cls(response.status_code, error_type, message, tuple(details), response)
