"""The async client used as async code is: ``async with``, concurrent calls on
one connection pool, errors raised from ``await``."""

from __future__ import annotations

import anyio
import httpx
import pytest
from starlette.applications import Starlette

from opentms.client import AsyncClient, AsyncTokenApi, NotFound, decrypt_payment_credentials
from tests.client.conftest import BASE_URL, client_options
from tests.client.factories import pi_request
from tests.support import Merchant

pytestmark = pytest.mark.anyio


async def test_concurrent_credentials_on_one_client(app: Starlette, merchant: Merchant) -> None:
    settings = client_options(merchant)
    transport = httpx.ASGITransport(app=app)
    async with AsyncClient(
        BASE_URL, auth=merchant.auth("jwt"), transport=transport, **settings
    ) as client:
        customer = await client.customers.create({})
        await client.customers.payment_instruments.create(customer.id, pi_request())
        api = AsyncTokenApi(client)
        jwes: list[str] = []

        async def fetch() -> None:
            jwes.append(await api.post_token_payment_credentials(customer.id, {}))

        async with anyio.create_task_group() as group:
            for _ in range(5):
                group.start_soon(fetch)
        key = merchant.registration.credentials_private_key_pem
        assert key is not None
        counters = set()
        for jwe in jwes:
            card = decrypt_payment_credentials(jwe, key).tokenized_card
            assert card is not None
            counters.add(card.application_transaction_counter)
        assert len(counters) == 5
        with pytest.raises(NotFound):
            await client.customers.get("0" * 32)
