"""The client against a real ``opentms serve`` over TCP: every auth mode, sync
and async, configured from the bundle ``opentms merchants create`` wrote."""

from __future__ import annotations

import anyio
import pytest

from opentms.client import (
    AsyncClient,
    AsyncTokenApi,
    Client,
    NotFound,
    PreconditionFailed,
    TokenApi,
)
from opentms.client._bundle import AuthMode
from opentms.client._http11 import HTTP11Transport
from tests.client.factories import make_instrument_identifier, pi_request
from tests.client.server import Served
from tests.client.test_tokenize import tokenize_request
from tests.support import make_pan


@pytest.mark.parametrize("auth", ["signature", "jwt", "hs256"])
def test_a_session_over_tcp(served: Served, auth: AuthMode) -> None:
    with Client.from_credentials_file(served.bundle, base_url=served.url, auth=auth) as client:
        ii = make_instrument_identifier(client)
        update: dict[str, object] = {"processingInformation": {"authorizationOptions": {}}}
        client.instrument_identifiers.update(ii.id, update, if_match=ii.etag)
        with pytest.raises(PreconditionFailed):
            client.instrument_identifiers.update(ii.id, update, if_match=ii.etag)
        customer = client.customers.create({})
        client.customers.payment_instruments.create(customer.id, pi_request())
        assert client.customers.payment_instruments.list(customer.id).total == 1
        jwe = TokenApi(client).post_token_payment_credentials(customer.id, {})
        assert jwe.count(".") == 4
        credentials = client.tokens.decrypted_payment_credentials(customer.id)
        assert credentials.tokenized_card is not None
        assert credentials.tokenized_card.eci == "07"
        assert client.tokens.tokenize(tokenize_request(make_pan())).id_of("customer")
        with pytest.raises(NotFound):
            client.customers.get("0" * 32)
        # Every call went over one kept-alive connection.
        transport = client._transport
        assert isinstance(transport, HTTP11Transport)
        assert [len(idle) for idle in transport._idle.values()] == [1]


def test_the_async_client_over_tcp(served: Served) -> None:
    async def session() -> None:
        async with AsyncClient.from_credentials_file(
            served.bundle, base_url=served.url, auth="jwt", response_mle=True
        ) as client:
            customer = await client.customers.create({})
            await client.customers.payment_instruments.create(customer.id, pi_request())
            jwe = await AsyncTokenApi(client).post_token_payment_credentials(customer.id)
            assert jwe.count(".") == 4
            credentials = await client.tokens.decrypted_payment_credentials(customer.id, version=2)
            assert credentials.tokenized_card is not None
            assert credentials.tokenized_card.cryptogram
            with pytest.raises(NotFound):
                await client.customers.get("0" * 32)

    anyio.run(session)
