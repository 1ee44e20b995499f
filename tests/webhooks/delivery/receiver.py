"""A real HTTP receiver for the delivery tests: a threaded ``http.server`` on
127.0.0.1 that records every request and answers as told (a status, a body,
a redirect, or nothing for a while), and can go down and come back on the
same port."""

from __future__ import annotations

import ssl
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import orjson


@dataclass(frozen=True)
class Received:
    method: str
    path: str
    headers: dict[str, str]  # names in lower case
    body: bytes
    at: float = field(default_factory=time.monotonic)

    def json(self) -> Any:
        return orjson.loads(self.body)


@dataclass
class Answer:
    """What the receiver answers to one method: ``status`` with ``body`` and
    ``headers``; ``hang`` seconds of silence first (cut short by
    :meth:`Receiver.release`)."""

    status: int = 200
    body: bytes = b'{"ok":true}'
    headers: dict[str, str] = field(default_factory=dict)
    hang: float = 0.0


class Receiver:
    """Start it with :func:`receiver`. ``post`` and ``get`` are the answers to
    each method; ``requests`` what came, in order."""

    def __init__(self, tls: ssl.SSLContext | None = None) -> None:
        self.tls = tls
        self.post = Answer()
        self.get = Answer()
        self.requests: list[Received] = []
        self.broken = 0  # requests cut off before their body ended
        self._lock = threading.Condition()
        self._release = threading.Event()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    @property
    def health_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/health"

    def up(self) -> None:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                receiver._handle(self, receiver.post)

            def do_GET(self) -> None:
                receiver._handle(self, receiver.get)

            def log_message(self, *_: Any) -> None:
                pass

        server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        server.daemon_threads = True
        if self.tls is not None:
            server.socket = self.tls.wrap_socket(server.socket, server_side=True)
        self.port = server.server_address[1]
        self._server = server
        self._release.clear()
        self._thread = threading.Thread(target=server.serve_forever, daemon=True)
        self._thread.start()

    def down(self) -> None:
        """Stop listening (connections are refused) until :meth:`up`."""
        self.release()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def release(self) -> None:
        """End every hang under way and to come."""
        self._release.set()

    def received(self, method: str = "POST") -> list[Received]:
        with self._lock:
            return [r for r in self.requests if r.method == method]

    def wait_for(self, count: int, method: str = "POST", timeout: float = 20.0) -> list[Received]:
        """The first ``count`` requests of ``method``, once they have come."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while True:
                got = [r for r in self.requests if r.method == method]
                if len(got) >= count:
                    return got
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"{len(got)} {method} requests came, not {count}")
                self._lock.wait(left)

    def _handle(self, handler: BaseHTTPRequestHandler, answer: Answer) -> None:
        length = int(handler.headers.get("content-length") or 0)
        body = handler.rfile.read(length) if length else b""
        if len(body) < length:  # cut off (a killed sender): no request
            with self._lock:
                self.broken += 1
            return
        received = Received(
            handler.command,
            handler.path,
            {k.lower(): v for k, v in handler.headers.items()},
            body,
        )
        with self._lock:
            self.requests.append(received)
            self._lock.notify_all()
        if answer.hang:
            self._release.wait(answer.hang)
        try:
            handler.send_response(answer.status)
            for name, value in answer.headers.items():
                handler.send_header(name, value)
            handler.send_header("Content-Length", str(len(answer.body)))
            handler.end_headers()
            handler.wfile.write(answer.body)
        except OSError:
            pass  # the caller gave up (a read timeout, a killed server)


@contextmanager
def receiver(tls: ssl.SSLContext | None = None) -> Iterator[Receiver]:
    """A receiver, up (over TLS with ``tls``, a server context), down after."""
    started = Receiver(tls)
    started.up()
    try:
        yield started
    finally:
        started.down()
