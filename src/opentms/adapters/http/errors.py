"""The one table from vault errors to HTTP status and TMS error type, and the
one place that renders the TMS error envelope."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.responses import Response

from opentms.domain import errors as e

JSON_CONTENT_TYPE = "application/json;charset=utf-8"

ERROR_RESPONSES: dict[type[e.VaultError], tuple[int, str]] = {
    e.NotFound: (404, "notFound"),
    e.NotAvailable: (410, "notAvailable"),
    e.ProfileNotFound: (424, "notFound"),
    e.Conflict: (409, "conflict"),
    e.TokenIdConflict: (409, "tokenIdConflict"),
    e.DefaultInUse: (409, "conflict"),
    e.InstrumentIdentifierInUse: (409, "instrumentIdentifierDeletionError"),
    e.PreconditionFailed: (412, "conflict"),
    e.InvalidRequest: (400, "invalidFields"),
    e.InvalidFields: (400, "invalidFields"),
    e.MissingFields: (400, "missingFields"),
    e.InvalidHeaders: (400, "invalidHeaders"),
    e.MissingHeaders: (400, "missingHeaders"),
    e.InvalidCombination: (400, "invalidCombination"),
    e.UnsupportedModification: (400, "unsupportedPaymentMethodModification"),
    e.PayloadTooLarge: (400, "invalidFields"),
    e.Forbidden: (403, "forbidden"),
    e.Declined: (403, "declined"),
    e.AuthenticationFailed: (401, "authenticationFailed"),
    e.DatabaseUnavailable: (503, "serverError"),
    e.DecryptionFailed: (500, "internalError"),
}


def error_response(status: int, error_type: str, message: str) -> Response:
    """A TMS error envelope for a failure outside the vault error tree."""
    body = {"errors": [{"type": error_type, "message": message}]}
    return Response(orjson.dumps(body), status, headers={"content-type": JSON_CONTENT_TYPE})


def error_entry(exc: e.VaultError) -> tuple[int, dict[str, Any]]:
    """The HTTP status of a vault error and its entry in ``errors[]`` (type,
    message and, for a 400, the fields at fault)."""
    status, error_type = ERROR_RESPONSES[type(exc)]
    error: dict[str, Any] = {"type": error_type, "message": exc.message}
    if isinstance(exc, e.InvalidRequest) and exc.details:
        error["details"] = [{"name": d.name, "location": d.location} for d in exc.details]
    return status, error


def vault_error_response(exc: e.VaultError) -> Response:
    status, error = error_entry(exc)
    body: dict[str, Any] = {"errors": [error]}
    if isinstance(exc, e.InstrumentIdentifierInUse):
        href = f"/tms/v1/instrumentidentifiers/{exc.instrument_identifier_id}/paymentinstruments"
        body = {"_links": {"paymentInstruments": {"href": href}}, **body}
    if isinstance(exc, e.AuthenticationFailed):
        # The gateway's own 401 shape, beside the TMS envelope: clients that
        # read either find the reason.
        body["errors"][0]["reason"] = exc.reason
        body["response"] = {"rmsg": f"Authentication Failed: {exc.message}"}
    headers = {"content-type": JSON_CONTENT_TYPE}
    if isinstance(exc, e.PreconditionFailed) and exc.current_etag is not None:
        # The ETag a retry needs, as a GET would give it.
        headers["etag"] = exc.current_etag
    return Response(orjson.dumps(body), status, headers=headers)
