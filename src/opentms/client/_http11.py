"""``HTTP11Transport``: the synchronous client's default transport, a small
HTTP/1.1 client on plain sockets with keep-alive and TLS.

Why not httpcore: a TMS call is one small request and one small answer, and on
that path httpcore + h11 cost several times the CPU of everything else the
client does (see bench/README.md). This transport does only what TMS needs:
``Content-Length`` or chunked bodies, keep-alive connections reused after a
liveness check, TLS through an ``ssl.SSLContext``, and connect/read/write
timeouts from the request's ``timeout`` extension. It raises httpx's
exceptions, so the client treats it like any ``httpx.BaseTransport``; pass
``transport=httpx.HTTPTransport(...)`` for anything else (proxies, HTTP/2).
"""

from __future__ import annotations

import contextlib
import select
import socket
import ssl
import threading
import time
from collections import deque
from typing import Any

import httpx

__all__ = ["HTTP11Transport", "Reply"]

_MAX_HEAD = 64 * 1024
_CHUNK = 64 * 1024
_NO_BODY_STATUS = frozenset({204, 304})
Key = tuple[str, str, int]
Timeouts = tuple[float | None, float | None, float | None]


class _Closed(Exception):
    """The peer closed the connection."""


class _Connection:
    """One socket, its unread bytes, and when it went back to the pool."""

    __slots__ = ("buffer", "idle_since", "sock")

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.buffer = bytearray()
        self.idle_since = 0.0

    def fill(self) -> None:
        data = self.sock.recv(_CHUNK)
        if not data:
            raise _Closed()
        self.buffer += data

    def read_until(self, marker: bytes, limit: int) -> bytes:
        start = 0
        while True:
            index = self.buffer.find(marker, start)
            if index >= 0:
                found = bytes(self.buffer[:index])
                del self.buffer[: index + len(marker)]
                return found
            if len(self.buffer) > limit:
                raise httpx.RemoteProtocolError("The response head is too large.")
            start = max(0, len(self.buffer) - len(marker) + 1)
            self.fill()

    def read_exactly(self, size: int) -> bytes:
        while len(self.buffer) < size:
            self.fill()
        data = bytes(self.buffer[:size])
        del self.buffer[:size]
        return data

    def read_to_close(self) -> bytes:
        try:
            while True:
                self.fill()
        except _Closed:
            data = bytes(self.buffer)
            self.buffer.clear()
            return data

    def is_reusable(self, now: float, expiry: float) -> bool:
        """Idle for less than ``expiry`` and not readable: a readable idle
        socket means the server closed it (or sent something unasked)."""
        if self.buffer or now - self.idle_since > expiry:
            return False
        try:
            if hasattr(select, "poll"):  # select() fails on descriptors above 1023
                poller = select.poll()
                poller.register(self.sock, select.POLLIN)
                return not poller.poll(0)
            readable, _, _ = select.select([self.sock], [], [], 0)
        except (OSError, ValueError):
            return False
        return not readable

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.sock.close()


class Reply:
    """A response as ``HTTP11Transport.exchange`` read it, before any httpx
    object is made: ``status_code``, ``reason_phrase``, ``headers`` (lower-case
    names), ``content``. ``to_httpx`` makes the ``httpx.Response``."""

    __slots__ = ("_headers", "content", "raw_headers", "reason", "status_code")

    def __init__(
        self,
        status_code: int,
        reason: bytes,
        raw_headers: list[tuple[bytes, bytes]],
        content: bytes,
    ) -> None:
        self.status_code = status_code
        self.reason = reason
        self.raw_headers = raw_headers
        self.content = content
        self._headers: dict[str, str] | None = None

    @property
    def headers(self) -> dict[str, str]:
        if self._headers is None:
            headers: dict[str, str] = {}
            for raw_name, raw_value in self.raw_headers:
                name, value = raw_name.decode("latin-1").lower(), raw_value.decode("latin-1")
                headers[name] = f"{headers[name]}, {value}" if name in headers else value
            self._headers = headers
        return self._headers

    @property
    def reason_phrase(self) -> str:
        return self.reason.decode("latin-1")

    def to_httpx(self, request: httpx.Request | None = None) -> httpx.Response:
        return httpx.Response(
            self.status_code,
            headers=self.raw_headers,
            content=self.content,
            request=request,
            extensions={"http_version": b"HTTP/1.1", "reason_phrase": self.reason},
        )


def _timeouts(request: httpx.Request) -> Timeouts:
    timeout: dict[str, Any] = request.extensions.get("timeout", {})
    return timeout.get("connect"), timeout.get("read"), timeout.get("write")


def request_head(method: str, target: bytes, headers: list[tuple[bytes, bytes]]) -> bytes:
    """``METHOD target HTTP/1.1``, the header lines and the blank line."""
    parts = [method.encode("ascii"), b" ", target, b" HTTP/1.1\r\n"]
    for name, value in headers:
        parts += [name, b": ", value, b"\r\n"]
    parts.append(b"\r\n")
    head = b"".join(parts)
    check_head(head, len(headers))
    return head


def check_head(head: bytes, fields: int) -> None:
    """Refuse a request head whose parts hold line breaks or spaces where
    they cannot be. Security: a CR or LF in a header value (a profile id, an
    ``if_match``) or in the target would let a caller inject headers or a
    second request."""
    if head.count(b"\n") != fields + 2 or head.count(b"\r") != fields + 2 or b"\0" in head:
        raise httpx.LocalProtocolError("A header or the request target contains CR, LF or NUL.")
    if head[: head.index(b"\r")].count(b" ") != 2:
        raise httpx.LocalProtocolError("The request target contains a space.")


def _parse_head(head: bytes) -> tuple[int, bytes, list[tuple[bytes, bytes]]]:
    lines = head.split(b"\r\n")
    parts = lines[0].split(b" ", 2)
    if len(parts) < 2 or not parts[0].startswith(b"HTTP/1.") or not parts[1].isdigit():
        raise httpx.RemoteProtocolError("The response does not start with an HTTP/1.x status line.")
    headers = []
    for line in lines[1:]:
        name, colon, value = line.partition(b":")
        if not colon or not name or name != name.strip():
            raise httpx.RemoteProtocolError("A response header line is malformed.")
        headers.append((name, value.strip()))
    return int(parts[1]), parts[2] if len(parts) > 2 else b"", headers


class HTTP11Transport(httpx.BaseTransport):
    """An ``httpx.BaseTransport`` speaking HTTP/1.1 over keep-alive sockets.

    **Parameters:**

    * **verify** - an ``ssl.SSLContext``, ``True`` (httpx's default CAs) or ``False``.
    * **max_keepalive_connections** - idle connections kept per transport.
    * **keepalive_expiry** - seconds an idle connection may be reused for.
    """

    def __init__(
        self,
        *,
        verify: ssl.SSLContext | bool = True,
        max_keepalive_connections: int = 20,
        keepalive_expiry: float = 5.0,
    ) -> None:
        self._verify = verify
        self._ssl_context: ssl.SSLContext | None = (
            verify if isinstance(verify, ssl.SSLContext) else None
        )
        self._max_idle = max_keepalive_connections
        self._expiry = keepalive_expiry
        self._idle: dict[Key, deque[_Connection]] = {}
        self._lock = threading.Lock()
        self._closed = False

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        url = request.url
        if url.scheme not in ("http", "https"):
            message = f"Unsupported URL scheme {url.scheme!r}."
            raise httpx.UnsupportedProtocol(message, request=request)
        key = (url.scheme, url.host, url.port or (443 if url.scheme == "https" else 80))
        head = request_head(request.method, url.raw_path, request.headers.raw)
        try:
            reply = self.exchange(key, request.method, head + request.read(), _timeouts(request))
        except httpx.TransportError as exc:
            exc.request = request
            raise
        return reply.to_httpx(request)

    def exchange(self, key: Key, method: str, payload: bytes, timeouts: Timeouts) -> Reply:
        """Send ``payload`` (request head and body) to ``key`` (scheme, host,
        port) on a pooled connection, and read the answer. Raises httpx's
        exceptions (without ``request``)."""
        connect_timeout, read_timeout, write_timeout = timeouts
        connection = self._acquire(key) or self._connect(key, connect_timeout)
        try:
            self._send(connection, payload, write_timeout)
            status, reason, headers, body, keep_alive = self._receive(
                connection, method, read_timeout
            )
        except BaseException:
            connection.close()
            raise
        if keep_alive:
            self._release(key, connection)
        else:
            connection.close()
        return Reply(status, reason, headers, body)

    def close(self) -> None:
        with self._lock:
            self._closed = True
            idle, self._idle = self._idle, {}
        for connections in idle.values():
            for connection in connections:
                connection.close()

    # Connections ------------------------------------------------------------

    def _acquire(self, key: Key) -> _Connection | None:
        now = time.monotonic()
        while True:
            with self._lock:
                connections = self._idle.get(key)
                connection = connections.pop() if connections else None
            if connection is None:
                return None
            if connection.is_reusable(now, self._expiry):
                return connection
            connection.close()

    def _release(self, key: Key, connection: _Connection) -> None:
        connection.idle_since = time.monotonic()
        with self._lock:
            if not self._closed:
                connections = self._idle.setdefault(key, deque())
                if len(connections) < self._max_idle:
                    connections.append(connection)
                    return
        connection.close()

    def _connect(self, key: Key, timeout: float | None) -> _Connection:
        scheme, host, port = key
        try:
            sock = socket.create_connection((host, port), timeout=timeout)
        except TimeoutError as exc:
            raise httpx.ConnectTimeout(str(exc) or "connect timed out") from exc
        except OSError as exc:
            raise httpx.ConnectError(str(exc)) from exc
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if scheme == "https":
                sock = self._tls_context().wrap_socket(sock, server_hostname=host)
        except TimeoutError as exc:
            sock.close()
            raise httpx.ConnectTimeout(str(exc) or "TLS handshake timed out") from exc
        except (OSError, ssl.SSLError) as exc:
            sock.close()
            raise httpx.ConnectError(str(exc)) from exc
        return _Connection(sock)

    def _tls_context(self) -> ssl.SSLContext:
        if self._ssl_context is None:
            context = httpx.create_ssl_context(verify=bool(self._verify))
            context.set_alpn_protocols(["http/1.1"])
            self._ssl_context = context
        return self._ssl_context

    # One exchange -----------------------------------------------------------

    @staticmethod
    def _send(connection: _Connection, payload: bytes, timeout: float | None) -> None:
        try:
            connection.sock.settimeout(timeout)
            connection.sock.sendall(payload)
        except TimeoutError as exc:
            raise httpx.WriteTimeout(str(exc) or "write timed out") from exc
        except OSError as exc:
            raise httpx.WriteError(str(exc)) from exc

    def _receive(
        self, connection: _Connection, method: str, timeout: float | None
    ) -> tuple[int, bytes, list[tuple[bytes, bytes]], bytes, bool]:
        received = False
        try:
            connection.sock.settimeout(timeout)
            while True:
                head = connection.read_until(b"\r\n\r\n", _MAX_HEAD)
                received = True
                status, reason, headers = _parse_head(head)
                if not 100 <= status < 200 or status == 101:
                    break
            body, keep_alive = self._body(connection, method, status, headers)
        except TimeoutError as exc:
            raise httpx.ReadTimeout(str(exc) or "read timed out") from exc
        except _Closed:
            message = (
                "The server closed the connection in the middle of the response."
                if received
                else "Server disconnected without sending a response."
            )
            raise httpx.RemoteProtocolError(message) from None
        except OSError as exc:
            raise httpx.ReadError(str(exc)) from exc
        return status, reason, headers, body, keep_alive

    @staticmethod
    def _body(
        connection: _Connection,
        method: str,
        status: int,
        headers: list[tuple[bytes, bytes]],
    ) -> tuple[bytes, bool]:
        length: int | None = None
        chunked = False
        keep_alive = True
        for name, value in headers:
            lowered = name.lower()
            if lowered == b"content-length":
                if not value.isdigit():
                    raise httpx.RemoteProtocolError("Content-Length is not a number.")
                length = int(value)
            elif lowered == b"transfer-encoding":
                chunked = value.lower().endswith(b"chunked")
            elif lowered == b"connection" and b"close" in value.lower():
                keep_alive = False
        if method == "HEAD" or status in _NO_BODY_STATUS:
            return b"", keep_alive
        if chunked:
            return _read_chunked(connection), keep_alive
        if length is not None:
            return connection.read_exactly(length), keep_alive
        return connection.read_to_close(), False


def _read_chunked(connection: _Connection) -> bytes:
    parts: list[bytes] = []
    while True:
        line = connection.read_until(b"\r\n", 1024)
        size_text = line.split(b";", 1)[0].strip()
        try:
            size = int(size_text, 16)
        except ValueError:
            raise httpx.RemoteProtocolError("A chunk size is malformed.") from None
        if size == 0:
            while connection.read_until(b"\r\n", _MAX_HEAD):  # trailers
                pass
            return b"".join(parts)
        parts.append(connection.read_exactly(size))
        if connection.read_exactly(2) != b"\r\n":
            raise httpx.RemoteProtocolError("A chunk does not end with CRLF.")
