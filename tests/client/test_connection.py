"""Where the client connects: ``base_url`` is checked when the client is made,
and a request that gets no response names its method, URL and cause."""

from __future__ import annotations

import socket
from typing import Any

import anyio
import httpx
import pytest

from opentms.client import AsyncClient, Client, HTTPSignatureAuth, TransportError

AUTH = HTTPSignatureAuth("m", "k", "c2VjcmV0")
CUSTOMER = "0" * 32


@pytest.mark.parametrize("kind", [Client, AsyncClient])
@pytest.mark.parametrize(
    "base_url",
    [
        pytest.param("127.0.0.1:8080", id="no-scheme"),
        pytest.param("localhost:8080", id="host-as-scheme"),
        pytest.param("tms.example", id="bare-host"),
        pytest.param("ftp://tms.example", id="ftp"),
        pytest.param("http://", id="no-host"),
        pytest.param("", id="empty"),
        pytest.param("http://[::1", id="invalid"),
    ],
)
def test_a_base_url_that_is_not_an_http_url_is_refused(kind: type[Any], base_url: str) -> None:
    with pytest.raises(ValueError, match="base_url must be an http:// or https:// URL") as caught:
        kind(base_url, auth=AUTH)
    assert repr(base_url) in str(caught.value)


@pytest.mark.parametrize("base_url", ["http://tms.example/?a=1", "http://tms.example/#top"])
def test_a_base_url_with_a_query_or_fragment_is_refused(base_url: str) -> None:
    with pytest.raises(ValueError, match="no query or fragment") as caught:
        Client(base_url, auth=AUTH)
    assert repr(base_url) in str(caught.value)


def test_a_base_url_with_a_password_is_refused_without_showing_it() -> None:
    with pytest.raises(ValueError, match="must not carry a user or password") as caught:
        Client("https://ada:s3cret@tms.example/", auth=AUTH)
    assert "s3cret" not in str(caught.value)
    assert "https://tms.example/" in str(caught.value)


def test_a_base_url_that_is_not_a_string_is_refused() -> None:
    with pytest.raises(TypeError, match="base_url must be a str"):
        Client(httpx.URL("http://tms.example"), auth=AUTH)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("base_url", "kept"),
    [
        ("http://127.0.0.1:8080", "http://127.0.0.1:8080"),
        ("https://tms.example/", "https://tms.example"),
        ("https://tms.example:8443/prefix/", "https://tms.example:8443/prefix"),
    ],
)
def test_http_and_https_urls_are_accepted(base_url: str, kept: str) -> None:
    assert Client(base_url, auth=AUTH).base_url == kept
    assert AsyncClient(base_url, auth=AUTH).base_url == kept


TRANSPORT_ERRORS = [
    httpx.ConnectError,
    httpx.ConnectTimeout,
    httpx.ReadTimeout,
    httpx.WriteTimeout,
    httpx.PoolTimeout,
    httpx.ReadError,
    httpx.WriteError,
    httpx.CloseError,
    httpx.RemoteProtocolError,
    httpx.LocalProtocolError,
    httpx.UnsupportedProtocol,
    httpx.ProxyError,
]


def failing(error: type[httpx.TransportError], message: str) -> httpx.MockTransport:
    def handler(request: httpx.Request) -> httpx.Response:
        raise error(message)

    return httpx.MockTransport(handler)


def test_every_transport_error_is_listed() -> None:
    def subclasses(cls: type[Exception]) -> set[type[Exception]]:
        found = set(cls.__subclasses__())
        return found.union(*(subclasses(sub) for sub in found))

    leaves = {cls for cls in subclasses(httpx.TransportError) if not cls.__subclasses__()}
    assert leaves <= set(TRANSPORT_ERRORS)


@pytest.mark.parametrize("error", TRANSPORT_ERRORS, ids=lambda cls: cls.__name__)
def test_a_transport_error_names_method_url_and_cause(error: type[httpx.TransportError]) -> None:
    url = f"http://tms.example:8080/prefix/tms/v2/customers/{CUSTOMER}"
    with Client(
        "http://tms.example:8080/prefix",
        auth=AUTH,
        max_retries=0,
        transport=failing(error, "[Errno 111] Connection refused"),
    ) as client:
        with pytest.raises(TransportError) as caught:
            client.customers.get(CUSTOMER)
        assert str(caught.value) == (
            f"GET {url} got no response ({error.__name__}: [Errno 111] Connection refused)"
        )
        assert isinstance(caught.value.__cause__, error)

    async def asynchronously() -> str:
        async with AsyncClient(
            "http://tms.example:8080/prefix",
            auth=AUTH,
            max_retries=0,
            transport=failing(error, "cause"),
        ) as client:
            with pytest.raises(TransportError) as caught:
                await client.customers.create({})
            return str(caught.value)

    assert anyio.run(asynchronously) == (
        f"POST http://tms.example:8080/prefix/tms/v2/customers got no response "
        f"({error.__name__}: cause)"
    )


def test_a_cause_without_a_message_is_named_by_its_class() -> None:
    with (
        Client(
            "http://tms.example", auth=AUTH, max_retries=0, transport=failing(httpx.ReadTimeout, "")
        ) as client,
        pytest.raises(TransportError, match=r"/tms/v2/customers got no response \(ReadTimeout\)$"),
    ):
        client.customers.create({})


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_a_refused_connection_names_the_url() -> None:
    base_url = f"http://127.0.0.1:{closed_port()}"
    with Client(base_url, auth=AUTH, max_retries=0) as client:
        with pytest.raises(TransportError) as caught:
            client.customers.get(CUSTOMER)
        message = str(caught.value)
        assert message.startswith(f"GET {base_url}/tms/v2/customers/{CUSTOMER} got no response")
        assert "ConnectError" in message
        assert "refused" in message.lower()

    async def asynchronously() -> str:
        async with AsyncClient(base_url, auth=AUTH, max_retries=0) as client:
            with pytest.raises(TransportError) as caught:
                await client.customers.get(CUSTOMER)
            return str(caught.value)

    message = anyio.run(asynchronously)
    assert message.startswith(f"GET {base_url}/tms/v2/customers/{CUSTOMER} got no response")
    assert "ConnectError" in message
