"""What sandbox mode does around every TMS request: read the shared state
once (the service clock's offset; a new generation drops cached merchants)."""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send

from opentms.adapters.http.admin import ADMIN_PREFIX
from opentms.services.sandbox import SandboxControls

# Paths that are not the TMS API: the admin API itself, health, the document.
_NOT_TMS = (ADMIN_PREFIX + "/", "/healthz", "/readyz", "/openapi.json")


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
            await self.app(scope, receive, send)
        finally:
            self.controls.end_request(token)
