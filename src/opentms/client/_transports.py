"""A synchronous transport that runs an ASGI app in-process, so that the
synchronous client (and tests) can talk to opentms without a server."""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import Any

import anyio.from_thread
import httpx

__all__ = ["ASGIAppTransport"]


class ASGIAppTransport(httpx.BaseTransport):
    """``httpx.Client(transport=ASGIAppTransport(app))``: each request runs the
    app on an event loop kept in a background thread until :meth:`close`."""

    def __init__(self, app: Any) -> None:
        self._transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        self._portal_context: AbstractContextManager[anyio.from_thread.BlockingPortal] | None = None
        self._portal: anyio.from_thread.BlockingPortal | None = None

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if self._portal is None:
            self._portal_context = anyio.from_thread.start_blocking_portal()
            self._portal = self._portal_context.__enter__()
        return self._portal.call(self._handle, request)

    async def _handle(self, request: httpx.Request) -> httpx.Response:
        response = await self._transport.handle_async_request(request)
        content = await response.aread()
        return httpx.Response(
            response.status_code,
            headers=response.headers,
            content=content,
            extensions=response.extensions,
            request=request,
        )

    def close(self) -> None:
        if self._portal_context is not None:
            self._portal_context.__exit__(None, None, None)
            self._portal_context = self._portal = None
