"""Helpers of the robustness tests: real ``opentms serve`` processes (on SQLite
or on a PostgreSQL schema shared by several of them), merchants registered with
``opentms merchants create`` and read back from their credentials bundles,
payment credentials opened with the merchant's key, raw HTTP over a socket,
and the figures each test reports at the end of the run."""

from __future__ import annotations

import contextlib
import functools
import json
import os
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from jwcrypto.jwe import JWE
from jwcrypto.jwk import JWK

from opentms.client import HTTPSignatureAuth, JWTAuth
from tests.api import signing
from tests.conformance.server import free_port, opentms_executable, server_environment, stop
from tests.support import backend_database_url

JSON = dict[str, Any]
II = "/tms/v1/instrumentidentifiers"
CUSTOMERS = "/tms/v2/customers"
SIMULATIONS = "/opentms/v1/simulations/authorizations"
EXPIRY = {"expirationMonth": "12", "expirationYear": "2031"}
STARTUP_SECONDS = 30
START_ATTEMPTS = 3

# Figures of the run, printed under "opentms robustness figures" at its end
# (tests/robustness/conftest.py): (title, {name: value}).
FIGURES: list[tuple[str, dict[str, object]]] = []


def report(title: str, **figures: object) -> None:
    FIGURES.append((title, figures))


def credentials_path(token_id: str, version: int = 2) -> str:
    return f"/tms/v{version}/tokens/{token_id}/payment-credentials"


# Servers ------------------------------------------------------------------------------------------


@contextlib.contextmanager
def database(root: Path) -> Iterator[dict[str, str]]:
    """The database settings of a server under ``root``: SQLite in
    ``root/data``, or in the PostgreSQL pass a fresh schema on
    OPENTMS_TEST_POSTGRES_URL (dropped afterwards) with the master key in
    ``root``."""
    settings = {"data_dir": str(root / "data")}
    with backend_database_url("opentms_robust") as url:
        if url is not None:
            settings["database_url"] = url
            settings["master_key_file"] = str(root / "master.key")
        yield settings


def environment(**settings: str) -> dict[str, str]:
    """The caller's environment without its OPENTMS_* settings, plus
    ``OPENTMS_<NAME>`` for each keyword (``database_url=...``)."""
    env = server_environment()
    env.update({f"OPENTMS_{name.upper()}": value for name, value in settings.items()})
    return env


@dataclass
class Server:
    """One ``opentms serve`` process (a single uvicorn worker: the process
    that serves is the one started, so its pid is the server's)."""

    process: subprocess.Popen[bytes]
    port: int
    log_file: Path
    env: dict[str, str] = field(repr=False)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        return self.process.pid

    def alive(self) -> bool:
        return self.process.poll() is None

    def rss_kib(self) -> int:
        """Resident memory of the server process, from /proc."""
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        raise AssertionError(f"no VmRSS for pid {self.pid}")

    def open_fds(self) -> int:
        return len(os.listdir(f"/proc/{self.pid}/fd"))

    def healthy(self) -> bool:
        try:
            return httpx.get(f"{self.url}/healthz", timeout=5.0).status_code == 200
        except httpx.TransportError:
            return False

    def kill9(self) -> None:
        """SIGKILL: no shutdown, no flush, no cleanup."""
        os.kill(self.pid, signal.SIGKILL)
        self.process.wait(timeout=30)

    def stop(self) -> None:
        if self.alive():
            stop(self.process)

    def errors_logged(self, limit: int = 20) -> str:
        lines = self.log_file.read_text(errors="replace").splitlines()
        return "\n".join([line for line in lines if " ERROR " in line][-limit:])


def start_server(log_file: Path, env: dict[str, str]) -> Server:
    """``opentms serve`` on a free port with ``env``; waits for /healthz. A
    port taken between choosing and binding it makes the server exit; then
    another is tried."""
    for _ in range(START_ATTEMPTS):
        port = free_port()
        with log_file.open("ab") as log:
            process = subprocess.Popen(
                [str(opentms_executable()), "serve", f"--port={port}"],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=env,
            )
        server = Server(process, port, log_file, env)
        deadline = time.monotonic() + STARTUP_SECONDS
        while time.monotonic() < deadline and server.alive():
            if server.healthy():
                return server
            time.sleep(0.05)
        server.stop()
    tail = log_file.read_text(errors="replace")[-4000:]
    pytest.fail(f"opentms serve did not become healthy; its log ends:\n{tail}")


def run_cli(env: dict[str, str], *args: str) -> str:
    """``opentms ARGS`` with ``env``; its stdout, or a test failure."""
    done = subprocess.run(
        [str(opentms_executable()), *args],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    if done.returncode != 0:
        pytest.fail(f"opentms {' '.join(args)} exited {done.returncode}:\n{done.stderr}")
    return done.stdout


# Merchants ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BundleMerchant:
    """A merchant as its credentials bundle (``<id>.json`` and key files) describes it."""

    id: str
    profile_id: str
    key_id: str
    shared_secret: str
    jwt_kid: str
    jwt_key: rsa.RSAPrivateKey
    jwt_certificate_der: bytes
    credentials_kid: str
    credentials_key_pem: bytes

    @property
    def merchant_id(self) -> str:
        return self.id

    def signature_auth(self) -> HTTPSignatureAuth:
        return HTTPSignatureAuth(self.id, self.key_id, self.shared_secret)

    def jwt_auth(self) -> JWTAuth:
        return JWTAuth(self.id, self.jwt_kid, private_key=self.jwt_key)

    def hs256_auth(self) -> JWTAuth:
        return JWTAuth(self.id, self.key_id, shared_secret=self.shared_secret)

    def auth(self, mode: str) -> httpx.Auth:
        return {
            "signature": self.signature_auth,
            "jwt": self.jwt_auth,
            "hs256": self.hs256_auth,
        }[mode]()


def load_bundle(directory: Path, merchant_id: str) -> BundleMerchant:
    document = json.loads((directory / f"{merchant_id}.json").read_text())
    jwt = document["jwt"]
    key, certificate, _ = pkcs12.load_key_and_certificates(
        (directory / jwt["p12File"]).read_bytes(), jwt["p12Password"].encode()
    )
    assert isinstance(key, rsa.RSAPrivateKey)
    assert certificate is not None
    credentials = document["paymentCredentials"]
    return BundleMerchant(
        id=document["merchantId"],
        profile_id=document["defaultProfileId"],
        key_id=document["httpSignature"]["keyId"],
        shared_secret=document["httpSignature"]["sharedSecret"],
        jwt_kid=jwt["kid"],
        jwt_key=key,
        jwt_certificate_der=certificate.public_bytes(serialization.Encoding.DER),
        credentials_kid=credentials["kid"],
        credentials_key_pem=(directory / credentials["privateKeyFile"]).read_bytes(),
    )


def register_merchant(env: dict[str, str], merchant_id: str, out: Path) -> BundleMerchant:
    """``opentms merchants create`` against the database of ``env``."""
    run_cli(env, "merchants", "create", merchant_id, "--out", str(out))
    return load_bundle(out, merchant_id)


@dataclass(frozen=True)
class Deployment:
    """A running server and two merchants registered on it."""

    server: Server
    merchant: BundleMerchant
    other: BundleMerchant


def client(server: Server, merchant: BundleMerchant, mode: str = "signature") -> httpx.Client:
    return httpx.Client(base_url=server.url, auth=merchant.auth(mode), timeout=30.0)


# Payment credentials ------------------------------------------------------------------------------


@functools.lru_cache(maxsize=16)
def _jwk(pem: bytes) -> Any:
    return JWK.from_pem(pem)


def open_credentials(response: httpx.Response, merchant: BundleMerchant) -> JSON:
    """The decrypted payload of a 201 payment-credentials answer."""
    assert response.status_code == 201, response.text
    assert response.headers["content-type"].startswith("application/jose")
    token = JWE()
    token.deserialize(response.text, key=_jwk(merchant.credentials_key_pem))
    payload: JSON = json.loads(bytes(token.payload))
    return payload


def presentation(tokenized: JSON) -> JSON:
    """An authorisation for decrypted ``tokenizedCard`` credentials."""
    return {
        "tokenNumber": tokenized["number"],
        "expirationMonth": tokenized["expirationMonth"],
        "expirationYear": tokenized["expirationYear"],
        "cryptogram": tokenized["cryptogram"],
    }


def create_visa_customer(http: httpx.Client, pan: str) -> str:
    """A customer whose default payment instrument is the Visa card ``pan``;
    its id is a token that payment credentials can be asked for."""
    customer = http.post(CUSTOMERS, json={"buyerInformation": {"merchantCustomerID": "rb"}})
    assert customer.status_code == 201, customer.text
    customer_id: str = customer.json()["id"]
    body = {
        "card": {**EXPIRY, "type": "001"},
        "instrumentIdentifier": {"card": {"number": pan}},
    }
    pi = http.post(f"{CUSTOMERS}/{customer_id}/payment-instruments", json=body)
    assert pi.status_code == 201, pi.text
    assert pi.json()["default"] is True
    return customer_id


# Raw HTTP -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RawResponse:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


def parse_response(data: bytes) -> RawResponse:
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    assert lines[0].startswith("HTTP/1.1 "), data[:200]
    status = int(lines[0].split()[1])
    headers: dict[str, str] = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    if headers.get("transfer-encoding") == "chunked":
        body = _unchunk(body)
    return RawResponse(status, headers, body)


def _unchunk(data: bytes) -> bytes:
    out = b""
    while data:
        size_line, _, data = data.partition(b"\r\n")
        size = int(size_line.split(b";")[0], 16)
        if size == 0:
            break
        out, data = out + data[:size], data[size + 2 :]
    return out


def raw_exchange(port: int, request: bytes, timeout: float = 30.0) -> RawResponse:
    """Send ``request`` (bytes as they go on the wire) on a new connection and
    read the answer until the server closes it (send ``Connection: close``).
    A server that answers before reading everything may reset the connection
    while we still send; the answer is read while sending (on another thread),
    and what arrived before the reset is what counts."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:

        def send_all() -> None:
            with contextlib.suppress(OSError):
                sock.sendall(request)

        sender = threading.Thread(target=send_all, name="raw-sender", daemon=True)
        sender.start()
        chunks: list[bytes] = []
        while True:
            try:
                chunk = sock.recv(65536)
            except ConnectionResetError:
                break
            if not chunk:
                break
            chunks.append(chunk)
        sender.join(timeout=timeout)
    data = b"".join(chunks)
    assert data, "the server closed the connection without an answer"
    return parse_response(data)


def wire_request(
    method: str,
    target: str,
    headers: dict[str, str],
    body: bytes = b"",
    *,
    chunk_size: int | None = None,
) -> bytes:
    """An HTTP/1.1 request as bytes, ``Connection: close``; the body with a
    ``Content-Length``, or chunked in ``chunk_size`` pieces."""
    lines = [f"{method} {target} HTTP/1.1", "Connection: close"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    if chunk_size is None:
        if body or method in ("POST", "PUT", "PATCH"):
            lines.append(f"Content-Length: {len(body)}")
        payload = body
    else:
        lines.append("Transfer-Encoding: chunked")
        pieces = [body[at : at + chunk_size] for at in range(0, len(body), chunk_size)]
        payload = b"".join(b"%x\r\n%s\r\n" % (len(p), p) for p in pieces) + b"0\r\n\r\n"
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + payload


# Hand-made credentials ----------------------------------------------------------------------------


def signature_headers(
    merchant: BundleMerchant,
    host: str,
    method: str,
    target: str,
    body: bytes = b"",
    **ingredients: Any,
) -> dict[str, str]:
    """``tests.api.signing.signature_headers`` for a bundle's merchant and a
    real server's ``host``; each keyword replaces one ingredient."""
    return signing.signature_headers(merchant, method, target, body, host=host, **ingredients)


def jwt_claims(
    merchant_id: str, host: str, method: str, target: str, body: bytes = b"", **overrides: Any
) -> JSON:
    """The claims of the current (v2) SDK JWT; ``None`` overrides remove one."""
    return signing.jwt_claims(merchant_id, method, target, body, host=host, **overrides)


def encode_jwt(
    header: JSON,
    claims: JSON,
    *,
    key: rsa.RSAPrivateKey | None = None,
    secret: bytes | None = None,
) -> str:
    """A compact JWS: RS256 with ``key``, HS256 with the raw ``secret`` bytes,
    else an empty signature."""
    return signing.encode_jwt(header, claims, key=key, raw_secret=secret)


class RequestsSignatureAuth:
    """HTTP Signature for a ``requests`` session (what schemathesis sends
    with): called on the prepared request, so the digest covers the exact body
    that goes on the wire. The credentials schemathesis generates for the
    document's security schemes (a random bearer token or Signature) are
    replaced. Counts the requests it signs."""

    def __init__(self, merchant: BundleMerchant) -> None:
        self.merchant = merchant
        self.signed = 0

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        body = request.body or b""
        if isinstance(body, str):
            body = body.encode()
        assert isinstance(body, bytes), "schemathesis sends bodies as bytes or text"
        url = str(request.url)
        method = str(request.method)
        headers = signature_headers(
            self.merchant, urlsplit(url).netloc, method, request.path_url, body
        )
        request.headers.pop("authorization", None)
        request.headers.update(headers)
        self.signed += 1
        return request
