"""``HTTP11Transport``, the sync client's default transport, against a scripted
socket server: bodies by length, chunks or close; keep-alive reuse and stale
connections; interim responses; and every failure as httpx's exception."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import httpx
import pytest

from opentms.client import Client, NotFound, TransportError
from opentms.client._http11 import HTTP11Transport
from tests.support import Merchant

Respond = Callable[[bytes], tuple[bytes, bool]]  # request -> (response bytes, close after)


@dataclass
class Scripted:
    """A socket server answering each request with ``respond``."""

    respond: Respond
    sock: socket.socket = field(default_factory=socket.socket)
    connections: int = 0
    requests: list[bytes] = field(default_factory=list)
    stopped: bool = False

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.sock.getsockname()[1]}"

    def serve(self) -> None:
        while not self.stopped:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self.handle, args=(conn,), daemon=True).start()

    def handle(self, conn: socket.socket) -> None:
        buffer = b""
        with conn:
            while True:
                while b"\r\n\r\n" not in buffer:
                    data = conn.recv(65536)
                    if not data:
                        return
                    buffer += data
                head, _, buffer = buffer.partition(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n")[1:]:
                    name, _, value = line.partition(b":")
                    if name.strip().lower() == b"content-length":
                        length = int(value)
                while len(buffer) < length:
                    buffer += conn.recv(65536)
                request, buffer = head + b"\r\n\r\n" + buffer[:length], buffer[length:]
                self.requests.append(request)
                answer, close = self.respond(request)
                if answer:
                    conn.sendall(answer)
                if close:
                    return


@pytest.fixture
def scripted() -> Iterator[Callable[[Respond], Scripted]]:
    servers: list[Scripted] = []

    def start(respond: Respond) -> Scripted:
        server = Scripted(respond)
        server.sock.bind(("127.0.0.1", 0))
        server.sock.listen()
        threading.Thread(target=server.serve, daemon=True).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stopped = True
        server.sock.close()


@pytest.fixture
def transports() -> Iterator[Callable[..., HTTP11Transport]]:
    """``HTTP11Transport`` factory; each is closed after the test."""
    made: list[HTTP11Transport] = []

    def make(**options: float) -> HTTP11Transport:
        made.append(HTTP11Transport(**options))  # type: ignore[arg-type]
        return made[-1]

    yield make
    for transport in made:
        transport.close()


def ok(body: bytes = b'{"id": "C1"}', extra: bytes = b"") -> bytes:
    return b"HTTP/1.1 200 OK\r\ncontent-length: %d\r\n%s\r\n%s" % (len(body), extra, body)


def get(transport: HTTP11Transport, url: str, method: str = "GET") -> httpx.Response:
    timeout = httpx.Timeout(2.0).as_dict()
    return transport.handle_request(httpx.Request(method, url, extensions={"timeout": timeout}))


def test_content_length_bodies_over_one_kept_alive_connection(
    scripted: Callable[[Respond], Scripted],
    transports: Callable[..., HTTP11Transport],
) -> None:
    server = scripted(lambda _: (ok(), False))
    transport = transports()
    for _ in range(3):
        response = get(transport, server.url + "/x?a=1")
        assert (response.status_code, response.content) == (200, b'{"id": "C1"}')
        assert response.reason_phrase == "OK"
    assert server.connections == 1
    assert server.requests[0].startswith(b"GET /x?a=1 HTTP/1.1\r\n")
    assert b"\r\nhost: 127.0.0.1:" in server.requests[0].lower()


def test_chunked_bodies_with_extensions_and_trailers(
    scripted: Callable[[Respond], Scripted],
    transports: Callable[..., HTTP11Transport],
) -> None:
    chunked = (
        b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n"
        b"4;ext=1\r\nWiki\r\n6\r\npedia \r\nE\r\nin \r\n\r\nchunks.\r\n0\r\nx-trailer: y\r\n\r\n"
    )
    server = scripted(lambda _: (chunked, False))
    transport = transports()
    assert get(transport, server.url).content == b"Wikipedia in \r\n\r\nchunks."
    assert get(transport, server.url).content == b"Wikipedia in \r\n\r\nchunks."
    assert server.connections == 1


def test_a_body_to_the_close_and_connection_close(
    scripted: Callable[[Respond], Scripted],
    transports: Callable[..., HTTP11Transport],
) -> None:
    server = scripted(lambda _: (b"HTTP/1.1 200 OK\r\n\r\nuntil the end", True))
    transport = transports()
    assert get(transport, server.url).content == b"until the end"
    assert get(transport, server.url).content == b"until the end"
    assert server.connections == 2
    closing = scripted(lambda _: (ok(extra=b"connection: close\r\n"), True))
    get(transport, closing.url)
    get(transport, closing.url)
    assert closing.connections == 2


def test_a_connection_the_server_closed_while_idle_is_not_reused(
    scripted: Callable[[Respond], Scripted],
    transports: Callable[..., HTTP11Transport],
) -> None:
    # The server closes after answering, without saying so: the idle socket
    # turns readable (EOF) and the next request opens a new connection.
    server = scripted(lambda _: (ok(), True))
    transport = transports()
    get(transport, server.url)
    time.sleep(0.1)
    assert get(transport, server.url).status_code == 200
    assert server.connections == 2


def test_expired_idle_connections_are_not_reused(
    scripted: Callable[[Respond], Scripted],
    transports: Callable[..., HTTP11Transport],
) -> None:
    server = scripted(lambda _: (ok(), False))
    transport = transports(keepalive_expiry=0.0)
    get(transport, server.url)
    time.sleep(0.01)
    get(transport, server.url)
    assert server.connections == 2


def test_interim_responses_and_bodiless_answers(
    scripted: Callable[[Respond], Scripted],
    transports: Callable[..., HTTP11Transport],
) -> None:
    answers = iter(
        [
            b"HTTP/1.1 100 Continue\r\n\r\n" + ok(b"after continue"),
            b"HTTP/1.1 204 No Content\r\n\r\n",
            b"HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\n",
            ok(b"next"),
        ]
    )
    server = scripted(lambda _: (next(answers), False))
    transport = transports()
    assert get(transport, server.url).content == b"after continue"
    assert get(transport, server.url, "DELETE").status_code == 204
    head = get(transport, server.url, "HEAD")
    assert (head.status_code, head.content) == (200, b"")
    assert get(transport, server.url).content == b"next"
    assert server.connections == 1


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        pytest.param(b"SMTP ready\r\n\r\n", "status line", id="not-http"),
        pytest.param(b"HTTP/1.1 200 OK\r\nbad header\r\n\r\n", "malformed", id="bad-header"),
        pytest.param(
            b"HTTP/1.1 200 OK\r\ncontent-length: x\r\n\r\n", "Content-Length", id="length"
        ),
        pytest.param(
            b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\nzz\r\n", "chunk", id="chunk"
        ),
        pytest.param(b"HTTP/1.1 200 OK\r\n" + b"x: y\r\n" * 20000, "too large", id="huge-head"),
        pytest.param(b"", "disconnected", id="no-answer"),
        pytest.param(b"HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\nabc", "middle", id="cut"),
    ],
)
def test_protocol_errors(
    scripted: Callable[[Respond], Scripted],
    answer: bytes,
    message: str,
    transports: Callable[..., HTTP11Transport],
) -> None:
    server = scripted(lambda _: (answer, True))
    with pytest.raises(httpx.RemoteProtocolError, match=message) as caught:
        get(transports(), server.url)
    assert caught.value.request.method == "GET"


def test_timeouts_and_refused_connections(
    scripted: Callable[[Respond], Scripted],
    transports: Callable[..., HTTP11Transport],
) -> None:
    server = scripted(lambda _: (b"", False))  # never answers
    request = httpx.Request("GET", server.url, extensions={"timeout": httpx.Timeout(0.2).as_dict()})
    with pytest.raises(httpx.ReadTimeout):
        transports().handle_request(request)
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    with pytest.raises(httpx.ConnectError):
        get(transports(), f"http://127.0.0.1:{port}")
    with pytest.raises(httpx.UnsupportedProtocol):
        get(transports(), "ftp://127.0.0.1/")


def test_close_drops_idle_connections(
    scripted: Callable[[Respond], Scripted],
    transports: Callable[..., HTTP11Transport],
) -> None:
    server = scripted(lambda _: (ok(), False))
    transport = transports()
    get(transport, server.url)
    transport.close()
    assert transport._idle == {}
    get(transport, server.url)  # still usable; nothing is pooled any more
    assert transport._idle == {}


def test_the_client_over_it_keeps_requests_on_errors(
    scripted: Callable[[Respond], Scripted],
) -> None:
    body = b'{"errors": [{"type": "notFound", "message": "Token not found"}]}'
    server = scripted(
        lambda _: (
            b"HTTP/1.1 404 Not Found\r\ncontent-length: %d\r\n\r\n%s" % (len(body), body),
            False,
        )
    )
    with Client(server.url + "/prefix") as client, pytest.raises(NotFound) as caught:
        client.customers.get("C1")
    assert caught.value.response is not None
    assert caught.value.response.request.url.path == "/prefix/tms/v2/customers/C1"
    assert server.requests[0].startswith(b"GET /prefix/tms/v2/customers/C1 HTTP/1.1")
    silent = scripted(lambda _: (b"", True))
    client = Client(silent.url, max_retries=1, retry_backoff=0)
    with client, pytest.raises(TransportError) as failed:
        client.customers.get("C1")
    assert failed.value.request is not None
    assert failed.value.request.url.path == "/tms/v2/customers/C1"
    assert len(silent.requests) == 2  # a GET is retried once


def test_one_client_from_many_threads(scripted: Callable[[Respond], Scripted]) -> None:
    server = scripted(lambda _: (ok(b'{"id": "C1"}', b'etag: "1"\r\n'), False))
    client = Client(server.url)
    failures: list[BaseException] = []

    def work() -> None:
        try:
            for _ in range(20):
                assert client.customers.get("C1").etag == '"1"'
        except BaseException as exc:
            failures.append(exc)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    client.close()
    assert not failures
    assert len(server.requests) == 80
    assert server.connections <= 4


@pytest.mark.parametrize("mode", ["signature", "jwt"])
def test_the_direct_path_sends_what_httpx_would(
    scripted: Callable[[Respond], Scripted], merchant: Merchant, mode: str
) -> None:
    """The default transport with our signers skips httpx.Request; the same call
    through httpx's own transport sends the same headers."""
    server = scripted(lambda _: (ok(), False))
    auth, extra = merchant.auth(mode), {"x-extra": "1"}
    with Client(server.url, auth=auth, profile_id="P", headers=extra) as direct:
        direct.customers.update("C1", {"a": 1}, if_match='"3"')
    transport = httpx.HTTPTransport()
    with Client(
        server.url, auth=auth, profile_id="P", headers=extra, transport=transport
    ) as general:
        general.customers.update("C1", {"a": 1}, if_match='"3"')

    def parsed(request: bytes) -> tuple[bytes, dict[bytes, bytes], bytes]:
        head, _, body = request.partition(b"\r\n\r\n")
        lines = head.split(b"\r\n")
        fields = dict(line.split(b": ", 1) for line in lines[1:])
        return lines[0], {k.lower(): v for k, v in fields.items()}, body

    line, fields, body = parsed(server.requests[0])
    other_line, other_fields, other_body = parsed(server.requests[1])
    assert line == other_line == b"PATCH /tms/v2/customers/C1 HTTP/1.1"
    assert body == other_body == b'{"a":1}'
    assert set(fields) == set(other_fields)
    for name in (b"host", b"content-length", b"if-match", b"profile-id", b"x-extra", b"accept"):
        assert fields[name] == other_fields[name], name
    if mode == "signature":
        layout = fields[b"signature"].split(b'signature="')[0]
        assert layout == other_fields[b"signature"].split(b'signature="')[0]
        assert fields[b"digest"] == other_fields[b"digest"]
    else:
        assert fields[b"authorization"].startswith(b"Bearer ")
        assert other_fields[b"authorization"].startswith(b"Bearer ")


def test_header_injection_is_refused_before_sending(
    scripted: Callable[[Respond], Scripted],
    transports: Callable[..., HTTP11Transport],
) -> None:
    server = scripted(lambda _: (ok(), False))
    with Client(server.url) as client, pytest.raises(TransportError) as caught:
        client.customers.get("C1", profile_id="P\r\nx-injected: 1")
    assert isinstance(caught.value.__cause__, httpx.LocalProtocolError)
    assert caught.value.request is not None
    injected = httpx.Request("GET", server.url, headers={"x": "a\nb"})
    with pytest.raises(httpx.LocalProtocolError):
        transports().handle_request(injected)
    with Client(server.url) as client, pytest.raises(UnicodeEncodeError):
        client.customers.get("C1", profile_id="é")
    assert server.requests == []


def test_a_proxy_or_another_auth_takes_the_general_path(merchant: Merchant) -> None:
    with Client("http://tms.example", proxy="http://proxy.example:3128") as proxied:
        assert type(proxied._transport) is httpx.HTTPTransport
        assert not proxied._direct

    class Custom(httpx.Auth):
        pass

    with Client("http://tms.example", auth=Custom()) as custom:
        assert isinstance(custom._transport, HTTP11Transport)
        assert not custom._direct
    with Client("http://tms.example", auth=merchant.auth("jwt")) as ours:
        assert ours._direct
