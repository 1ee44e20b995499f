"""A synchronous transport that runs an ASGI app in-process, so that the
synchronous client (and tests) can talk to opentms without a server."""

from __future__ import annotations

from typing import Any

import anyio
import httpx

__all__ = ["ASGIAppTransport"]


class ASGIAppTransport(httpx.BaseTransport):
    """``httpx.Client(transport=ASGIAppTransport(app))``: each request runs the
    app to completion on a short-lived event loop in the calling thread, so
    nothing is left running when the client is dropped. Application errors
    come back as the app's own 500 response, as from a real server."""

    def __init__(self, app: Any) -> None:
        self._transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        return anyio.run(self._handle, request)

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
