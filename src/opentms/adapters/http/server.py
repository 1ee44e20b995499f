"""uvicorn's httptools protocol with the limits a public server needs.

uvicorn with httptools sets no limit on the size or number of request headers
and no deadline for receiving them: a client could hold memory or a connection
without end before authentication is even possible. This protocol adds them.
"""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

MAX_HEAD_BYTES = 32 * 1024  # request line and headers
MAX_HEADERS = 100
HEAD_TIMEOUT_SECONDS = 10.0


class GuardedHttpToolsProtocol(HttpToolsProtocol):
    """Answers 431 to a request head over :data:`MAX_HEAD_BYTES` or with more
    than :data:`MAX_HEADERS` headers, and 408 (then closes) when a head takes
    longer than :data:`HEAD_TIMEOUT_SECONDS` to arrive."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._in_head = True
        self._head_bytes = 0
        self._header_count = 0
        self._parsed_head = 0
        self._refused = False  # a refused head: the parser's later callbacks are ignored
        self._head_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._expect_head()

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop_head_timer()
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
        super().on_headers_complete()

    def on_body(self, body: bytes) -> None:
        if self._refused:
            return
        super().on_body(body)

    def on_message_complete(self) -> None:
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

    def _refuse(self, status: int, reason: bytes) -> None:
        self._refused = True
        if self.transport.is_closing():
            return
        body = b'{"errors":[{"type":"invalidHeaders","message":"' + reason + b'"}]}'
        self.transport.write(
            b"HTTP/1.1 %d %s\r\ncontent-type: application/json;charset=utf-8\r\n"
            b"content-length: %d\r\nconnection: close\r\n\r\n" % (status, reason, len(body)) + body
        )
        self.transport.close()
