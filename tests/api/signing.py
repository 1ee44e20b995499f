"""Hand-made credentials for the authentication tests: HTTP Signature headers
and JWTs built field by field (tms-api.md §6.3, §6.4), so that each test can
break exactly one thing; and a raw ASGI call that keeps header names as sent."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid
from collections.abc import Sequence
from email.utils import formatdate
from typing import Any, Protocol

import anyio
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from starlette.types import ASGIApp, Message

from opentms.services.merchants import Registration

HOST = "testserver"


class SigningIdentity(Protocol):
    """What HTTP Signature needs of a merchant (a ``Registration``, a bundle)."""

    @property
    def merchant_id(self) -> str: ...

    @property
    def key_id(self) -> str: ...

    @property
    def shared_secret(self) -> str: ...


def digest_of(body: bytes) -> str:
    return base64.b64encode(hashlib.sha256(body).digest()).decode()


def http_date(offset_seconds: float = 0) -> str:
    return formatdate(time.time() + offset_seconds, usegmt=True)


def signature_headers(
    registration: SigningIdentity,
    method: str,
    target: str,
    body: bytes = b"",
    *,
    host: str = HOST,
    signed: Sequence[str] | None = None,
    signed_target: str | None = None,
    date: str | None = None,
    key_id: str | None = None,
    secret: str | None = None,
    merchant_id: str | None = None,
    algorithm: str = "HmacSHA256",
    digest: str | None = None,
    extra: dict[str, str] | None = None,
) -> dict[str, str]:
    """The headers of an HTTP Signature request as the CyberSource SDK sends
    them; every keyword replaces one ingredient. ``signed`` lists the header
    names of the ``headers=`` parameter as written (any case); ``extra``
    headers are sent and may be signed."""
    method = method.upper()
    headers = {
        "host": host,
        "date": date if date is not None else http_date(),
        "v-c-merchant-id": merchant_id or registration.merchant_id,
        **(extra or {}),
    }
    if method in ("POST", "PUT", "PATCH"):
        headers["digest"] = digest or "SHA-256=" + digest_of(body)
    if signed is None:
        signed = ["host", "date", "request-target"]
        if "digest" in headers:
            signed.append("digest")
        signed.append("v-c-merchant-id")
    lines = []
    for name in signed:
        lower = name.lower()
        if lower in ("request-target", "(request-target)"):
            lines.append(f"{lower}: {method.lower()} {signed_target or target}")
        else:
            lines.append(f"{lower}: {headers[lower]}")
    key = base64.b64decode(secret or registration.shared_secret)
    mac = hmac.new(key, "\n".join(lines).encode(), hashlib.sha256).digest()
    headers["signature"] = (
        f'keyid="{key_id or registration.key_id}", algorithm="{algorithm}", '
        f'headers="{" ".join(signed)}", signature="{base64.b64encode(mac).decode()}"'
    )
    return headers


def signing_string(headers: dict[str, str], method: str, target: str) -> str:
    """The string a server rebuilds for the SDK's default header list."""
    lines = [
        f"host: {headers['host']}",
        f"date: {headers['date']}",
        f"request-target: {method.lower()} {target}",
    ]
    if "digest" in headers:
        lines.append(f"digest: {headers['digest']}")
    lines.append(f"v-c-merchant-id: {headers['v-c-merchant-id']}")
    return "\n".join(lines)


def new_secret() -> str:
    """A base64 shared secret nobody registered."""
    return base64.b64encode(uuid.uuid4().bytes + uuid.uuid4().bytes).decode()


# JWT -------------------------------------------------------------------------


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def private_key(registration: Registration) -> rsa.RSAPrivateKey:
    """The merchant's JWT signing key, from the P12 opentms generated."""
    assert registration.p12 is not None
    assert registration.p12_password is not None
    key, _, _ = pkcs12.load_key_and_certificates(
        registration.p12, registration.p12_password.encode()
    )
    assert isinstance(key, rsa.RSAPrivateKey)
    return key


def new_private_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def certificate_der_b64(pem: bytes) -> str:
    certificate = x509.load_pem_x509_certificate(pem)
    return base64.b64encode(certificate.public_bytes(serialization.Encoding.DER)).decode()


def jwt_claims(
    merchant_id: str,
    method: str,
    target: str,
    body: bytes = b"",
    *,
    host: str = HOST,
    **overrides: Any,
) -> dict[str, Any]:
    """The claims of the current (v2) SDK format; ``None`` overrides remove."""
    now = int(time.time())
    claims: dict[str, Any] = {
        "iat": now,
        "exp": now + 120,
        "request-method": method.upper(),
        "request-host": host,
        "request-resource-path": target,
        "iss": merchant_id,
        "jti": str(uuid.uuid4()),
        "v-c-jwt-version": "2",
        "v-c-merchant-id": merchant_id,
    }
    if method.upper() in ("POST", "PUT", "PATCH"):
        claims["digest"] = digest_of(body)
        claims["digestAlgorithm"] = "SHA-256"
    claims.update(overrides)
    return {name: value for name, value in claims.items() if value is not None}


def encode_jwt(
    header: dict[str, Any],
    claims: dict[str, Any],
    *,
    key: rsa.RSAPrivateKey | None = None,
    secret: str | None = None,
    raw_secret: bytes | None = None,
) -> str:
    """A compact JWS of ``header`` and ``claims``: RS256 with ``key``, HS256
    with the base64 ``secret`` (or the ``raw_secret`` bytes), else an empty
    signature (``alg: none``)."""
    signing_input = b64url(json.dumps(header).encode()) + "." + b64url(json.dumps(claims).encode())
    if key is not None:
        signature = key.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
    elif secret is not None or raw_secret is not None:
        hmac_key = raw_secret if secret is None else base64.b64decode(secret)
        assert hmac_key is not None
        signature = hmac.new(hmac_key, signing_input.encode(), hashlib.sha256).digest()
    else:
        signature = b""
    return signing_input + "." + b64url(signature)


def bearer(token: str) -> dict[str, str]:
    return {"authorization": f"Bearer {token}"}


# Raw ASGI --------------------------------------------------------------------


def call_asgi(
    app: ASGIApp,
    method: str,
    target: str,
    headers: Sequence[tuple[str, str]],
    body: bytes = b"",
    *,
    declare_length: bool = True,
) -> tuple[int, dict[str, str], bytes]:
    """One request straight into the ASGI app, header names exactly as given
    (httpx lower-cases them), the body in 4 KiB chunks (with no
    ``Content-Length`` unless ``declare_length``), as an HTTP/1.1 server would
    deliver them. Returns status, headers (lower-case names) and body."""
    path, _, query = target.partition("?")
    scope: dict[str, Any] = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": query.encode(),
        "root_path": "",
        "headers": [(name.encode(), value.encode()) for name, value in headers],
        "client": ("127.0.0.1", 1234),
        "server": (HOST, 80),
    }
    if declare_length:
        scope["headers"].append((b"Content-Length", str(len(body)).encode()))
    sent: list[Message] = []
    pending = [body[at : at + 4096] for at in range(0, len(body), 4096)] or [b""]

    async def receive() -> Message:
        if not pending:
            return {"type": "http.disconnect"}
        chunk = pending.pop(0)
        return {"type": "http.request", "body": chunk, "more_body": bool(pending)}

    async def send(message: Message) -> None:
        sent.append(message)

    async def run() -> None:
        await app(scope, receive, send)

    anyio.run(run)
    start = next(m for m in sent if m["type"] == "http.response.start")
    content = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    response_headers = {
        name.decode("latin-1").lower(): value.decode("latin-1") for name, value in start["headers"]
    }
    return start["status"], response_headers, content
