"""Request signing as CyberSource defines it, as ``httpx.Auth`` flows:
HTTP Signature (HmacSHA256), JWT RS256 (P12 or PEM key + kid) and JWT HS256."""

from __future__ import annotations

import base64
import copy
import hashlib
import hmac
import json
import os
import time
import uuid
from collections.abc import Generator
from email.utils import formatdate
from typing import TYPE_CHECKING, Any

import httpx

from opentms.client._keys import PrivateKeyLike, load_p12, load_private_key, subject_attribute

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey

__all__ = ["HTTPSignatureAuth", "JWTAuth"]

_BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})


def _digest(body: bytes) -> str:
    return base64.b64encode(hashlib.sha256(body).digest()).decode()


def _target(request: httpx.Request) -> str:
    return request.url.raw_path.decode("ascii")


_date_cache: tuple[int, str] = (0, "")


def _http_date() -> str:
    """The RFC 7231 date of now, made once per second."""
    global _date_cache
    now = int(time.time())
    if _date_cache[0] != now:
        _date_cache = (now, formatdate(now, usegmt=True))
    return _date_cache[1]


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class HTTPSignatureAuth(httpx.Auth):
    """Sign each request with the merchant's HTTP Signature key (HmacSHA256):
    ``v-c-merchant-id``, ``Date``, ``Host``, ``Digest`` (with a body) and the
    ``Signature`` header over them.

    ```python
    auth = HTTPSignatureAuth("acme", key_id="5f0c...", shared_secret="base64...")
    client = Client("http://127.0.0.1:8080", auth=auth)
    ```

    **Parameters:**

    * **merchant_id** - the merchant id (``v-c-merchant-id``).
    * **key_id** - the key id the shared secret is registered under.
    * **shared_secret** - the base64 shared secret (decoded before use).
    * **host** *(optional)* - the host to sign and send as ``Host``; defaults to the URL's.
    """

    requires_request_body = True

    def __init__(
        self, merchant_id: str, key_id: str, shared_secret: str, host: str | None = None
    ) -> None:
        self.merchant_id = merchant_id
        self.key_id = key_id
        self._secret = base64.b64decode(shared_secret)
        self._host = host

    def __repr__(self) -> str:
        return f"HTTPSignatureAuth(merchant_id={self.merchant_id!r}, key_id={self.key_id!r})"

    def sign(self, method: str, target: str, host: str, body: bytes) -> list[tuple[str, str]]:
        """The headers that sign one request (``target``: the path with query;
        ``host``: the URL's, unless the auth was given one)."""
        host = self._host or host
        date = _http_date()
        method = method.upper()
        signed = f"host: {host}\ndate: {date}\nrequest-target: {method.lower()} {target}\n"
        headers = [("host", host), ("date", date), ("v-c-merchant-id", self.merchant_id)]
        names = "host date request-target"
        if method in _BODY_METHODS:
            digest = "SHA-256=" + _digest(body)
            headers.append(("digest", digest))
            signed += f"digest: {digest}\n"
            names += " digest"
        signed += f"v-c-merchant-id: {self.merchant_id}"
        names += " v-c-merchant-id"
        mac = hmac.new(self._secret, signed.encode(), hashlib.sha256).digest()
        headers.append(
            (
                "signature",
                f'keyid="{self.key_id}", algorithm="HmacSHA256", headers="{names}", '
                f'signature="{base64.b64encode(mac).decode()}"',
            )
        )
        return headers

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        host = request.url.netloc.decode()
        for name, value in self.sign(request.method, _target(request), host, request.content):
            request.headers[name] = value
        yield request


class JWTAuth(httpx.Auth):
    """Sign each request with a short-lived JWT (``Authorization: Bearer``):
    RS256 with the merchant's private key, whose ``kid`` is its certificate's
    subject serialNumber, or HS256 with the HTTP Signature shared secret.

    ```python
    auth = JWTAuth.from_p12("acme", "acme.p12", password="...")       # RS256
    auth = JWTAuth("acme", kid="123456", private_key="acme-key.pem")   # RS256
    auth = JWTAuth("acme", kid="5f0c...", shared_secret="base64...")   # HS256
    ```

    **Parameters:**

    * **merchant_id** - the merchant id (``iss`` and ``v-c-merchant-id`` claims).
    * **kid** - the key id: the certificate's serialNumber (RS256) or the key id (HS256).
    * **private_key** *(RS256)* - a path, PEM text or bytes, or an ``RSAPrivateKey``.
    * **shared_secret** *(HS256)* - the base64 shared secret.
    * **host** *(optional)* - the ``request-host`` claim; defaults to the URL's host.
    * **response_mle_kid** *(optional)* - ask for encrypted responses to this key id
      (``v-c-response-mle-kid``); usually set through ``Client(response_mle_kid=...)``.
    """

    requires_request_body = True

    def __init__(
        self,
        merchant_id: str,
        kid: str,
        private_key: PrivateKeyLike | None = None,
        shared_secret: str | None = None,
        host: str | None = None,
        response_mle_kid: str | None = None,
    ) -> None:
        if (private_key is None) == (shared_secret is None):
            raise ValueError("Give exactly one of private_key (RS256) or shared_secret (HS256).")
        self.merchant_id = merchant_id
        self.kid = kid
        self.algorithm = "RS256" if private_key is not None else "HS256"
        self._private_key = load_private_key(private_key) if private_key is not None else None
        self._secret = base64.b64decode(shared_secret) if shared_secret else b""
        self._host = host
        self.response_mle_kid = response_mle_kid

    @classmethod
    def from_p12(
        cls,
        merchant_id: str,
        p12: str | os.PathLike[str] | bytes,
        password: str | bytes | None,
        *,
        key_alias: str | None = None,
        host: str | None = None,
    ) -> JWTAuth:
        """RS256 with the key in a CyberSource-style PKCS#12 file; the ``kid`` is
        the subject serialNumber of the certificate whose CN is ``key_alias``
        (default: the merchant id, else the key's own certificate)."""
        contents = load_p12(p12, password)
        certificate = contents.certificate_named(key_alias or merchant_id) or contents.certificate
        kid = subject_attribute(certificate, "serialNumber") if certificate else None
        if not kid:
            raise ValueError("The P12 certificate has no subject serialNumber (the JWT kid).")
        return cls(merchant_id, kid, private_key=contents.private_key, host=host)

    def with_response_mle_kid(self, kid: str | None) -> JWTAuth:
        """A copy that asks for response message-level encryption to ``kid``."""
        twin = copy.copy(self)
        twin.response_mle_kid = kid
        return twin

    def __repr__(self) -> str:
        return f"JWTAuth(merchant_id={self.merchant_id!r}, kid={self.kid!r}, {self.algorithm})"

    def token(self, method: str, target: str, host: str, body: bytes) -> str:
        """The compact JWT for one request (``target`` is the path with query)."""
        now = int(time.time())
        method = method.upper()
        claims: dict[str, Any] = {
            "iat": now,
            "exp": now + 120,
            "request-method": method,
            "request-host": host,
            "request-resource-path": target,
            "iss": self.merchant_id,
            "jti": str(uuid.uuid4()),
            "v-c-jwt-version": "2",
            "v-c-merchant-id": self.merchant_id,
        }
        if method in _BODY_METHODS:
            claims["digest"] = _digest(body)
            claims["digestAlgorithm"] = "SHA-256"
        if self.response_mle_kid:
            claims["v-c-response-mle-kid"] = self.response_mle_kid
        header = {"alg": self.algorithm, "kid": self.kid, "typ": "JWT"}
        signing_input = (
            _b64url(json.dumps(header, separators=(",", ":")).encode())
            + "."
            + _b64url(json.dumps(claims, separators=(",", ":")).encode())
        ).encode()
        if self._private_key is not None:
            signature = _rs256(self._private_key, signing_input)
        else:
            signature = hmac.new(self._secret, signing_input, hashlib.sha256).digest()
        return signing_input.decode() + "." + _b64url(signature)

    def sign(self, method: str, target: str, host: str, body: bytes) -> list[tuple[str, str]]:
        """The ``Authorization`` header that signs one request."""
        token = self.token(method, target, self._host or host, body)
        return [("authorization", f"Bearer {token}")]

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        host = request.url.netloc.decode()
        for name, value in self.sign(request.method, _target(request), host, request.content):
            request.headers[name] = value
        yield request


def _rs256(key: RSAPrivateKey, data: bytes) -> bytes:
    from cryptography.hazmat.primitives.asymmetric.padding import PKCS1v15
    from cryptography.hazmat.primitives.hashes import SHA256

    return key.sign(data, PKCS1v15(), SHA256())
