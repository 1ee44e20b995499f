"""Slow request bodies and the bound on open connections (issue 9, finding 2).

Real ``opentms serve`` processes with short limits, driven over raw sockets: a
body must arrive whole within OPENTMS_BODY_TIMEOUT_SECONDS of its head (else
408 in the TMS envelope, then close), counted over the whole body rather than
between its bytes; beyond OPENTMS_MAX_CONNECTIONS open connections a new one
is answered 503 with Retry-After and closed; normal requests are served
meanwhile, and again once the held connections are gone.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.robustness.support import (
    CUSTOMERS,
    BundleMerchant,
    RawResponse,
    Server,
    client,
    database,
    environment,
    parse_response,
    raw_exchange,
    register_merchant,
    report,
    signature_headers,
    start_server,
    wire_request,
)
from tests.support import postgresql_backend

BODY_TIMEOUT = 3.0  # OPENTMS_BODY_TIMEOUT_SECONDS of the servers here
MAX_CONNECTIONS = 4  # OPENTMS_MAX_CONNECTIONS of the bounded server
TRICKLED = 10  # connections trickling a body at once
ANSWER_WAIT = BODY_TIMEOUT + 12.0  # how long a test waits for an answer before failing
EARLY = 0.1  # timer slack: a deadline may fire this much before it is due


@dataclass(frozen=True)
class Target:
    server: Server
    merchant: BundleMerchant

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.server.port}"

    def signed_post(self, body: bytes) -> tuple[bytes, bytes]:
        """A signed ``POST /tms/v2/customers`` of ``body`` as its head and its body."""
        headers = signature_headers(self.merchant, self.host, "POST", CUSTOMERS, body)
        headers["content-type"] = "application/json"
        head, _, payload = wire_request("POST", CUSTOMERS, headers, body).partition(b"\r\n\r\n")
        return head + b"\r\n\r\n", payload

    def connect(self) -> socket.socket:
        return socket.create_connection(("127.0.0.1", self.server.port), timeout=ANSWER_WAIT)


@contextlib.contextmanager
def serving(root: Path, merchant_id: str, **limits: str) -> Iterator[Target]:
    with database(root) as settings:
        env = environment(**settings, **limits)
        merchant = register_merchant(env, merchant_id, root / "bundles")
        server = start_server(root / "server.log", env)
        try:
            yield Target(server, merchant)
        finally:
            server.stop()


@pytest.fixture(scope="module")
def target(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Target]:
    root = tmp_path_factory.mktemp("slow_bodies")
    with serving(root, "slow_bodies", body_timeout_seconds=str(BODY_TIMEOUT)) as served:
        yield served


def read_until_closed(sock: socket.socket) -> bytes:
    """Everything the server sends until it closes the connection (a reset,
    because we were still sending, counts as a close); a test failure if it
    neither answers nor closes within the socket's timeout."""
    chunks: list[bytes] = []
    while True:
        try:
            chunk = sock.recv(65536)
        except ConnectionResetError:
            break
        except TimeoutError:
            pytest.fail(f"no answer and no close within {sock.gettimeout()} s: {chunks!r}")
        if not chunk:
            break
        chunks.append(chunk)
    return b"".join(chunks)


def read_response(sock: socket.socket) -> RawResponse:
    """One response with a Content-Length, leaving the connection open."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        assert chunk, f"closed before a response head: {data!r}"
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = int(parse_response(head + b"\r\n\r\n").headers["content-length"])
    while len(body) < length:
        chunk = sock.recv(65536)
        assert chunk, "closed before the end of the response body"
        body += chunk
    return parse_response(head + b"\r\n\r\n" + body)


def assert_body_timeout(response: RawResponse) -> None:
    """408 in the TMS envelope, naming the body, and the connection closed."""
    assert response.status == 408, (response.status, response.body[:300])
    assert response.headers["content-type"].startswith("application/json")
    assert response.headers["connection"] == "close"
    error = response.json()["errors"][0]
    assert error["type"] == "invalidFields", error
    assert f"within {BODY_TIMEOUT:g} seconds" in error["message"], error
    assert error["details"] == [{"name": "body", "location": "body"}]


def trickle(
    sockets: list[socket.socket], body: bytes, interval: float, stop: threading.Event
) -> None:
    """Send ``body`` on every socket a byte at a time, one every ``interval`` s."""
    for at in range(len(body)):
        if stop.wait(interval):
            return
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.send(body[at : at + 1])


# (a) Trickled bodies, while others are served --------------------------------------------------


def test_trickled_bodies_are_answered_408_while_others_are_served(target: Target) -> None:
    """The attack of finding 2, smaller: headers announcing a 60,000-byte body,
    then a byte every half second. Each such connection is answered 408 and
    closed once the body deadline has passed, not before; meanwhile /healthz
    and signed TMS requests are served."""
    head, body = target.signed_post(b'{"filler":"' + b"x" * 59_987 + b'"}')
    assert len(body) == 60_000
    sockets = [target.connect() for _ in range(TRICKLED)]
    stop = threading.Event()
    for sock in sockets:
        sock.sendall(head)
    sent_at = time.monotonic()
    trickler = threading.Thread(target=trickle, args=(sockets, body, 0.5, stop), daemon=True)
    trickler.start()
    try:
        with httpx.Client(base_url=target.server.url, timeout=10.0) as plain:
            healthz = [plain.get("/healthz").status_code for _ in range(5)]
        with client(target.server, target.merchant) as http:
            created = [http.post(CUSTOMERS, json={}).status_code for _ in range(5)]
        answers = [read_until_closed(sock) for sock in sockets]
        waited = time.monotonic() - sent_at
    finally:
        stop.set()
        trickler.join(timeout=10)
        for sock in sockets:
            sock.close()
    report(
        "trickled bodies",
        connections=TRICKLED,
        body_timeout_s=BODY_TIMEOUT,
        answered_after_s=round(waited, 2),
        healthz_served=healthz.count(200),
        creates_served=created.count(201),
    )
    assert healthz == [200] * 5
    assert created == [201] * 5
    for answer in answers:
        assert_body_timeout(parse_response(answer))
    assert waited >= BODY_TIMEOUT - EARLY, "answered before the body deadline"
    assert target.server.alive()
    log = target.server.log_file.read_text(errors="replace")
    assert log.count(f'"POST {CUSTOMERS}" 408 ') >= TRICKLED, "the access log names the 408"
    assert not target.server.errors_logged()


# (b) A body whole within the deadline ----------------------------------------------------------


def test_a_body_whole_within_the_deadline_is_served(target: Target) -> None:
    """A body sent in three pieces, whole well within the deadline, is served
    (201); the connection stays usable past the deadline, for the deadline
    ended with the body."""
    head, body = target.signed_post(b'{"buyerInformation":{"merchantCustomerID":"in-time"}}')
    head = head.replace(b"Connection: close\r\n", b"")
    third = len(body) // 3
    with target.connect() as sock:
        sock.sendall(head)
        for piece in (body[:third], body[third : 2 * third], body[2 * third :]):
            time.sleep(BODY_TIMEOUT / 10)
            sock.sendall(piece)
        created = read_response(sock)
        assert created.status == 201, created.body[:300]
        time.sleep(BODY_TIMEOUT + 1.0)
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        after = parse_response(read_until_closed(sock))
    assert after.status == 200, after.body[:300]


# (c) The deadline is for the whole body ---------------------------------------------------------


def test_the_deadline_covers_the_whole_body_not_the_gaps(target: Target) -> None:
    """Each byte comes well within the deadline of the previous one (a third
    of it), but the whole body would take four times the deadline: 408 once
    the deadline has passed."""
    head, body = target.signed_post(b"{" + b" " * 10 + b"}")
    stop = threading.Event()
    with target.connect() as sock:
        sock.sendall(head)
        sent_at = time.monotonic()
        trickler = threading.Thread(
            target=trickle, args=([sock], body, BODY_TIMEOUT / 3, stop), daemon=True
        )
        trickler.start()
        try:
            answer = read_until_closed(sock)
            waited = time.monotonic() - sent_at
        finally:
            stop.set()
            trickler.join(timeout=10)
    assert_body_timeout(parse_response(answer))
    assert waited >= BODY_TIMEOUT - EARLY, "answered before the body deadline"


# (d) The bound on open connections ---------------------------------------------------------------


def hold_connection(target: Target) -> socket.socket:
    """A keep-alive connection the server admitted (it answered /healthz on
    it); a connection still closing from before may be counted a moment
    longer, so a refused attempt is retried."""
    for _ in range(50):
        sock = target.connect()
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        if read_response(sock).status == 200:
            return sock
        sock.close()
        time.sleep(0.1)
    pytest.fail("the server admitted no connection")


@pytest.mark.skipif(postgresql_backend(), reason="HTTP layer only; it ran in the SQLite pass")
def test_beyond_the_connection_bound_a_clear_refusal_then_service_resumes(
    tmp_path: Path,
) -> None:
    """With MAX_CONNECTIONS held open, another connection is answered 503 in
    the TMS envelope with Retry-After, and closed; once the held connections
    are closed, requests are served again."""
    limits = {"max_connections": str(MAX_CONNECTIONS), "body_timeout_seconds": str(BODY_TIMEOUT)}
    with serving(tmp_path, "bounded", **limits) as bounded:
        held = [hold_connection(bounded) for _ in range(MAX_CONNECTIONS)]
        try:
            request = wire_request("GET", "/healthz", {"host": bounded.host})
            refused = raw_exchange(bounded.server.port, request, timeout=ANSWER_WAIT)
            head, body = bounded.signed_post(b"{}")
            refused_post = raw_exchange(bounded.server.port, head + body, timeout=ANSWER_WAIT)
        finally:
            for sock in held:
                sock.close()
        resumed_after = None
        started = time.monotonic()
        while time.monotonic() - started < 10 and resumed_after is None:
            if httpx.get(f"{bounded.server.url}/healthz", timeout=5.0).status_code == 200:
                resumed_after = time.monotonic() - started
            else:
                time.sleep(0.1)
        with client(bounded.server, bounded.merchant) as http:
            created = http.post(CUSTOMERS, json={}).status_code
        assert bounded.server.alive()
    report(
        "connection bound",
        max_connections=MAX_CONNECTIONS,
        refused_status=refused.status,
        resumed_after_s=None if resumed_after is None else round(resumed_after, 2),
    )
    for answer in (refused, refused_post):
        assert answer.status == 503, (answer.status, answer.body[:300])
        assert answer.headers["content-type"].startswith("application/json")
        assert answer.headers["connection"] == "close"
        assert answer.headers["retry-after"].isdigit()
        error = answer.json()["errors"][0]
        assert error["type"] == "serverError", error
        assert "limit of open connections" in error["message"], error
    assert resumed_after is not None, "not served again within 10 s of the held connections closing"
    assert created == 201
