"""Webhook requests over httpx (docs/webhooks.md, "Delivery"): connect and
read timeouts, no redirects, at most 1 KiB of an answer kept."""

from __future__ import annotations

import time
from collections.abc import Mapping
from urllib.parse import urlsplit

import httpx

from opentms.domain.ports import DestinationRefused, TransportResult

MAX_RESPONSE_BYTES = 1024


class HttpxTransport:
    """:class:`~opentms.domain.ports.WebhookTransport` over one httpx client."""

    def __init__(self, connect_timeout: float, read_timeout: float) -> None:
        timeout = httpx.Timeout(read_timeout, connect=connect_timeout)
        self._client = httpx.Client(
            timeout=timeout, follow_redirects=False, trust_env=False, verify=True
        )

    def check_destination(self, url: str) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise DestinationRefused("A webhook URL is an http:// or https:// URL with a host.")

    def post(self, url: str, headers: Mapping[str, str], body: bytes) -> TransportResult:
        return self._send("POST", url, headers, body)

    def get(self, url: str) -> TransportResult:
        return self._send("GET", url, {}, None)

    def close(self) -> None:
        self._client.close()

    def _send(
        self, method: str, url: str, headers: Mapping[str, str], body: bytes | None
    ) -> TransportResult:
        started = time.perf_counter()
        try:
            self.check_destination(url)
            with self._client.stream(method, url, headers=dict(headers), content=body) as answer:
                kept = bytearray()
                for chunk in answer.iter_raw():
                    kept += chunk[: MAX_RESPONSE_BYTES - len(kept)]
                    if len(kept) >= MAX_RESPONSE_BYTES:
                        break
                status = answer.status_code
        except (httpx.HTTPError, DestinationRefused) as exc:
            return TransportResult(None, _since(started), f"{type(exc).__name__}: {exc}"[:300])
        return TransportResult(status, _since(started), None, bytes(kept))


def _since(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 3)
