"""What sandbox mode does around every TMS request: read the shared state
once (the service clock's offset; a new generation drops cached merchants),
and record the request in the journal."""

from __future__ import annotations

import time
from datetime import UTC, datetime

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from opentms.adapters.http.admin import ADMIN_PREFIX
from opentms.adapters.http.pipeline import (
    AUTHENTICATED_MERCHANT,
    AUTHENTICATION_FAILURE,
    AUTHENTICATION_REFUSAL,
    CORRELATION_ID,
    REQUEST_BODY,
)
from opentms.domain.errors import AuthenticationFailed
from opentms.services.sandbox import SandboxControls
from opentms.services.sandbox.journal import Exchange, RequestJournal

# Paths that are not the TMS API: the admin API itself, health, the document.
_NOT_TMS = (ADMIN_PREFIX + "/", "/healthz", "/readyz", "/openapi.json")
# The most of a response body kept for the journal (which keeps less, masked).
MAX_CAPTURED_BYTES = 262_144


def is_tms_path(path: str) -> bool:
    return not (path.startswith(_NOT_TMS) or path == ADMIN_PREFIX)


class SandboxMiddleware:
    def __init__(self, app: ASGIApp, controls: SandboxControls) -> None:
        self.app = app
        self.controls = controls

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not is_tms_path(scope["path"]):
            await self.app(scope, receive, send)
            return
        token = self.controls.begin_request()
        try:
            if self.controls.journal.enabled:
                await JournalRecording(self.controls.journal, scope).run(self.app, receive, send)
            else:
                await self.app(scope, receive, send)
        finally:
            self.controls.end_request(token)


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope["headers"]:
        if key.lower() == name:
            return str(value.decode("latin-1"))
    return None


class JournalRecording:
    """One TMS request on its way through: what it answered, kept for the
    journal. The entry is written when the response's last part is about to
    leave: a client that reads the journal right after its answer (through
    any worker) finds it, and the write costs one insert. A request that ends
    without its last part (an error, a dropped connection) is recorded when it ends."""

    def __init__(self, journal: RequestJournal, scope: Scope) -> None:
        self.journal = journal
        self.scope = scope
        self.at = datetime.now(UTC)
        self.started = time.perf_counter()
        self.status = 0
        self.content_type: str | None = None
        self.chunks: list[bytes] = []
        self.captured = 0
        self.recorded = False

    async def run(self, app: ASGIApp, receive: Receive, send: Send) -> None:
        async def recording_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                self.status = message["status"]
                for name, value in message.get("headers", []):
                    if name.lower() == b"content-type":
                        self.content_type = value.decode("latin-1")
            elif message["type"] == "http.response.body":
                self._capture(message.get("body", b""))
                if not message.get("more_body", False):
                    self.record()
            await send(message)

        try:
            await app(self.scope, receive, recording_send)
        except Exception:
            # Starlette's outermost middleware answers it with a 500.
            self.status = self.status or 500
            raise
        finally:
            self.record()

    def _capture(self, body: bytes) -> None:
        room = MAX_CAPTURED_BYTES + 1 - self.captured
        if body and room > 0:
            self.chunks.append(body[:room])
            self.captured += min(len(body), room)

    def record(self) -> None:
        if not self.recorded:
            self.recorded = True
            self.journal.record(self._exchange)

    def _exchange(self) -> Exchange:
        scope = self.scope
        refusal = scope.get(AUTHENTICATION_REFUSAL)
        message = signed = None
        if isinstance(refusal, AuthenticationFailed):
            message, signed = str(refusal), refusal.signed
        correlation = scope.get(CORRELATION_ID, b"")
        return Exchange(
            at=self.at,
            method=scope["method"],
            path=scope["path"],
            query=scope.get("query_string", b"").decode("latin-1"),
            status=self.status,
            duration_ms=(time.perf_counter() - self.started) * 1000,
            correlation_id=correlation.decode("latin-1"),
            merchant_id=scope.get(AUTHENTICATED_MERCHANT),
            claimed_merchant_id=_header(scope, b"v-c-merchant-id"),
            failure=scope.get(AUTHENTICATION_FAILURE),
            message=message,
            signed=signed,
            request_body=scope.get(REQUEST_BODY),
            request_content_type=_header(scope, b"content-type"),
            response_body=b"".join(self.chunks),
            response_content_type=self.content_type,
        )
