"""The one exception tree of the vault.

::

    VaultError                         base, never raised itself
    ├── NotFound                       notFound            404
    ├── NotAvailable                   notAvailable        410 (the token was deleted)
    ├── ProfileNotFound                notFound            424
    ├── Conflict                       conflict            409
    │   ├── TokenIdConflict            tokenIdConflict     409
    │   ├── DefaultInUse               conflict            409
    │   └── InstrumentIdentifierInUse  instrumentIdentifierDeletionError 409
    ├── PreconditionFailed             conflict            412 (If-Match)
    ├── InvalidRequest                 400, carries details
    │   ├── InvalidFields              invalidFields
    │   ├── MissingFields              missingFields
    │   ├── InvalidHeaders             invalidHeaders
    │   ├── MissingHeaders             missingHeaders
    │   ├── InvalidCombination         invalidCombination
    │   └── UnsupportedModification    unsupportedPaymentMethodModification
    ├── PayloadTooLarge                invalidFields       400 (the body is over the limit)
    ├── Forbidden                      forbidden           403
    │   └── Declined                   declined            403 (a network refused)
    ├── AuthenticationFailed           401, says which check failed
    ├── DatabaseUnavailable            serverError         503 (connection lost; retry)
    └── DecryptionFailed               500, opaque: one class for every unseal failure

Messages name ids and fields, never card data or key material.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class FieldError:
    """One entry of ``errors[].details``: the field at fault and where it was."""

    name: str
    location: str = "body"


class VaultError(Exception):
    """Root of every error the vault raises on purpose."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFound(VaultError):
    def __init__(self, message: str = "Token not found") -> None:
        super().__init__(message)


class NotAvailable(VaultError):
    def __init__(self, message: str = "Token not available.") -> None:
        super().__init__(message)


class ProfileNotFound(VaultError):
    def __init__(self, message: str = "Profile not found") -> None:
        super().__init__(message)


class Conflict(VaultError):
    pass


class TokenIdConflict(Conflict):
    pass


class DefaultInUse(Conflict):
    pass


class InstrumentIdentifierInUse(Conflict):
    def __init__(self, instrument_identifier_id: str) -> None:
        super().__init__(
            "Action cannot be performed. The Instrument Identifier is associated "
            "with one or more Payment Instruments."
        )
        self.instrument_identifier_id = instrument_identifier_id


class PreconditionFailed(VaultError):
    """A 412. ``current_etag``: the token's ETag, when an If-Match named
    another (None when the token changed while the request was carried out);
    ``hint``: why the header could not match, when it never could."""

    def __init__(self, current_etag: str | None = None, hint: str | None = None) -> None:
        message = (
            "Action cannot be performed as the if-match header value does not match the token etag"
        )
        if current_etag is None:
            message += ": the token changed while this request was carried out; retrieve it again."
        else:
            message += f" {current_etag}."
        if hint is not None:
            message += f" {hint}"
        super().__init__(message)
        self.current_etag = current_etag


class InvalidRequest(VaultError):
    """A 400: the request is wrong; ``details`` names the fields."""

    def __init__(self, message: str, details: tuple[FieldError, ...] = ()) -> None:
        super().__init__(message)
        self.details = details


class InvalidFields(InvalidRequest):
    pass


class MissingFields(InvalidRequest):
    pass


class InvalidHeaders(InvalidRequest):
    pass


class MissingHeaders(InvalidRequest):
    pass


class InvalidCombination(InvalidRequest):
    pass


class UnsupportedModification(InvalidRequest):
    pass


class PayloadTooLarge(InvalidRequest):
    def __init__(self, limit: int) -> None:
        super().__init__(
            f"The request body is larger than the limit of {limit} bytes.",
            (FieldError("body", "body"),),
        )
        self.limit = limit


class Forbidden(VaultError):
    def __init__(self, message: str = "Request not permitted") -> None:
        super().__init__(message)


class Declined(Forbidden):
    """A card network refused (e.g. to provision a token)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)


class AuthenticationFailed(VaultError):
    """A 401. ``reason`` is a short machine-readable name of the failed check;
    ``signed`` what the server signed or checked, when that helps to find the
    mistake (the sandbox's request journal shows it)."""

    def __init__(self, reason: str, message: str, signed: str | None = None) -> None:
        super().__init__(message)
        self.reason = reason
        self.signed = signed


class DatabaseUnavailable(VaultError):
    """The database connection was lost; nothing of the request is certain to
    have been written. The client should retry (503)."""

    def __init__(self) -> None:
        super().__init__("The database is unavailable; retry the request.")


class DecryptionFailed(VaultError):
    def __init__(self) -> None:
        super().__init__("Stored data could not be decrypted.")


def invalid_field(name: str, message: str, location: str = "body") -> InvalidFields:
    """Shorthand for the common one-field ``InvalidFields``."""
    return InvalidFields(message, (FieldError(name, location),))
