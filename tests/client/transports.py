"""Transports that wrap the in-process app for the client tests: one that
records what was sent and answered, one that fails on purpose."""

from __future__ import annotations

from collections.abc import Iterator

import httpx


class Recording(httpx.BaseTransport):
    """Passes requests to ``inner`` and keeps each request and response."""

    def __init__(self, inner: httpx.BaseTransport) -> None:
        self.inner = inner
        self.exchanges: list[tuple[httpx.Request, httpx.Response]] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self.inner.handle_request(request)
        response.read()
        self.exchanges.append((request, response))
        return response

    @property
    def last(self) -> tuple[httpx.Request, httpx.Response]:
        return self.exchanges[-1]


class Flaky(httpx.BaseTransport):
    """Answers the first ``failures`` requests itself (a status, or raises
    ``error``), then passes the rest to ``inner``; counts every request."""

    def __init__(
        self,
        inner: httpx.BaseTransport,
        failures: int,
        status: int = 503,
        error: type[httpx.TransportError] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.inner = inner
        self.failures = failures
        self.status = status
        self.error = error
        self.headers = headers or {}
        self.requests: list[httpx.Request] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if len(self.requests) <= self.failures:
            if self.error is not None:
                raise self.error("simulated failure", request=request)
            return httpx.Response(self.status, headers=self.headers, request=request)
        return self.inner.handle_request(request)


class AsyncFlaky(httpx.AsyncBaseTransport):
    """:class:`Flaky` for :class:`AsyncClient`."""

    def __init__(self, inner: httpx.AsyncBaseTransport, failures: int, status: int = 503) -> None:
        self.inner = inner
        self.failures = failures
        self.status = status
        self.requests: list[httpx.Request] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if len(self.requests) <= self.failures:
            return httpx.Response(self.status, request=request)
        return await self.inner.handle_async_request(request)


def methods(requests: Iterator[httpx.Request] | list[httpx.Request]) -> list[str]:
    return [request.method for request in requests]
