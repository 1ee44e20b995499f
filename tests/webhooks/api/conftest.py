"""Fixtures of the webhook API tests: a real HTTP receiver on 127.0.0.1 (a
thread running http.server) that records what it is sent, and the guard
that fails any test during which the app answered 500."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import orjson
import pytest

from tests.api.conftest import no_server_errors  # noqa: F401 - an autouse fixture

WEBHOOKS = "/notification-subscriptions/v2/webhooks"
WEBHOOKS_V1 = "/notification-subscriptions/v1/webhooks"


@dataclass
class Received:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    """What the receiver got, and the status it answers (settable)."""

    url: str
    status: int = 200
    requests: list[Received] = field(default_factory=list)

    def posts(self) -> list[Received]:
        return [r for r in self.requests if r.method == "POST"]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state = Receiver("")

    class Handler(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            body = self.rfile.read(length) if length else b""
            state.requests.append(
                Received(
                    self.command,
                    self.path,
                    {k.lower(): v for k, v in self.headers.items()},
                    body,
                )
            )
            self.send_response(state.status)
            self.send_header("content-length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        do_GET = _answer  # noqa: N815 - http.server's naming
        do_POST = _answer  # noqa: N815

        def log_message(self, format: str, *args: Any) -> None:  # noqa: ARG002
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_address[1]}/hook"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


@pytest.fixture
def dead_url() -> str:
    """A URL on which nothing listens (connection refused)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/hook"


def webhook_body(url: str, **extra: Any) -> dict[str, Any]:
    """A v2 create body for the token-management events."""
    return {
        "name": "tms hook",
        "description": "network token events",
        "products": [
            {
                "productId": "tokenManagement",
                "eventTypes": ["tms.networktoken.provisioned", "tms.networktoken.updated"],
            }
        ],
        "webhookUrl": url,
        "notificationScope": "SELF",
        "retryPolicy": {
            "algorithm": "ARITHMETIC",
            "firstRetry": 1,
            "interval": 1,
            "numberOfRetries": 3,
            "deactivateFlag": "false",
            "repeatSequenceCount": 0,
            "repeatSequenceWaitTime": 0,
        },
        "securityPolicy": {"securityType": "KEY"},
        **extra,
    }


def create_webhook(client: httpx.Client, url: str, **extra: Any) -> dict[str, Any]:
    answer = client.post(WEBHOOKS, json=webhook_body(url, **extra))
    assert answer.status_code == 201, answer.text
    created: dict[str, Any] = orjson.loads(answer.content)
    return created
