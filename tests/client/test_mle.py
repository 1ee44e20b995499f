"""Message-level encryption: request MLE (``{"encryptedRequest": JWE}``, on
by default only for tokenize) and response MLE (asked for in the JWT)."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from starlette.applications import Starlette

from opentms.client import (
    ASGIAppTransport,
    Client,
    InvalidResponse,
    JWTAuth,
    NotFound,
)
from tests.client.conftest import BASE_URL, client_options, close, make_client
from tests.client.factories import make_customer_with_card
from tests.client.test_tokenize import tokenize_request
from tests.client.transports import Recording
from tests.support import Merchant, make_pan


def recording_client(
    app: Starlette, merchant: Merchant, mode: str = "signature", **options: Any
) -> tuple[Client, Recording]:
    transport = Recording(ASGIAppTransport(app))
    settings = client_options(merchant) | options
    client = Client(BASE_URL, auth=merchant.auth(mode), transport=transport, **settings)
    return client, transport


def sent(transport: Recording) -> dict[str, Any]:
    body: dict[str, Any] = json.loads(transport.last[0].content)
    return body


def answered(transport: Recording) -> dict[str, Any]:
    body: dict[str, Any] = transport.last[1].json()
    return body


def test_tokenize_is_encrypted_when_the_certificate_is_known(
    app: Starlette, merchant: Merchant
) -> None:
    client, transport = recording_client(app, merchant)
    result = client.tokens.tokenize(tokenize_request(make_pan()))
    assert result.id_of("customer")
    body = sent(transport)
    assert list(body) == ["encryptedRequest"]
    assert body["encryptedRequest"].count(".") == 4
    client.customers.create({})
    assert "encryptedRequest" not in sent(transport)


def test_no_certificate_or_request_mle_false_sends_plain_json(
    app: Starlette, merchant: Merchant
) -> None:
    for options in ({"request_mle_certificate": None}, {"request_mle": False}):
        client, transport = recording_client(app, merchant, **options)
        assert client.tokens.tokenize(tokenize_request(make_pan())).id_of("customer")
        assert "processingInformation" in sent(transport)


def test_request_mle_true_encrypts_every_body(app: Starlette, merchant: Merchant) -> None:
    client, transport = recording_client(app, merchant, "jwt", request_mle=True)
    customer, _ = make_customer_with_card(client)
    assert list(sent(transport)) == ["encryptedRequest"]
    client.customers.update(customer.id, {"clientReferenceInformation": {"code": "x"}})
    assert list(sent(transport)) == ["encryptedRequest"]
    assert client.tokens.payment_credentials(customer.id).count(".") == 4
    client.customers.get(customer.id)
    assert transport.last[0].content == b""


def test_request_mle_true_needs_a_certificate(merchant: Merchant) -> None:
    with pytest.raises(ValueError, match="request_mle_certificate"):
        Client(BASE_URL, auth=merchant.auth("signature"), request_mle=True)


def response_mle(merchant: Merchant) -> dict[str, Any]:
    registration = merchant.registration
    return {
        "response_mle_kid": registration.credentials_kid,
        "response_mle_key": registration.credentials_private_key_pem,
    }


@pytest.mark.parametrize("mode", ["jwt", "hs256"])
def test_response_mle_decrypts_answers_and_errors(
    app: Starlette, merchant: Merchant, mode: str
) -> None:
    client, transport = recording_client(app, merchant, mode, **response_mle(merchant))
    customer, _ = make_customer_with_card(client)
    assert list(answered(transport)) == ["encryptedResponse"]
    fetched = client.customers.get(customer.id)
    assert fetched.id == customer.id
    assert fetched.etag
    credentials = client.tokens.decrypted_payment_credentials(customer.id)
    assert credentials.tokenized_card is not None
    assert list(answered(transport)) == ["encryptedResponse"]
    with pytest.raises(NotFound) as caught:
        client.customers.get("0" * 32)
    assert caught.value.type == "notFound"
    assert list(answered(transport)) == ["encryptedResponse"]


def test_response_mle_in_the_async_client(app: Starlette, merchant: Merchant) -> None:
    client = make_client(app, merchant, "async-jwt", **response_mle(merchant))
    try:
        customer, _ = make_customer_with_card(client)
        assert client.customers.get(customer.id).id == customer.id
    finally:
        close(client)


def test_response_mle_needs_jwt_and_both_settings(merchant: Merchant) -> None:
    with pytest.raises(ValueError, match="JWTAuth"):
        Client(BASE_URL, auth=merchant.auth("signature"), **response_mle(merchant))
    with pytest.raises(ValueError, match="both"):
        Client(BASE_URL, auth=merchant.auth("jwt"), response_mle_kid="kid")


def test_a_response_the_key_cannot_open_is_invalid(app: Starlette, merchant: Merchant) -> None:
    wrong = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    registration = merchant.registration
    client, _ = recording_client(
        app,
        merchant,
        "jwt",
        response_mle_kid=registration.credentials_kid,
        response_mle_key=wrong,
    )
    with pytest.raises(InvalidResponse) as caught:
        client.customers.create({})
    assert isinstance(caught.value.response, httpx.Response)


def test_the_auth_is_copied_not_changed(merchant: Merchant) -> None:
    auth = merchant.auth("jwt")
    assert isinstance(auth, JWTAuth)
    client = Client(BASE_URL, auth=auth, **response_mle(merchant))
    assert isinstance(client.auth, JWTAuth)
    assert client.auth.response_mle_kid == merchant.registration.credentials_kid
    assert auth.response_mle_kid is None
