"""Retries: idempotent calls (GET, PUT, DELETE) are tried again after a
connection error or a 5xx, with exponential backoff; POST and PATCH never."""

from __future__ import annotations

from typing import Any

import anyio
import httpx
import pytest
from starlette.applications import Starlette

from opentms.client import (
    ASGIAppTransport,
    AsyncClient,
    Client,
    ServerError,
    TransportError,
)
from tests.client.conftest import BASE_URL, client_options
from tests.client.factories import make_customer
from tests.client.transports import AsyncFlaky, Flaky, methods
from tests.support import Merchant


def flaky_client(
    app: Starlette, merchant: Merchant, flaky: Flaky | None = None, **options: Any
) -> tuple[Client, Flaky]:
    transport = flaky or Flaky(ASGIAppTransport(app), failures=0)
    settings = client_options(merchant) | options
    return Client(BASE_URL, auth=merchant.auth("signature"), transport=transport, **settings), (
        transport
    )


@pytest.fixture
def customer_id(app: Starlette, merchant: Merchant) -> str:
    client, _ = flaky_client(app, merchant)
    customer = make_customer(client)
    return customer.id


def test_get_is_retried_after_two_503s(
    app: Starlette, merchant: Merchant, customer_id: str
) -> None:
    flaky = Flaky(ASGIAppTransport(app), failures=2)
    client, _ = flaky_client(app, merchant, flaky)
    assert client.customers.get(customer_id).id == customer_id
    assert methods(flaky.requests) == ["GET", "GET", "GET"]
    assert all("signature" in request.headers for request in flaky.requests)


def test_post_and_patch_are_never_retried(
    app: Starlette, merchant: Merchant, customer_id: str
) -> None:
    flaky = Flaky(ASGIAppTransport(app), failures=2)
    client, _ = flaky_client(app, merchant, flaky)
    with pytest.raises(ServerError) as caught:
        client.customers.create({})
    assert caught.value.status_code == 503
    assert methods(flaky.requests) == ["POST"]
    with pytest.raises(ServerError):
        client.customers.update(customer_id, {})
    assert methods(flaky.requests) == ["POST", "PATCH"]


def test_delete_is_retried_after_a_connection_error(
    app: Starlette, merchant: Merchant, customer_id: str
) -> None:
    flaky = Flaky(ASGIAppTransport(app), failures=1, error=httpx.ConnectError)
    client, _ = flaky_client(app, merchant, flaky)
    client.customers.delete(customer_id)
    assert methods(flaky.requests) == ["DELETE", "DELETE"]


def test_retries_stop_after_max_retries(app: Starlette, merchant: Merchant) -> None:
    flaky = Flaky(ASGIAppTransport(app), failures=10, status=502)
    client, _ = flaky_client(app, merchant, flaky, max_retries=3)
    with pytest.raises(ServerError) as caught:
        client.customers.get("0" * 32)
    assert caught.value.status_code == 502
    assert caught.value.type is None
    assert len(flaky.requests) == 4
    flaky.requests.clear()
    client, _ = flaky_client(app, merchant, flaky, max_retries=0)
    with pytest.raises(ServerError):
        client.customers.get("0" * 32)
    assert len(flaky.requests) == 1


def test_a_post_connection_error_is_a_transport_error(app: Starlette, merchant: Merchant) -> None:
    flaky = Flaky(ASGIAppTransport(app), failures=5, error=httpx.ConnectError)
    client, _ = flaky_client(app, merchant, flaky)
    with pytest.raises(TransportError) as caught:
        client.customers.create({})
    assert isinstance(caught.value.__cause__, httpx.ConnectError)
    assert caught.value.request is not None
    assert caught.value.request.method == "POST"
    assert "ConnectError" in str(caught.value)
    assert "POST /tms/v2/customers" in repr(caught.value)
    assert len(flaky.requests) == 1
    flaky.requests.clear()
    with pytest.raises(TransportError):
        client.customers.get("0" * 32)
    assert len(flaky.requests) == 3


def test_backoff_doubles_and_honours_retry_after(
    app: Starlette, merchant: Merchant, customer_id: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    waits: list[float] = []
    monkeypatch.setattr("opentms.client._client.time.sleep", waits.append)
    flaky = Flaky(ASGIAppTransport(app), failures=2)
    client, _ = flaky_client(app, merchant, flaky, retry_backoff=0.5)
    client.customers.get(customer_id)
    assert waits == [0.5, 1.0]
    waits.clear()
    flaky = Flaky(ASGIAppTransport(app), failures=1, headers={"retry-after": "3"})
    client, _ = flaky_client(app, merchant, flaky, retry_backoff=0.5)
    client.customers.get(customer_id)
    assert waits == [3.0]


def test_a_timeout_is_a_transport_error(app: Starlette, merchant: Merchant) -> None:
    flaky = Flaky(ASGIAppTransport(app), failures=5, error=httpx.ReadTimeout)
    client, _ = flaky_client(app, merchant, flaky, max_retries=1, timeout=0.5)
    with pytest.raises(TransportError) as caught:
        client.customers.get("0" * 32)
    assert isinstance(caught.value.__cause__, httpx.ReadTimeout)
    assert len(flaky.requests) == 2
    assert client.timeout == httpx.Timeout(0.5)


def test_negative_retry_settings_are_refused(merchant: Merchant) -> None:
    with pytest.raises(ValueError, match="max_retries"):
        Client(BASE_URL, auth=merchant.auth("signature"), max_retries=-1)


def test_the_async_client_retries_get_but_not_post(
    app: Starlette, merchant: Merchant, customer_id: str
) -> None:
    async def scenario() -> tuple[list[str], list[str]]:
        get_flaky = AsyncFlaky(httpx.ASGITransport(app=app), failures=2)
        settings = client_options(merchant)
        async with AsyncClient(
            BASE_URL, auth=merchant.auth("jwt"), transport=get_flaky, **settings
        ) as client:
            assert (await client.customers.get(customer_id)).id == customer_id
        post_flaky = AsyncFlaky(httpx.ASGITransport(app=app), failures=2)
        async with AsyncClient(
            BASE_URL, auth=merchant.auth("jwt"), transport=post_flaky, **settings
        ) as client:
            with pytest.raises(ServerError):
                await client.customers.create({})
        return methods(get_flaky.requests), methods(post_flaky.requests)

    get_methods, post_methods = anyio.run(scenario)
    assert get_methods == ["GET", "GET", "GET"]
    assert post_methods == ["POST"]
