"""uvicorn's httptools protocol with the limits a public server needs.

uvicorn with httptools sets no limit on the size or number of request headers,
no deadline for receiving a request's head or body, and no bound on the
connections a process holds: a client could hold memory or a connection
without end before authentication is even possible, and enough slow clients
could hold every connection the process can open. This protocol adds them.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import math
import socket
import struct
import time
from dataclasses import dataclass
from typing import Any, ClassVar, cast

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from opentms.adapters.http.pipeline import BODY_TIMED_OUT
from opentms.adapters.http.sandbox_requests import DROP_CONNECTION
from opentms.config import Settings
from opentms.domain.ports import ConnectionFault

MAX_HEAD_BYTES = 32 * 1024  # request line and headers
MAX_HEADERS = 100
HEAD_TIMEOUT_SECONDS = 10.0
RETRY_AFTER_SECONDS = 5  # told to clients refused beyond the connection bound
REFUSAL_LOG_INTERVAL_SECONDS = 10.0  # at most one warning per interval while refusing

BUSY = (
    b'{"type":"serverError","message":'
    b'"The server is at its limit of open connections; retry later."}'
)

log = logging.getLogger("opentms.http")


@dataclass(frozen=True)
class ConnectionLimits:
    body_timeout_seconds: float
    max_connections: int


@functools.cache
def connection_limits() -> ConnectionLimits:
    """The limits of this process, read once from its settings.

    uvicorn builds a protocol per connection from its own ``Config``, which has
    no room for them; like the app factory (``asgi.app``), each worker process
    reads them from the environment ``opentms serve`` passes on."""
    settings = Settings()
    return ConnectionLimits(settings.body_timeout_seconds, settings.max_connections)


class GuardedHttpToolsProtocol(HttpToolsProtocol):
    """Answers 431 to a request head over :data:`MAX_HEAD_BYTES` or with more
    than :data:`MAX_HEADERS` headers, and 408 (then closes) when a head takes
    longer than :data:`HEAD_TIMEOUT_SECONDS` to arrive or a body longer than
    ``OPENTMS_BODY_TIMEOUT_SECONDS`` (counted from the end of its head, for
    the whole body, not between its bytes). Beyond ``OPENTMS_MAX_CONNECTIONS``
    open connections a new one is answered 503 with ``Retry-After`` as soon as
    its head has arrived, then closed.

    Security: the bound is counted here rather than with uvicorn's
    ``limit_concurrency``. That one counts a refused connection as open until
    it closes (so refusals keep the count up while slots are free), counts
    tasks as well, answers a plain-text 503 without ``Retry-After`` and logs a
    warning per refusal (a flood of connections becomes a flood of log lines).
    Here a refused connection leaves uvicorn's set of connections at once, the
    answer is the TMS error envelope, and refusals are logged at most once per
    :data:`REFUSAL_LOG_INTERVAL_SECONDS`.
    """

    _last_refusal_logged: ClassVar[float] = -math.inf

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._limits = connection_limits()
        self._in_head = True
        self._head_bytes = 0
        self._header_count = 0
        self._parsed_head = 0
        self._refused = False  # a refused head: the parser's later callbacks are ignored
        self._over_bound = False  # beyond the connection bound: refused once its head is in
        self._head_timer: asyncio.TimerHandle | None = None
        self._body_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        if len(self.connections) > self._limits.max_connections:
            # Not one of the server's connections: it neither counts against
            # the bound nor is waited for at shutdown.
            self.connections.discard(self)
            self._over_bound = True
            self._log_refusal()
        self._expect_head()

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop_head_timer()
        self._stop_body_timer()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        # Counted after parsing: a read may carry the end of the head and the
        # start of the body; only what is still head counts against the limit.
        if self._in_head and not self.transport.is_closing():
            self._head_bytes += len(data)
            if self._head_bytes > MAX_HEAD_BYTES:
                self._refuse(431, b"Request Header Fields Too Large")

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._header_count = 0
        self._parsed_head = 0

    def on_url(self, url: bytes) -> None:
        self._parsed_head += len(url)
        if self._parsed_head > MAX_HEAD_BYTES:
            self._refuse(431, b"Request Header Fields Too Large")
            return
        super().on_url(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        # A whole head can arrive in one read; its parsed size counts too.
        self._header_count += 1
        self._parsed_head += len(name) + len(value)
        if self._header_count > MAX_HEADERS or self._parsed_head > MAX_HEAD_BYTES:
            self._refuse(431, b"Request Header Fields Too Large")
            return
        super().on_header(name, value)

    def on_headers_complete(self) -> None:
        if self._refused or self.transport.is_closing():
            return
        self._in_head = False
        self._stop_head_timer()
        if self._over_bound:
            retry_after = b"retry-after: %d\r\n" % RETRY_AFTER_SECONDS
            self._refuse(503, b"Service Unavailable", BUSY, retry_after)
            return
        previous = self.cycle
        super().on_headers_complete()
        if self.cycle is not previous:  # a request, not a protocol upgrade
            self._start_body_timer()
            # The sandbox's connection faults drop the connection through this.
            scope = cast(dict[str, Any], self.cycle.scope)
            scope.setdefault("extensions", {})[DROP_CONNECTION] = self._drop_connection

    def on_body(self, body: bytes) -> None:
        if self._refused:
            return
        super().on_body(body)

    def on_message_complete(self) -> None:
        self._stop_body_timer()
        if self._refused:
            return
        super().on_message_complete()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        self._expect_head()

    def _expect_head(self) -> None:
        self._in_head = True
        self._head_bytes = 0
        self._stop_head_timer()
        self._head_timer = self.loop.call_later(HEAD_TIMEOUT_SECONDS, self._head_timed_out)

    def _stop_head_timer(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_timed_out(self) -> None:
        self._head_timer = None
        if self._in_head and self._head_bytes and not self.transport.is_closing():
            self._refuse(408, b"Request Timeout")
        elif self._in_head and not self.transport.is_closing():
            self.transport.close()

    def _start_body_timer(self) -> None:
        """The deadline of the whole body: armed for every request (one
        without a body completes, and stops it, at once)."""
        self._stop_body_timer()
        timeout = self._limits.body_timeout_seconds
        self._body_timer = self.loop.call_later(timeout, self._body_timed_out)

    def _stop_body_timer(self) -> None:
        if self._body_timer is not None:
            self._body_timer.cancel()
            self._body_timer = None

    def _body_timed_out(self) -> None:
        self._body_timer = None
        if self.transport.is_closing():
            return
        if self.pipeline:
            # Queued behind an earlier request, with reading paused until that
            # one is answered: the wait is the server's, not the client's.
            self._start_body_timer()
            return
        if self.cycle.response_started:
            # The application answered without waiting for the whole body:
            # too late for a 408 on this connection.
            self.transport.close()
            return
        # The application's receive() now gives http.disconnect and its send()
        # writes nothing: the 408 below is the only answer (and the flag tells
        # the application's access line so).
        self.cycle.scope.setdefault("state", {})[BODY_TIMED_OUT] = True
        self.cycle.disconnected = True
        self.cycle.message_event.set()
        message = b"The request body did not arrive within %g seconds." % (
            self._limits.body_timeout_seconds
        )
        error = (
            b'{"type":"invalidFields","message":"%s",'
            b'"details":[{"name":"body","location":"body"}]}' % message
        )
        self._refuse(408, b"Request Timeout", error)

    def _drop_connection(self, how: ConnectionFault) -> None:
        """A sandbox fault: close the connection with no response, by a TCP
        RST (``SO_LINGER`` 0, then abort: the client reads ECONNRESET) or a
        plain close (the client reads end of stream). What the application
        sends afterwards goes nowhere."""
        if self.transport.is_closing():
            return
        self.cycle.disconnected = True
        if how == ConnectionFault.RESET:
            sock = self.transport.get_extra_info("socket")
            if sock is not None:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.transport.abort()
        else:
            self.transport.close()

    def _log_refusal(self) -> None:
        now = time.monotonic()
        cls = GuardedHttpToolsProtocol
        if now - cls._last_refusal_logged >= REFUSAL_LOG_INTERVAL_SECONDS:
            cls._last_refusal_logged = now
            log.warning(
                "refusing new connections: %d are open, the limit (OPENTMS_MAX_CONNECTIONS); "
                "this is logged at most every %g s",
                self._limits.max_connections,
                REFUSAL_LOG_INTERVAL_SECONDS,
            )

    def _refuse(
        self, status: int, reason: bytes, error: bytes | None = None, headers: bytes = b""
    ) -> None:
        """Answer ``status`` with the TMS error envelope (``error`` is its one
        error object; by default ``invalidHeaders``), then close."""
        self._refused = True
        if self.transport.is_closing():
            return
        error = error or b'{"type":"invalidHeaders","message":"' + reason + b'"}'
        body = b'{"errors":[' + error + b"]}"
        self.transport.write(
            b"HTTP/1.1 %d %s\r\ncontent-type: application/json;charset=utf-8\r\n"
            b"content-length: %d\r\n%sconnection: close\r\n\r\n"
            % (status, reason, len(body), headers)
            + body
        )
        self.transport.close()
