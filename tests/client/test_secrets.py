"""Secrets never show: not in the reprs of auth objects, clients, models and
errors, and not in any log line of a whole session at DEBUG."""

from __future__ import annotations

import logging

import pytest
from starlette.applications import Starlette

from opentms.client import (
    APIError,
    Card,
    Client,
    HTTPSignatureAuth,
    InstrumentIdentifierRequest,
    JWTAuth,
)
from tests.client.conftest import close, make_client
from tests.client.factories import make_customer_with_card
from tests.support import Merchant, make_pan


def test_auth_and_client_reprs_hide_secrets(merchant: Merchant) -> None:
    registration = merchant.registration
    signature = merchant.auth("signature")
    jwt = merchant.auth("jwt")
    hs256 = merchant.auth("hs256")
    assert isinstance(signature, HTTPSignatureAuth)
    assert isinstance(jwt, JWTAuth)
    assert isinstance(hs256, JWTAuth)
    for auth in (signature, jwt, hs256):
        client = Client("http://testserver", auth=auth)
        for text in (repr(auth), str(auth), repr(client), str(client)):
            assert registration.shared_secret not in text
            assert "PRIVATE" not in text
        assert merchant.id in repr(client)
    assert "RS256" in repr(jwt)
    assert "HS256" in repr(hs256)


def test_request_models_hide_card_numbers_and_codes() -> None:
    pan = make_pan()
    request = InstrumentIdentifierRequest(card=Card(number=pan, security_code="123"))
    assert pan not in repr(request)
    assert "123" not in repr(request)
    assert request.to_wire() == {"card": {"number": pan, "securityCode": "123"}}


@pytest.mark.parametrize("variant", ["sync-signature", "sync-jwt", "async-hs256"])
def test_a_session_logs_no_secret(
    app: Starlette, merchant: Merchant, variant: str, caplog: pytest.LogCaptureFixture
) -> None:
    registration = merchant.registration
    pan = make_pan()
    caplog.set_level(logging.DEBUG)
    client = make_client(app, merchant, variant)
    try:
        customer, _ = make_customer_with_card(client, pan)
        credentials = client.tokens.decrypted_payment_credentials(customer.id)
        with pytest.raises(APIError) as caught:
            client.customers.create({"merchantDefinedInformation": [{"name": "bad", "value": pan}]})
    finally:
        close(client)
    token = credentials.tokenized_card
    assert token is not None
    assert token.number is not None
    assert token.cryptogram is not None
    secrets = [
        registration.shared_secret,
        registration.p12_password or "",
        pan,
        pan[6:12],
        token.number,
        token.cryptogram,
    ]
    logged = caplog.text + repr(caught.value) + str(caught.value)
    assert "opentms.client" in {record.name for record in caplog.records}
    for secret in secrets:
        assert secret not in logged
    for record in caplog.records:
        assert "Bearer" not in record.getMessage()
        assert "signature=" not in record.getMessage()
