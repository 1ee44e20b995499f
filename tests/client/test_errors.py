"""Errors: each TMS error type raises its family's class with status, type,
message and details; authentication failures; unreadable answers."""

from __future__ import annotations

import base64
import json
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from opentms.adapters.http.errors import ERROR_RESPONSES
from opentms.client import (
    APIError,
    ASGIAppTransport,
    AuthenticationError,
    BadRequest,
    Client,
    Conflict,
    ErrorDetail,
    FailedDependency,
    Forbidden,
    HTTPSignatureAuth,
    InvalidResponse,
    JWTAuth,
    NotAvailable,
    NotFound,
    OpenTMSError,
    PreconditionFailed,
    ServerError,
    TransportError,
)
from opentms.client._exceptions import error_from_response
from tests.client.conftest import BASE_URL, close, make_client
from tests.support import Merchant, make_pan

WRONG_SECRET = base64.b64encode(b"w" * 32).decode()


def mocked(status: int, body: Any, content_type: str = "application/json") -> Client:
    content = body if isinstance(body, bytes) else json.dumps(body).encode()

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(status, content=content, headers={"content-type": content_type})

    return Client(BASE_URL, transport=httpx.MockTransport(handler), max_retries=0)


def tms_error(error_type: str, message: str = "m", **extra: Any) -> dict[str, Any]:
    return {"errors": [{"type": error_type, "message": message, **extra}]}


@pytest.mark.parametrize(
    ("status", "body", "expected"),
    [
        pytest.param(400, tms_error("invalidFields"), BadRequest, id="400-invalidFields"),
        pytest.param(400, tms_error("missingHeaders"), BadRequest, id="400-missingHeaders"),
        pytest.param(401, tms_error("authenticationFailed"), AuthenticationError, id="401-tms"),
        pytest.param(
            401, {"response": {"rmsg": "Authentication Failed"}}, AuthenticationError, id="401-gw"
        ),
        pytest.param(403, tms_error("forbidden"), Forbidden, id="403-forbidden"),
        pytest.param(403, tms_error("declined"), Forbidden, id="403-declined"),
        pytest.param(404, tms_error("notFound"), NotFound, id="404"),
        pytest.param(409, tms_error("tokenIdConflict"), Conflict, id="409-tokenIdConflict"),
        pytest.param(
            409, tms_error("instrumentIdentifierDeletionError"), Conflict, id="409-deletion"
        ),
        pytest.param(410, tms_error("notAvailable"), NotAvailable, id="410"),
        pytest.param(412, tms_error("conflict"), PreconditionFailed, id="412"),
        pytest.param(424, tms_error("notFound"), FailedDependency, id="424"),
        pytest.param(500, tms_error("internalError"), ServerError, id="500"),
        pytest.param(502, b"<html>Bad gateway</html>", ServerError, id="502-html"),
        pytest.param(400, tms_error("brandNewType"), APIError, id="unknown-type"),
        pytest.param(418, b"", APIError, id="unknown-status"),
        pytest.param(404, b"", NotFound, id="404-no-body"),
    ],
)
def test_error_classes(status: int, body: Any, expected: type[APIError]) -> None:
    with pytest.raises(APIError) as caught:
        mocked(status, body).customers.get("C" * 32)
    assert type(caught.value) is expected
    assert caught.value.status_code == status
    assert isinstance(caught.value, OpenTMSError)


def test_the_error_carries_type_message_and_details() -> None:
    body = tms_error(
        "missingFields",
        "card.number is required.",
        details=[{"name": "card.number", "location": "body"}, {"name": "x"}, "junk"],
    )
    with pytest.raises(BadRequest) as caught:
        mocked(400, body).instrument_identifiers.create({})
    error = caught.value
    assert error.type == "missingFields"
    assert error.message == "card.number is required."
    assert error.details == (ErrorDetail("card.number", "body"), ErrorDetail("x"))
    assert str(error) == "400 missingFields: card.number is required."
    assert "card.number" in repr(error)


def test_every_server_error_maps_to_its_family() -> None:
    for status, error_type in set(ERROR_RESPONSES.values()):
        content = json.dumps(tms_error(error_type)).encode()
        error = error_from_response(httpx.Response(status, content=content), content)
        assert type(error) is not APIError, (status, error_type)
        assert error.status_code == status


def test_a_success_body_that_is_not_json_is_an_invalid_response() -> None:
    with pytest.raises(InvalidResponse) as caught:
        mocked(200, b"<html>", "text/html").customers.get("C" * 32)
    assert caught.value.response is not None
    with pytest.raises(InvalidResponse):
        mocked(201, b"{}").tokens.payment_credentials("C" * 32)
    assert mocked(201, b'"a.b.c.d.e"').tokens.payment_credentials("C" * 32) == "a.b.c.d.e"


@pytest.mark.parametrize("variant", ["sync", "async"])
def test_a_wrong_secret_is_an_authentication_error(
    app: Starlette, merchant: Merchant, variant: str
) -> None:
    registration = merchant.registration
    auth = HTTPSignatureAuth(registration.merchant_id, registration.key_id, WRONG_SECRET)
    client = make_client(app, merchant, f"{variant}-signature", auth=auth)
    try:
        with pytest.raises(AuthenticationError) as caught:
            client.customers.create({})
    finally:
        close(client)
    error = caught.value
    assert error.status_code == 401
    assert error.type == "authenticationFailed"
    assert "signature does not match" in error.message
    assert WRONG_SECRET not in error.message
    assert registration.shared_secret not in error.message


def test_an_unknown_jwt_kid_is_an_authentication_error(app: Starlette, merchant: Merchant) -> None:
    auth = JWTAuth(merchant.id, "no-such-kid", shared_secret=WRONG_SECRET)
    client = Client(BASE_URL, auth=auth, transport=ASGIAppTransport(app))
    with pytest.raises(AuthenticationError, match="kid"):
        client.instrument_identifiers.create({"card": {"number": make_pan()}})


def test_unsigned_requests_are_refused(app: Starlette) -> None:
    client = Client(BASE_URL, transport=ASGIAppTransport(app))
    with pytest.raises(AuthenticationError):
        client.customers.get("C" * 32)


def test_transport_error_without_a_request() -> None:
    error = TransportError("boom")
    assert error.request is None
    assert "boom" in repr(error)
