"""Request signing as CyberSource defines it, as ``httpx.Auth`` flows:
HTTP Signature (HmacSHA256), JWT RS256 (P12 or PEM key + kid) and JWT HS256."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid
from collections.abc import Generator
from email.utils import formatdate
from typing import Any

import httpx
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

__all__ = ["HTTPSignatureAuth", "JWTAuth"]

_BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})


def _digest(body: bytes) -> str:
    return base64.b64encode(hashlib.sha256(body).digest()).decode()


def _target(request: httpx.Request) -> str:
    return request.url.raw_path.decode("ascii")


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class HTTPSignatureAuth(httpx.Auth):
    """Signs with the merchant's HTTP Signature key id and base64 shared secret.

    ``host`` is the value signed and sent as ``Host`` (default: the URL's host).
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

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        host = self._host or request.headers.get("host") or request.url.netloc.decode()
        date = formatdate(usegmt=True)
        method = request.method.upper()
        request.headers["host"] = host
        request.headers["date"] = date
        request.headers["v-c-merchant-id"] = self.merchant_id
        lines = [
            f"host: {host}",
            f"date: {date}",
            f"request-target: {method.lower()} {_target(request)}",
        ]
        names = ["host", "date", "request-target"]
        if method in _BODY_METHODS:
            digest = "SHA-256=" + _digest(request.content)
            request.headers["digest"] = digest
            lines.append(f"digest: {digest}")
            names.append("digest")
        lines.append(f"v-c-merchant-id: {self.merchant_id}")
        names.append("v-c-merchant-id")
        mac = hmac.new(self._secret, "\n".join(lines).encode(), hashlib.sha256).digest()
        request.headers["signature"] = (
            f'keyid="{self.key_id}", algorithm="HmacSHA256", headers="{" ".join(names)}", '
            f'signature="{base64.b64encode(mac).decode()}"'
        )
        yield request


class JWTAuth(httpx.Auth):
    """Signs a per-request JWT: RS256 with a private key and its ``kid`` (the
    certificate's subject serialNumber), or HS256 with the shared secret."""

    requires_request_body = True

    def __init__(
        self,
        merchant_id: str,
        kid: str,
        private_key: rsa.RSAPrivateKey | None = None,
        shared_secret: str | None = None,
        host: str | None = None,
    ) -> None:
        if (private_key is None) == (shared_secret is None):
            raise ValueError("Give exactly one of private_key (RS256) or shared_secret (HS256).")
        self.merchant_id = merchant_id
        self.kid = kid
        self._private_key = private_key
        self._secret = base64.b64decode(shared_secret) if shared_secret else None
        self._host = host

    def __repr__(self) -> str:
        algorithm = "RS256" if self._private_key is not None else "HS256"
        return f"JWTAuth(merchant_id={self.merchant_id!r}, kid={self.kid!r}, {algorithm})"

    def token(self, method: str, target: str, host: str, body: bytes) -> str:
        now = int(time.time())
        claims: dict[str, Any] = {
            "iat": now,
            "exp": now + 120,
            "request-method": method.upper(),
            "request-host": host,
            "request-resource-path": target,
            "iss": self.merchant_id,
            "jti": str(uuid.uuid4()),
            "v-c-jwt-version": "2",
            "v-c-merchant-id": self.merchant_id,
        }
        if method.upper() in _BODY_METHODS:
            claims["digest"] = _digest(body)
            claims["digestAlgorithm"] = "SHA-256"
        algorithm = "RS256" if self._private_key is not None else "HS256"
        header = {"alg": algorithm, "kid": self.kid, "typ": "JWT"}
        signing_input = (
            _b64url(json.dumps(header, separators=(",", ":")).encode())
            + "."
            + _b64url(json.dumps(claims, separators=(",", ":")).encode())
        ).encode()
        if self._private_key is not None:
            signature = self._private_key.sign(signing_input, padding.PKCS1v15(), hashes.SHA256())
        else:
            secret = self._secret or b""
            signature = hmac.new(secret, signing_input, hashlib.sha256).digest()
        return signing_input.decode() + "." + _b64url(signature)

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        host = self._host or request.url.netloc.decode()
        token = self.token(request.method, _target(request), host, request.content)
        request.headers["authorization"] = f"Bearer {token}"
        yield request
