"""What :class:`Client` and :class:`AsyncClient` share: configuration, request
building, message-level encryption, the retry policy and error mapping. The two
clients only add the (sync or async) loop that sends."""

from __future__ import annotations

import functools
import json
import logging
import os
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar
from urllib.parse import urlencode

import httpx

from opentms.client._auth import JWTAuth
from opentms.client._bundle import AuthMode, CredentialsBundle
from opentms.client._exceptions import InvalidResponse, TransportError, error_from_response
from opentms.client._jwe import JWEError, decrypt_compact, encrypt_compact
from opentms.client._keys import (
    CertificateLike,
    PrivateKeyLike,
    load_certificate,
    load_private_key,
    rsa_public_key,
    subject_attribute,
)
from opentms.client._operation_request import (
    JSON_TYPE,
    Answer,
    OperationRequest,
    as_httpx,
    encode_body,
)

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey, RSAPublicKey

__all__ = ["BaseClient"]

__version__ = "0.1.0"
T = TypeVar("T")
log = logging.getLogger("opentms.client")

_IDEMPOTENT = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})
_MAX_RETRY_AFTER = 60.0


class BaseClient:
    """What :class:`Client` and :class:`AsyncClient` share; not used directly."""

    def __init__(
        self,
        base_url: str,
        *,
        auth: httpx.Auth | None,
        profile_id: str | None,
        max_retries: int,
        retry_backoff: float,
        request_mle: bool | None,
        request_mle_certificate: CertificateLike | None,
        response_mle_kid: str | None,
        response_mle_key: PrivateKeyLike | None,
        credentials_private_key: PrivateKeyLike | None,
        timeout: float | httpx.Timeout | None,
        headers: Mapping[str, str] | None,
    ) -> None:
        if max_retries < 0 or retry_backoff < 0:
            raise ValueError("max_retries and retry_backoff must not be negative.")
        self.base_url = _checked_base_url(base_url)
        self.timeout = timeout if isinstance(timeout, httpx.Timeout) else httpx.Timeout(timeout)
        self._extensions = {"timeout": self.timeout.as_dict()}
        self._headers = {"user-agent": f"opentms-client-python/{__version__}", **(headers or {})}
        self.profile_id = profile_id
        self.max_retries = max_retries
        self.retry_backoff = retry_backoff
        self._mle_key: RSAPublicKey | None = None
        self._mle_kid: str | None = None
        if request_mle_certificate is not None:
            certificate = load_certificate(request_mle_certificate)
            self._mle_key = rsa_public_key(certificate)
            self._mle_kid = subject_attribute(certificate, "serialNumber")
        elif request_mle:
            raise ValueError("request_mle=True needs request_mle_certificate.")
        self._request_mle = request_mle
        self._response_mle_key: RSAPrivateKey | None = None
        if (response_mle_kid is None) != (response_mle_key is None):
            raise ValueError("Give both response_mle_kid and response_mle_key, or neither.")
        if response_mle_kid is not None and response_mle_key is not None:
            if not isinstance(auth, JWTAuth):
                raise ValueError("Response MLE is asked for in the JWT: it needs JWTAuth.")
            auth = auth.with_response_mle_kid(response_mle_kid)
            self._response_mle_key = load_private_key(response_mle_key)
        self.auth = auth
        self._credentials_private_key = (
            load_private_key(credentials_private_key) if credentials_private_key else None
        )
        # Set by from_credentials_file when the bundle's key file was not copied.
        self._missing_credentials_key: Callable[[], FileNotFoundError] | None = None

    @classmethod
    def from_credentials_file(
        cls,
        path: str | os.PathLike[str],
        *,
        base_url: str,
        auth: AuthMode = "signature",
        response_mle: bool = False,
        **options: Any,
    ) -> Self:
        """A client configured from the bundle ``opentms merchants create`` wrote.

        ```python
        client = Client.from_credentials_file("credentials/acme.json",
                                              base_url="http://127.0.0.1:8080", auth="jwt")
        ```

        The bundle's default profile becomes ``profile_id``; its payment-credentials
        private key lets ``decrypted_payment_credentials`` work with no key argument;
        the server certificate in its P12 turns on request MLE for ``tokenize``.

        Only the files the chosen mode needs must be there: the JSON alone for
        ``"signature"`` and ``"hs256"``, the P12 too for ``"jwt"``, the
        payment-credentials private key for ``response_mle=True``. A key file the
        bundle names but that was not copied is skipped (no request MLE, no
        default decryption key) until something needs it; then a
        ``FileNotFoundError`` names the file and what needs it.

        **Parameters:**

        * **path** - the ``<merchant>.json`` file (key files are found beside it).
        * **base_url** - the server, e.g. ``http://127.0.0.1:8080``.
        * **auth** - ``"signature"`` (HTTP Signature), ``"jwt"`` (RS256 with the
          P12) or ``"hs256"`` (JWT with the shared secret).
        * **response_mle** - ask for encrypted responses (JWT modes only), to the
          payment-credentials key.
        * **options** - any other constructor argument (``timeout``, ``transport``...).
        """
        bundle = CredentialsBundle.load(path)
        p12 = bundle.p12(auth)
        for name, value in bundle.client_options(p12, response_mle, options).items():
            options.setdefault(name, value)
        client = cls(base_url, auth=bundle.auth(auth, p12), **options)
        key_file = bundle.credentials_private_key_file
        if client._credentials_private_key is None and key_file and bundle.missing(key_file):
            client._missing_credentials_key = functools.partial(
                bundle.missing_file,
                key_file,
                "paymentCredentials.privateKeyFile",
                "Opening payment credentials with no private_key argument",
            )
        return client

    def __repr__(self) -> str:
        return f"{type(self).__name__}(base_url={self.base_url!r}, auth={self.auth!r})"

    def _credentials_key(self, private_key: PrivateKeyLike | None) -> PrivateKeyLike:
        key = private_key if private_key is not None else self._credentials_private_key
        if key is None and self._missing_credentials_key is not None:
            raise self._missing_credentials_key()
        if key is None:
            raise ValueError(
                "Give private_key (the merchant's payment-credentials key), or create "
                "the client with credentials_private_key=... or from_credentials_file()."
            )
        return key

    # Requests -------------------------------------------------------------------

    def _encrypts(self, operation: OperationRequest[Any]) -> bool:
        if operation.mle == "never" or self._request_mle is False or self._mle_key is None:
            return False
        return operation.mle == "mandatory" or bool(self._request_mle)

    def _prepare(self, operation: OperationRequest[Any]) -> tuple[bytes | None, dict[str, str]]:
        """The body bytes (encrypted when the operation and the configuration
        say so) and the headers of ``operation``; signing happens in ``auth``."""
        headers = {"accept": operation.accept}
        content = None
        if operation.method in _BODY_METHODS:
            content = encode_body(operation.body)
            if self._encrypts(operation):
                assert self._mle_key is not None  # noqa: S101 - checked by _encrypts
                sealed = encrypt_compact(self._mle_key, self._mle_kid, content)
                content = json.dumps({"encryptedRequest": sealed}).encode()
            headers["content-type"] = JSON_TYPE
        profile_id = operation.profile_id or self.profile_id
        if profile_id and operation.send_profile:
            headers["profile-id"] = profile_id
        if operation.if_match is not None:
            headers["if-match"] = operation.if_match
        return content, headers

    def _url(self, operation: OperationRequest[Any]) -> str:
        url = self.base_url + operation.path
        if operation.params:
            url += "?" + urlencode(operation.params)
        return url

    def _build(
        self, operation: OperationRequest[Any], content: bytes | None, headers: dict[str, str]
    ) -> httpx.Request:
        return httpx.Request(
            operation.method,
            self._url(operation),
            headers={**self._headers, **headers},
            content=content,
            extensions=self._extensions,
        )

    def _retry_delay(
        self, operation: OperationRequest[Any], attempt: int, response: Answer | None = None
    ) -> float | None:
        """Seconds to wait before trying ``operation`` again, or ``None`` not to:
        only idempotent methods, only after a transport error or a 5xx."""
        if attempt >= self.max_retries or operation.method not in _IDEMPOTENT:
            return None
        if response is not None and response.status_code < 500:
            return None
        delay = self.retry_backoff * 2.0**attempt
        retry_after = response.headers.get("retry-after", "") if response is not None else ""
        if retry_after.isdigit():
            delay = max(delay, min(float(retry_after), _MAX_RETRY_AFTER))
        log.info(
            "retrying %s %s in %.2fs (attempt %d of %d): %s",
            operation.method,
            operation.path,
            delay,
            attempt + 2,
            self.max_retries + 1,
            response.status_code if response is not None else "transport error",
        )
        return delay

    def _finish(self, operation: OperationRequest[T], response: Answer, started: float) -> T:
        """The parsed success body, or the mapped error raised."""
        if log.isEnabledFor(logging.DEBUG):
            log.debug(
                "%s %s -> %d in %.1fms",
                operation.method,
                operation.path,
                response.status_code,
                (time.perf_counter() - started) * 1000,
            )
        content = response.content
        if self._response_mle_key is not None and b"encryptedResponse" in content[:64]:
            content = self._open_response(response, content)
        if not 200 <= response.status_code < 300:
            raise error_from_response(as_httpx(response), content)
        return operation.parse(content, response)

    def _open_response(self, response: Answer, content: bytes) -> bytes:
        """Response MLE: ``{"encryptedResponse": "<JWE>"}`` becomes its plaintext."""
        assert self._response_mle_key is not None  # noqa: S101 - checked by the caller
        try:
            wrapper = json.loads(content)
        except ValueError:
            return content
        if not (isinstance(wrapper, dict) and list(wrapper) == ["encryptedResponse"]):
            return content
        try:
            return decrypt_compact(self._response_mle_key, str(wrapper["encryptedResponse"]))
        except JWEError:
            raise InvalidResponse(
                "The encryptedResponse does not open with response_mle_key.", as_httpx(response)
            ) from None

    def _transport_error(
        self, exc: httpx.TransportError, operation: OperationRequest[Any]
    ) -> TransportError:
        """``exc`` as this package's error, naming the request and the cause."""
        try:
            request: httpx.Request | None = exc.request
        except RuntimeError:
            request = None
        cause = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        message = f"{operation.method} {self._url(operation)} got no response ({cause})"
        return TransportError(message, request=request)


def _checked_base_url(base_url: str) -> str:
    """``base_url`` without its trailing slash, once it is known to be an
    ``http://`` or ``https://`` URL with a host and nothing after the path."""
    expected = "an http:// or https:// URL with a host, such as http://127.0.0.1:8080"
    if not isinstance(base_url, str):
        raise TypeError(f"base_url must be a str, {expected}; got {base_url!r}.")
    try:
        url = httpx.URL(base_url)
    except httpx.InvalidURL as exc:
        raise ValueError(f"base_url must be {expected}; got {base_url!r} ({exc}).") from None
    if url.scheme not in ("http", "https") or not url.host:
        raise ValueError(f"base_url must be {expected}; got {base_url!r}.")
    if url.query or url.fragment:
        raise ValueError(f"base_url must have no query or fragment; got {base_url!r}.")
    # Security: the URL is shown in reprs and error messages; a password must not be.
    if url.userinfo:
        raise ValueError(
            f"base_url must not carry a user or password (requests are signed); "
            f"got one for {url.copy_with(username=None, password=None)}."
        )
    return base_url.rstrip("/")
