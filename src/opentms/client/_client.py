"""``Client`` and ``AsyncClient``: a transport each (a connection pool), and the
loop that signs and sends a call, retrying idempotent ones (``BaseClient`` has
the rest). They drive httpx transports and ``httpx.Auth`` flows directly:
``httpx.Client`` adds cookies, redirects and URL merging that TMS never uses,
at a CPU cost per call larger than the client's own work."""

from __future__ import annotations

import os
import ssl
import time
from collections.abc import Mapping
from typing import Any, Self, TypeVar, cast
from urllib.parse import urlencode

import httpx

from opentms.client import _async_resources as aio
from opentms.client import _async_token_resources as aio_tokens
from opentms.client import _resources as res
from opentms.client import _token_resources as tok
from opentms.client._auth import HTTPSignatureAuth, JWTAuth
from opentms.client._base_client import BaseClient
from opentms.client._http11 import HTTP11Transport, check_head
from opentms.client._keys import CertificateLike, PrivateKeyLike
from opentms.client._operation_request import Answer, OperationRequest

__all__ = ["AsyncClient", "Client"]

T = TypeVar("T")
# Failures of the request itself, before anything was sent: never retried.
_LOCAL = (httpx.LocalProtocolError, httpx.UnsupportedProtocol)
_LIMITS = httpx.Limits(max_connections=100, max_keepalive_connections=20, keepalive_expiry=5.0)

VerifyTypes = bool | str | os.PathLike[str] | ssl.SSLContext


def _ssl_verify(verify: VerifyTypes) -> bool | ssl.SSLContext:
    """A CA bundle path becomes an SSL context trusting exactly that bundle."""
    if isinstance(verify, str | os.PathLike):
        return ssl.create_default_context(cafile=os.fspath(verify))
    return verify


class Client(BaseClient):
    """A synchronous TMS client: signed requests over kept-alive connections,
    typed results, retries of idempotent calls.

    ```python
    from opentms.client import Client, HTTPSignatureAuth

    with Client("http://127.0.0.1:8080",
                auth=HTTPSignatureAuth("acme", key_id="...", shared_secret="...")) as client:
        customer = client.customers.create({"buyerInformation": {"email": "ada@example.com"}})
        print(client.customers.get(customer.id).etag)
    ```

    Resources: ``instrument_identifiers``, ``payment_instruments``, ``customers``
    (``.payment_instruments``, ``.shipping_addresses``), ``tokenized_cards`` and
    ``tokens`` (payment credentials, ``tokenize``). Errors raise
    :class:`APIError` subclasses; no response raises :class:`TransportError`.
    Safe to share between threads.

    **Parameters:**

    * **base_url** - the server: ``http://127.0.0.1:8080``, ``https://apitest.cybersource.com``...
      (``http://`` or ``https://`` and a host, else ``ValueError``).
    * **auth** - :class:`HTTPSignatureAuth` or :class:`JWTAuth` (or any ``httpx.Auth``).
    * **profile_id** *(optional)* - the ``profile-id`` sent when a call gives none.
    * **timeout** - seconds, or an ``httpx.Timeout`` (default 30 s).
    * **max_retries** - extra attempts of idempotent calls (GET, PUT, DELETE) after a
      connection error or a 5xx, waiting ``retry_backoff * 2**n`` seconds (or
      ``Retry-After``); POST and PATCH are never retried. Default 2.
    * **retry_backoff** - the first wait, in seconds (default 0.5).
    * **verify** - ``True`` (httpx's CA bundle), a CA bundle path, an
      ``ssl.SSLContext``, or ``False``.
    * **transport** *(optional)* - an ``httpx.BaseTransport``: ``ASGIAppTransport(app)``
      to call an app in-process, ``httpx.MockTransport``, ``httpx.HTTPTransport``...
      Default: this package's keep-alive HTTP/1.1 transport (fastest for TMS calls).
    * **proxy** *(optional)* - an HTTP proxy URL (then httpx's transport is used);
      ``HTTP(S)_PROXY`` variables are not read.
    * **limits** *(optional)* - ``httpx.Limits``: idle connections kept and for how long.
    * **headers** *(optional)* - extra headers on every request.
    * **request_mle** - ``None`` (default): encrypt the requests TMS requires
      encrypted (``tokenize``) when a certificate is given; ``True``: every
      request with a body; ``False``: none.
    * **request_mle_certificate** *(optional)* - the server's MLE certificate
      (CN ``CyberSource_SJC_US``): path, PEM/DER bytes or ``x509.Certificate``.
    * **response_mle_kid**, **response_mle_key** *(optional)* - ask for encrypted
      responses (JWT auth only) to this key id, and decrypt them with this key.
    * **credentials_private_key** *(optional)* - the key that opens payment
      credentials, for ``tokens.decrypted_payment_credentials``.
    """

    def __init__(
        self,
        base_url: str,
        *,
        auth: httpx.Auth | None = None,
        profile_id: str | None = None,
        timeout: float | httpx.Timeout | None = 30.0,
        max_retries: int = 2,
        retry_backoff: float = 0.5,
        verify: VerifyTypes = True,
        transport: httpx.BaseTransport | None = None,
        proxy: str | None = None,
        limits: httpx.Limits | None = None,
        headers: Mapping[str, str] | None = None,
        request_mle: bool | None = None,
        request_mle_certificate: CertificateLike | None = None,
        response_mle_kid: str | None = None,
        response_mle_key: PrivateKeyLike | None = None,
        credentials_private_key: PrivateKeyLike | None = None,
    ) -> None:
        super().__init__(
            base_url,
            auth=auth,
            profile_id=profile_id,
            max_retries=max_retries,
            retry_backoff=retry_backoff,
            request_mle=request_mle,
            request_mle_certificate=request_mle_certificate,
            response_mle_kid=response_mle_kid,
            response_mle_key=response_mle_key,
            credentials_private_key=credentials_private_key,
            timeout=timeout,
            headers=headers,
        )
        limits = limits or _LIMITS
        if transport is None and proxy is not None:
            transport = httpx.HTTPTransport(verify=_ssl_verify(verify), limits=limits, proxy=proxy)
        elif transport is None:
            transport = HTTP11Transport(
                verify=_ssl_verify(verify),
                max_keepalive_connections=limits.max_keepalive_connections or 0,
                keepalive_expiry=limits.keepalive_expiry or 0.0,
            )
        self._transport = transport
        # With the default transport and our own signers, requests go out as
        # bytes (no httpx.Request): the same headers, at a fraction of the CPU.
        self._direct = type(transport) is HTTP11Transport and (
            self.auth is None or type(self.auth) in (HTTPSignatureAuth, JWTAuth)
        )
        url = httpx.URL(self.base_url)
        self._key = (url.scheme, url.host, url.port or (443 if url.scheme == "https" else 80))
        self._netloc = url.netloc.decode("ascii")
        self._prefix = url.raw_path.decode("ascii").rstrip("/")
        self._timeouts = (self.timeout.connect, self.timeout.read, self.timeout.write)
        self.instrument_identifiers = res.InstrumentIdentifiers(self)
        self.payment_instruments = res.PaymentInstruments(self)
        self.customers = res.Customers(self)
        self.tokenized_cards = tok.TokenizedCards(self)
        self.tokens = tok.Tokens(self)

    def close(self) -> None:
        """Close the transport and its connections."""
        self._transport.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _send(self, request: httpx.Request) -> httpx.Response:
        """Send ``request`` through the auth flow (one request for our signers)."""
        if self.auth is None:
            response = self._transport.handle_request(request)
            response.read()
            return response
        flow = self.auth.sync_auth_flow(request)
        request = next(flow)
        while True:
            response = self._transport.handle_request(request)
            response.read()
            try:
                request = flow.send(response)
            except StopIteration:
                return response

    def _send_direct(
        self, operation: OperationRequest[Any], content: bytes | None, headers: dict[str, str]
    ) -> Answer:
        """``_send`` for the default transport and signers, without httpx.Request."""
        assert isinstance(self._transport, HTTP11Transport)  # noqa: S101 - see __init__
        target = self._prefix + operation.path
        if operation.params:
            target += "?" + urlencode(operation.params)
        fields = {"host": self._netloc, **self._headers, **headers}
        if content is not None:
            fields["content-length"] = str(len(content))
        if self.auth is not None:
            signer = cast(HTTPSignatureAuth | JWTAuth, self.auth)
            fields.update(signer.sign(operation.method, target, self._netloc, content or b""))
        head = f"{operation.method} {target} HTTP/1.1\r\n"
        head += "".join(f"{name}: {value}\r\n" for name, value in fields.items()) + "\r\n"
        encoded = head.encode("ascii")  # UnicodeEncodeError, as httpx.Request raises
        try:
            check_head(encoded, len(fields))
            payload = encoded + (content or b"")
            reply = self._transport.exchange(self._key, operation.method, payload, self._timeouts)
        except httpx.TransportError as exc:
            exc.request = self._build(operation, content, headers)
            raise
        if reply.status_code >= 300:  # errors carry an httpx.Response with its request
            return reply.to_httpx(self._build(operation, content, headers))
        return reply

    def _run(self, operation: OperationRequest[T]) -> T:
        content, headers = self._prepare(operation)
        attempt = 0
        while True:
            started = time.perf_counter()
            response: Answer
            try:
                if self._direct:
                    response = self._send_direct(operation, content, headers)
                else:
                    response = self._send(self._build(operation, content, headers))
            except httpx.TransportError as exc:
                delay = None if isinstance(exc, _LOCAL) else self._retry_delay(operation, attempt)
                if delay is None:
                    raise self._transport_error(exc, operation) from exc
            else:
                delay = self._retry_delay(operation, attempt, response)
                if delay is None:
                    return self._finish(operation, response, started)
            time.sleep(delay)
            attempt += 1


class AsyncClient(BaseClient):
    """An asynchronous TMS client, the twin of :class:`Client`: the same
    parameters, resources and errors, with ``await`` on every call.

    ```python
    async with AsyncClient("http://127.0.0.1:8080", auth=auth) as client:
        customer = await client.customers.get(customer_id)
    ```

    In-process, pass ``transport=httpx.ASGITransport(app=app)``. The default
    transport is ``httpx.AsyncHTTPTransport`` (httpcore, any anyio backend).
    """

    def __init__(
        self,
        base_url: str,
        *,
        auth: httpx.Auth | None = None,
        profile_id: str | None = None,
        timeout: float | httpx.Timeout | None = 30.0,
        max_retries: int = 2,
        retry_backoff: float = 0.5,
        verify: VerifyTypes = True,
        transport: httpx.AsyncBaseTransport | None = None,
        proxy: str | None = None,
        limits: httpx.Limits | None = None,
        headers: Mapping[str, str] | None = None,
        request_mle: bool | None = None,
        request_mle_certificate: CertificateLike | None = None,
        response_mle_kid: str | None = None,
        response_mle_key: PrivateKeyLike | None = None,
        credentials_private_key: PrivateKeyLike | None = None,
    ) -> None:
        super().__init__(
            base_url,
            auth=auth,
            profile_id=profile_id,
            max_retries=max_retries,
            retry_backoff=retry_backoff,
            request_mle=request_mle,
            request_mle_certificate=request_mle_certificate,
            response_mle_kid=response_mle_kid,
            response_mle_key=response_mle_key,
            credentials_private_key=credentials_private_key,
            timeout=timeout,
            headers=headers,
        )
        self._transport = transport or httpx.AsyncHTTPTransport(
            verify=_ssl_verify(verify), limits=limits or _LIMITS, proxy=proxy
        )
        self.instrument_identifiers = aio.AsyncInstrumentIdentifiers(self)
        self.payment_instruments = aio.AsyncPaymentInstruments(self)
        self.customers = aio.AsyncCustomers(self)
        self.tokenized_cards = aio_tokens.AsyncTokenizedCards(self)
        self.tokens = aio_tokens.AsyncTokens(self)

    async def aclose(self) -> None:
        """Close the transport and its connections."""
        await self._transport.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def _send(self, request: httpx.Request) -> httpx.Response:
        if self.auth is None:
            response = await self._transport.handle_async_request(request)
            await response.aread()
            return response
        flow = self.auth.async_auth_flow(request)
        request = await flow.__anext__()
        while True:
            response = await self._transport.handle_async_request(request)
            await response.aread()
            try:
                request = await flow.asend(response)
            except StopAsyncIteration:
                return response

    async def _run(self, operation: OperationRequest[T]) -> T:
        content, headers = self._prepare(operation)
        attempt = 0
        while True:
            request = self._build(operation, content, headers)
            started = time.perf_counter()
            try:
                response = await self._send(request)
            except httpx.TransportError as exc:
                delay = None if isinstance(exc, _LOCAL) else self._retry_delay(operation, attempt)
                if delay is None:
                    raise self._transport_error(exc, operation) from exc
            else:
                delay = self._retry_delay(operation, attempt, response)
                if delay is None:
                    return self._finish(operation, response, started)
            import anyio

            await anyio.sleep(delay)
            attempt += 1
