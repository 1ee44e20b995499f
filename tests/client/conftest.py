"""Fixtures of the client tests: ``tms``, an ``opentms.client`` client over the
in-process app in each of four variants (sync and async, HTTP Signature and
JWT), so one test body checks every combination; and a guard that fails any
test during which the app answered 500."""

from __future__ import annotations

import functools
import inspect
import logging
from collections.abc import Iterator
from typing import Any, cast

import anyio
import httpx
import pytest
from starlette.applications import Starlette

from opentms.client import ASGIAppTransport, AsyncClient, Client
from opentms.client._async_resources import AsyncResource
from opentms.client._keys import load_p12
from tests.client.server import Served, serve
from tests.support import Merchant

BASE_URL = "http://testserver"
VARIANTS = ["sync-signature", "sync-jwt", "async-signature", "async-jwt"]


class _ErrorRecords(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture(autouse=True)
def no_server_errors() -> Iterator[None]:
    """No client call may make the server fail (it logs every 500 at ERROR)."""
    handler = _ErrorRecords()
    logger = logging.getLogger("opentms.http")
    logger.addHandler(handler)
    try:
        yield
    finally:
        logger.removeHandler(handler)
    assert not handler.records, [record.getMessage() for record in handler.records]


class Blocking:
    """An :class:`AsyncClient` (or one of its resources) whose coroutine
    methods run to completion on a fresh event loop per call: the async
    client's own code runs, while the test reads like the sync one."""

    def __init__(self, target: object) -> None:
        self._target = target

    def __getattr__(self, name: str) -> Any:
        value = getattr(self._target, name)
        if inspect.iscoroutinefunction(value):

            def run(*args: Any, **kwargs: Any) -> Any:
                return anyio.run(functools.partial(value, *args, **kwargs))

            return run
        if isinstance(value, AsyncResource):
            return Blocking(value)
        return value

    def __repr__(self) -> str:
        return f"Blocking({self._target!r})"


def client_options(merchant: Merchant) -> dict[str, Any]:
    """What every test client gets besides auth: the key that opens payment
    credentials and the server's request-MLE certificate (from the P12)."""
    registration = merchant.registration
    assert registration.p12 is not None
    p12 = load_p12(registration.p12, registration.p12_password)
    return {
        "credentials_private_key": registration.credentials_private_key_pem,
        "request_mle_certificate": p12.certificate_named("CyberSource_SJC_US"),
        "retry_backoff": 0.0,
    }


def make_client(app: Starlette, merchant: Merchant, variant: str, **options: Any) -> Client:
    """A client of ``variant`` (``sync-signature``, ``async-jwt``...) signing as
    ``merchant``; an async one is wrapped in :class:`Blocking` and typed as the
    sync client it mirrors."""
    kind, mode = variant.split("-")
    settings = client_options(merchant) | {"auth": merchant.auth(mode)} | options
    if kind == "sync":
        return Client(BASE_URL, transport=ASGIAppTransport(app), **settings)
    async_client = AsyncClient(BASE_URL, transport=httpx.ASGITransport(app=app), **settings)
    return cast(Client, Blocking(async_client))


def close(client: Client) -> None:
    if isinstance(client, Blocking):
        client.aclose()
    else:
        client.close()


@pytest.fixture(params=VARIANTS)
def tms(request: pytest.FixtureRequest, app: Starlette, merchant: Merchant) -> Iterator[Client]:
    """The merchant's client, in each variant in turn."""
    client = make_client(app, merchant, request.param)
    yield client
    close(client)


@pytest.fixture
def other_tms(app: Starlette, other_merchant: Merchant) -> Iterator[Client]:
    """Another merchant's (sync, HTTP Signature) client."""
    client = make_client(app, other_merchant, "sync-signature")
    yield client
    close(client)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="session")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """A real ``opentms serve`` and a merchant bundle for it."""
    with serve(tmp_path_factory.mktemp("served")) as running:
        yield running
