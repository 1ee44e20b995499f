"""Hostile input against a real ``opentms serve`` (uvicorn with the HTTP
parser it picks: httptools when installed, as the project's dependencies ask,
else h11; so the HTTP layer is the one users run): bodies over the limit, deep
nesting, invalid UTF-8, huge numbers, header floods, slow clients and clients
that vanish.

Each must get a clear 4xx (the TMS envelope once the request reaches opentms;
uvicorn's own ``400 Invalid HTTP request received.`` when HTTP itself is
broken), the server must keep serving others, and its memory must stay within
RSS_BOUND_KIB of what it was after a warm-up round of the same abuse.
"""

from __future__ import annotations

import contextlib
import resource
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.conformance.server import free_port, opentms_executable
from tests.robustness.support import (
    CUSTOMERS,
    II,
    SIMULATIONS,
    BundleMerchant,
    RawResponse,
    Server,
    client,
    credentials_path,
    database,
    encode_jwt,
    environment,
    jwt_claims,
    raw_exchange,
    register_merchant,
    report,
    signature_headers,
    start_server,
    wire_request,
)
from tests.support import make_pan, postgresql_backend

LIMIT = 65_536  # OPENTMS_MAX_BODY_BYTES, the default
RSS_BOUND_KIB = 32 * 1024  # growth allowed over a warmed-up server, in KiB
SLOW_CONNECTIONS = 200
NORMAL_LATENCY_BOUND = 2.0  # seconds, for a request beside the slow clients
TALLY = {"sent": 0}


@dataclass(frozen=True)
class Target:
    server: Server
    merchant: BundleMerchant
    root: Path

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.server.port}"

    def signed(self, method: str, path: str, body: bytes = b"", **extra: str) -> dict[str, str]:
        headers = signature_headers(self.merchant, self.host, method, path, body)
        return {**headers, "content-type": "application/json", **extra}

    def exchange(
        self,
        method: str,
        path: str,
        body: bytes = b"",
        *,
        sign: bool = True,
        chunk_size: int | None = None,
        extra: dict[str, str] | None = None,
    ) -> RawResponse:
        headers = self.signed(method, path, body) if sign else {"host": self.host}
        request = wire_request(
            method, path, {**headers, **(extra or {})}, body, chunk_size=chunk_size
        )
        TALLY["sent"] += 1
        return raw_exchange(self.server.port, request)

    def http(self) -> httpx.Client:
        return client(self.server, self.merchant)


@pytest.fixture(scope="module")
def target(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Target]:
    root = tmp_path_factory.mktemp("hostile")
    with database(root) as settings:
        env = environment(**settings)
        merchant = register_merchant(env, "hostile_a", root / "bundles")
        server = start_server(root / "server.log", env)
        try:
            yield Target(server, merchant, root)
        finally:
            report("hostile input", requests_sent=TALLY["sent"], server_rss_kib=server.rss_kib())
            server.stop()


@pytest.fixture(autouse=True)
def still_serving(target: Target) -> Iterator[None]:
    """After every test the server is alive and answers a signed request."""
    yield
    assert target.server.alive(), target.server.errors_logged()
    with target.http() as http:
        assert http.post(CUSTOMERS, json={}).status_code == 201


def assert_envelope(response: RawResponse, status: int, error_type: str) -> dict[str, object]:
    assert response.status == status, (response.status, response.body[:300])
    assert response.headers["content-type"].startswith("application/json")
    assert response.headers.get("v-c-correlation-id")
    error: dict[str, object] = response.json()["errors"][0]
    assert error["type"] == error_type, error
    assert error["message"]
    return error


def assert_too_large(response: RawResponse) -> None:
    error = assert_envelope(response, 400, "invalidFields")
    assert f"limit of {LIMIT} bytes" in str(error["message"])
    assert error["details"] == [{"name": "body", "location": "body"}]


def padded_body(size: int) -> bytes:
    """A JSON object of exactly ``size`` bytes (an unknown field, ignored)."""
    head = b'{"buyerInformation":{"merchantCustomerID":"big"},"filler":"'
    return head + b"x" * (size - len(head) - 2) + b'"}'


# Bodies over the limit ----------------------------------------------------------------------------


@pytest.mark.parametrize("size", [LIMIT + 1, 1_000_000, 8_000_000])
@pytest.mark.parametrize("sign", [True, False], ids=["signed", "unsigned"])
def test_a_body_over_the_limit_with_content_length(target: Target, size: int, sign: bool) -> None:
    assert_too_large(target.exchange("POST", CUSTOMERS, padded_body(size), sign=sign))


@pytest.mark.parametrize("size", [LIMIT + 1, 1_000_000])
@pytest.mark.parametrize("chunk_size", [1_024, 60_000])
def test_a_chunked_body_over_the_limit(target: Target, size: int, chunk_size: int) -> None:
    body = padded_body(size)
    assert_too_large(target.exchange("POST", CUSTOMERS, body, chunk_size=chunk_size))


@pytest.mark.parametrize("chunk_size", [None, 4_096])
def test_a_body_of_exactly_the_limit_is_read(target: Target, chunk_size: int | None) -> None:
    response = target.exchange("POST", CUSTOMERS, padded_body(LIMIT), chunk_size=chunk_size)
    assert response.status == 201, response.body[:300]


# Deep nesting -------------------------------------------------------------------------------------


def test_100k_levels_of_nesting(target: Target) -> None:
    """200 KB: refused by the size limit before any parsing."""
    body = b"[" * 100_000 + b"]" * 100_000
    assert_too_large(target.exchange("POST", CUSTOMERS, body))


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(b"[" * 32_000 + b"]" * 32_000, id="arrays-32k"),
        pytest.param(
            b'{"buyerInformation":' + b'{"a":' * 10_000 + b"1" + b"}" * 10_001, id="objects-10k"
        ),
        pytest.param(
            b'{"card":{"number":' + b"[" * 30_000 + b"]" * 30_000 + b"}}", id="in-a-field-30k"
        ),
    ],
)
def test_deep_nesting_within_the_limit_is_a_400(target: Target, body: bytes) -> None:
    assert len(body) <= LIMIT
    for path in (CUSTOMERS, II):
        error = assert_envelope(target.exchange("POST", path, body), 400, "invalidFields")
        assert error["details"] == [{"name": "body", "location": "body"}]


# Invalid UTF-8 ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(b'{"buyerInformation":{"merchantCustomerID":"\xff\xfe"}}', id="in-a-value"),
        pytest.param(b'{"buyerInformation\xc3":{"merchantCustomerID":"a"}}', id="in-a-key"),
        pytest.param(b'{"buyerInformation":{"merchantCustomerID":"\xc0\xaf"}}', id="overlong"),
        pytest.param(b'{"buyerInformation":{"merchantCustomerID":"\xed\xa0\x80"}}', id="surrogate"),
        pytest.param(b'{"buyerInformation":{"merchantCustomerID":"\\ud800"}}', id="lone-escape"),
        pytest.param(b"\xef\xbb\xbf{}", id="bom"),
    ],
)
def test_invalid_utf8_in_the_body_is_a_400(target: Target, body: bytes) -> None:
    assert_envelope(target.exchange("POST", CUSTOMERS, body), 400, "invalidFields")


def test_invalid_utf8_in_the_path_query_and_headers(target: Target) -> None:
    # Percent-encoded: reaches opentms, which finds no such token.
    response = target.exchange("GET", f"{CUSTOMERS}/%FF%FE")
    assert_envelope(response, 404, "notFound")
    response = target.exchange("GET", f"{CUSTOMERS}/abc/payment-instruments?limit=%FF")
    assert_envelope(response, 400, "invalidFields")
    # Raw bytes in the request line: refused by the HTTP parser.
    raw = b"GET /tms/v2/customers/\xff\xfe HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    TALLY["sent"] += 1
    assert raw_exchange(target.server.port, raw).status == 400
    # In a header value that is not signed: ignored.
    headers = target.signed("GET", CUSTOMERS + "/abc")
    request = wire_request("GET", CUSTOMERS + "/abc", headers).replace(
        b"Connection: close", b"Connection: close\r\nx-note: \xff\xfe\xc0"
    )
    TALLY["sent"] += 1
    assert_envelope(raw_exchange(target.server.port, request), 404, "notFound")


@pytest.mark.parametrize(
    "path",
    [
        f"{CUSTOMERS}/%00",
        f"{CUSTOMERS}/abc%00def/payment-instruments",
        f"{II}/%00123",
        "/tms/v1/paymentinstruments/a%00b",
        "/tms/v2/tokenized-cards/%00",
    ],
)
def test_a_nul_byte_in_an_id_is_a_404(target: Target, path: str) -> None:
    """Ids are looked up as given; a NUL (which PostgreSQL text cannot hold)
    names no token."""
    assert_envelope(target.exchange("GET", path), 404, "notFound")


# Huge numbers -------------------------------------------------------------------------------------

HUGE = {
    "1e400": b"1e400",
    "-1e400": b"-1e400",
    "10**5000": b"1" + b"0" * 5000,
    "2**64": b"18446744073709551616",
    "1e308": b"1e308",
}


def huge_bodies(number: bytes, pan: str) -> dict[str, tuple[str, bytes]]:
    """Bodies with ``number`` where a string or a small number belongs: name → (path, body)."""
    return {
        "customer id": (
            CUSTOMERS,
            b'{"buyerInformation":{"merchantCustomerID":%s}}' % number,
        ),
        "expiry month": (
            II,
            b'{"card":{"number":"%s","expirationMonth":%s,"expirationYear":"2031"}}'
            % (pan.encode(), number),
        ),
        "authorisation amount": (
            SIMULATIONS,
            b'{"tokenNumber":"4895370000000000","expirationMonth":"12","expirationYear":"2031",'
            b'"cryptogram":"AAAA","amount":%s,"currency":"USD"}' % number,
        ),
    }


@pytest.mark.parametrize("name", list(HUGE))
def test_huge_numbers_in_fields_are_a_400(target: Target, name: str) -> None:
    with target.http() as http:
        ii = http.post(II, json={"card": {"number": make_pan()}}).json()
    bodies = huge_bodies(HUGE[name], make_pan())
    bodies["credentials amount"] = (
        credentials_path(ii["id"]),
        b'{"orderInformation":{"amountDetails":{"totalAmount":%s,"currency":"USD"}}}' % HUGE[name],
    )
    for field, (path, body) in bodies.items():
        response = target.exchange("POST", path, body)
        assert response.status == 400, (field, response.status, response.body[:300])
        assert_envelope(response, 400, "invalidFields")


@pytest.mark.parametrize("name", ["limit", "offset"])
@pytest.mark.parametrize("digits", [20, 4_300, 5_000])
def test_huge_numbers_in_the_query_are_a_400(target: Target, name: str, digits: int) -> None:
    with target.http() as http:
        customer = http.post(CUSTOMERS, json={}).json()["id"]
    path = f"{CUSTOMERS}/{customer}/payment-instruments?{name}={'9' * digits}"
    assert_envelope(target.exchange("GET", path), 400, "invalidFields")


def test_a_huge_content_length_is_a_400(target: Target) -> None:
    for length in (b"9" * 30, b"9" * 5000, b"-1"):
        request = (
            b"POST /tms/v2/customers HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
            b"Content-Length: " + length + b"\r\n\r\n{}"
        )
        TALLY["sent"] += 1
        assert raw_exchange(target.server.port, request).status == 400


@pytest.mark.parametrize(
    "exp", [pytest.param(253_402_300_800, id="year-10000"), 10**30, 1e308], ids=str
)
def test_a_jwt_with_a_huge_exp_is_not_a_server_error(target: Target, exp: float) -> None:
    """A JWT signed with the merchant's own key whose exp is absurdly far:
    accepted or refused (401), never a 5xx."""
    claims = jwt_claims(target.merchant.id, target.host, "POST", CUSTOMERS, b"{}", exp=exp)
    header = {"alg": "RS256", "kid": target.merchant.jwt_kid, "typ": "JWT"}
    token = encode_jwt(header, claims, key=target.merchant.jwt_key)
    headers = {"host": target.host, "authorization": f"Bearer {token}"}
    TALLY["sent"] += 1
    response = raw_exchange(target.server.port, wire_request("POST", CUSTOMERS, headers, b"{}"))
    assert response.status in (201, 401), (response.status, response.body[:300])


# Header floods ------------------------------------------------------------------------------------


def test_an_unsigned_100kb_header_is_refused(target: Target) -> None:
    response = target.exchange(
        "GET", CUSTOMERS + "/abc", sign=False, extra={"x-big": "a" * 100_000}
    )
    assert 400 <= response.status < 500


@pytest.mark.parametrize(
    "extra",
    [
        pytest.param({"x-big": "a" * 100_000}, id="one-100kb-header"),
        pytest.param({f"x-flood-{i}": "v" * 8 for i in range(2_000)}, id="2000-headers"),
        pytest.param({"x-big": "a" * 1_000_000}, id="one-1mb-header"),
    ],
)
def test_a_header_flood_is_a_431_or_400(target: Target, extra: dict[str, str]) -> None:
    """Even when correctly signed: headers beyond 16 KiB in all are refused
    (h11's own limit, and that of common proxies; h11 applies it only to what
    is still incomplete after a socket read, httptools has none)."""
    with target.http() as http:
        customer = http.post(CUSTOMERS, json={}).json()["id"]
    response = target.exchange("GET", f"{CUSTOMERS}/{customer}", extra=extra)
    assert response.status in (400, 431), (response.status, response.body[:200])


# Slow clients -------------------------------------------------------------------------------------


def open_slow_connections(port: int, count: int) -> list[socket.socket]:
    sockets = []
    for _ in range(count):
        slow = socket.create_connection(("127.0.0.1", port), timeout=10)
        slow.sendall(b"G")
        sockets.append(slow)
    return sockets


def trickle(sockets: list[socket.socket], stop: threading.Event, interval: float) -> None:
    """Send the request line and headers of each connection one byte at a time."""
    text = b"ET /healthz HTTP/1.1\r\nHost: x\r\n" + b"X-Slow: " + b"s" * 10_000
    position = 0
    while not stop.is_set() and position < len(text):
        for slow in sockets:
            with contextlib.suppress(OSError):
                slow.send(text[position : position + 1])
        position += 1
        stop.wait(interval)


def still_open(sockets: list[socket.socket]) -> int:
    """How many of ``sockets`` the server has not closed."""
    count = 0
    for slow in sockets:
        slow.setblocking(False)
        try:
            count += slow.recv(1) != b""
        except BlockingIOError:
            count += 1
        except OSError:
            pass
    return count


def normal_requests(target: Target, count: int, timeout: float) -> list[float]:
    """Latencies of ``count`` signed creates, each on a new connection."""
    latencies = []
    for _ in range(count):
        started = time.perf_counter()
        with httpx.Client(
            base_url=target.server.url, auth=target.merchant.signature_auth(), timeout=timeout
        ) as http:
            assert http.post(CUSTOMERS, json={}).status_code == 201
        latencies.append(time.perf_counter() - started)
    return latencies


def test_slow_clients_do_not_starve_others(target: Target) -> None:
    """A slowloris: many connections sending their headers a byte at a time,
    while normal clients keep being served quickly."""
    before = target.server.open_fds()
    sockets = open_slow_connections(target.server.port, SLOW_CONNECTIONS)
    stop = threading.Event()
    slowloris = threading.Thread(target=trickle, args=(sockets, stop, 0.05), daemon=True)
    slowloris.start()
    try:
        time.sleep(1.0)
        during = target.server.open_fds()
        latencies = normal_requests(target, 30, timeout=10.0)
        time.sleep(1.0)
        held = still_open(sockets)
    finally:
        stop.set()
        slowloris.join(timeout=10)
        for slow in sockets:
            slow.close()
    report(
        "slow clients",
        connections=SLOW_CONNECTIONS,
        server_fds_before=before,
        server_fds_during=during,
        still_open_after_seconds=held,
        normal_requests=len(latencies),
        normal_max_latency_ms=round(max(latencies) * 1000, 1),
    )
    assert max(latencies) < NORMAL_LATENCY_BOUND


def limit_open_files() -> None:
    resource.setrlimit(resource.RLIMIT_NOFILE, (256, 256))


@pytest.mark.skipif(postgresql_backend(), reason="HTTP layer only; it ran in the SQLite pass")
def test_slow_clients_beyond_the_open_file_limit(tmp_path: Path) -> None:
    """A server limited to 256 open files (many hosts default to 1,024) and
    300 slow connections that never finish their headers: the server must shed
    them (a header timeout) so that a normal client is served within 15 s, and
    must not flood its log meanwhile."""
    env = environment(data_dir=str(tmp_path / "data"))
    merchant = register_merchant(env, "fd_limited", tmp_path / "bundles")
    port = free_port()
    log_file = tmp_path / "server.log"
    with log_file.open("wb") as log:
        process = subprocess.Popen(
            [str(opentms_executable()), "serve", f"--port={port}"],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
            preexec_fn=limit_open_files,
        )
    server = Server(process, port, log_file, env)
    sockets: list[socket.socket] = []
    stop = threading.Event()
    try:
        deadline = time.monotonic() + 30
        while not server.healthy():
            assert server.alive(), log_file.read_text()[-2000:]
            assert time.monotonic() < deadline, "the server did not start"
            time.sleep(0.05)
        sockets = open_slow_connections(port, 300)
        slowloris = threading.Thread(target=trickle, args=(sockets, stop, 0.5), daemon=True)
        slowloris.start()
        log_before = log_file.stat().st_size
        started = time.monotonic()
        served_after = None
        while time.monotonic() - started < 15:
            try:
                with client(server, merchant) as http:
                    http.timeout = httpx.Timeout(3.0)
                    if http.get(f"{CUSTOMERS}/none").status_code == 404:
                        served_after = time.monotonic() - started
                        break
            except httpx.TransportError:
                pass
        log_growth = log_file.stat().st_size - log_before
    finally:
        stop.set()
        for slow in sockets:
            slow.close()
        server.stop()
    report(
        "slow clients beyond the open-file limit",
        connections=300,
        open_file_limit=256,
        normal_request_served_after_s=served_after,
        log_growth_bytes=log_growth,
    )
    assert served_after is not None, "no normal request was served within 15 s"
    assert log_growth < 1_000_000, f"the server wrote {log_growth} bytes of log in 15 s"


# Clients that vanish ------------------------------------------------------------------------------


def test_a_client_that_disconnects_mid_body_is_not_a_server_error(target: Target) -> None:
    """The client promises 1,000 bytes, sends 10 and hangs up: nothing to
    answer, and nothing for the operator's error log."""
    before = target.server.log_file.read_text(errors="replace").count(" ERROR ")
    for _ in range(3):
        headers = target.signed("POST", CUSTOMERS, b"x" * 1000)
        request = wire_request("POST", CUSTOMERS, headers, b"x" * 1000)
        with socket.create_connection(("127.0.0.1", target.server.port)) as half:
            half.sendall(request[: len(request) - 990])
        TALLY["sent"] += 1
    time.sleep(0.5)
    log = target.server.log_file.read_text(errors="replace")
    errors = log.count(" ERROR ") - before
    assert errors == 0, target.server.errors_logged(limit=4)


# Memory -------------------------------------------------------------------------------------------


def abuse_round(target: Target) -> None:
    target.exchange("POST", CUSTOMERS, padded_body(1_000_000))
    target.exchange("POST", CUSTOMERS, padded_body(200_000), chunk_size=8_192)
    target.exchange("POST", CUSTOMERS, b"[" * 32_000 + b"]" * 32_000)
    target.exchange("POST", CUSTOMERS, b'{"buyerInformation":{"merchantCustomerID":"\xff"}}')
    target.exchange("POST", CUSTOMERS, b'{"x":' + b"9" * 5000 + b"}")
    target.exchange("GET", CUSTOMERS + "/abc", sign=False, extra={"x-big": "a" * 100_000})


def test_memory_stays_bounded_under_abuse(target: Target) -> None:
    abuse_round(target)
    warmed = target.server.rss_kib()
    rounds = 40
    for _ in range(rounds):
        abuse_round(target)
    after = target.server.rss_kib()
    report(
        "memory under abuse",
        rounds=rounds,
        requests=rounds * 6,
        rss_warm_kib=warmed,
        rss_after_kib=after,
        growth_kib=after - warmed,
        bound_kib=RSS_BOUND_KIB,
    )
    assert after - warmed <= RSS_BOUND_KIB


def test_memory_is_bounded_while_clients_hold_huge_unfinished_headers(target: Target) -> None:
    """Four clients each send 16 MB of one header and never finish it: the
    server must refuse them early, not buffer what they send."""
    head = b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: "
    before = target.server.rss_kib()
    holders = []
    try:
        for _ in range(4):
            holder = socket.create_connection(("127.0.0.1", target.server.port), timeout=30)
            with contextlib.suppress(OSError):
                holder.sendall(head + b"a" * 16_000_000)
            holders.append(holder)
            TALLY["sent"] += 1
        time.sleep(1.0)
        held = target.server.rss_kib()
    finally:
        for holder in holders:
            holder.close()
    report(
        "unfinished huge headers", clients=4, bytes_each=16_000_000, rss_growth_kib=held - before
    )
    assert held - before <= RSS_BOUND_KIB, f"RSS grew by {held - before} KiB"
