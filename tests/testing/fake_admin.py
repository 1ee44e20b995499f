# ruff: noqa: ARG002 - the handlers share one signature, arguments they need not read included.
"""A fake of the sandbox admin API (the contract of docs/sandbox.md), for the
controls whose server side is built elsewhere: a real HTTP server (uvicorn in
a thread) over an in-memory state, that records every request it gets, so the
CLI's and ``opentms.testing``'s tests can check what they send and how they
show the answers. The clock and everything real are tested against
``opentms serve`` itself."""

from __future__ import annotations

import base64
import contextlib
import fnmatch
import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from opentms.crypto import certificates
from tests.conformance.server import free_port

TOKEN = "fake-admin-token-0123456789"
PREFIX = "/opentms/v1/sandbox"


@dataclass(frozen=True)
class Received:
    method: str
    path: str
    query: dict[str, str]
    content_type: str | None
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body) if self.body else None


@dataclass
class FakeState:
    requests: list[Received] = field(default_factory=list)
    merchants: dict[str, dict[str, Any]] = field(default_factory=dict)
    snapshots: dict[str, dict[str, Any]] = field(default_factory=dict)
    journal: list[dict[str, Any]] = field(default_factory=list)
    faults: dict[str, dict[str, Any]] = field(default_factory=dict)
    offset: float = 0.0
    next_fault: int = 1

    def counts(self) -> dict[str, int]:
        return {"merchants": len(self.merchants), "journal": len(self.journal)}


def error(status: int, kind: str, message: str, name: str | None = None) -> JSONResponse:
    details = [{"name": name, "location": "body"}] if name else []
    body = {"errors": [{"type": kind, "message": message, "details": details}]}
    return JSONResponse(body, status_code=status)


def _iso(moment: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(moment))


def _bundle(merchant_id: str, key_id: str | None, secret: str | None) -> dict[str, Any]:
    """A bundle of real credentials material, as ``POST /merchants`` answers."""
    _, mle_pem = certificates.new_request_mle_keys()
    p12 = certificates.build_merchant_p12(merchant_id, certificates.load_certificate_pem(mle_pem))
    credentials = certificates.new_credentials_key()
    assert credentials.private_key_pem is not None
    return {
        "merchantId": merchant_id,
        "defaultProfileId": f"{merchant_id}-profile",
        "httpSignature": {
            "keyId": key_id or f"{merchant_id}-key",
            "sharedSecret": secret or base64.b64encode(b"s" * 32).decode(),
        },
        "jwt": {
            "kid": p12.kid,
            "p12Base64": base64.b64encode(p12.p12).decode(),
            "p12Password": p12.password,
            "keyAlias": merchant_id,
        },
        "paymentCredentials": {
            "kid": credentials.kid,
            "publicKeyPem": credentials.public_key_pem.decode(),
            "privateKeyPem": credentials.private_key_pem.decode(),
        },
    }


class FakeAdmin:
    """The handlers; ``state`` is what the tests look at and prepare."""

    def __init__(self) -> None:
        self.state = FakeState()

    async def endpoint(self, request: Request) -> Response:
        body = await request.body()
        # As sent, percent-encoding kept: the tests check what reached the wire.
        path = request.scope["raw_path"].decode().removeprefix(PREFIX)
        self.state.requests.append(
            Received(
                request.method,
                path,
                dict(request.query_params),
                request.headers.get("content-type"),
                body,
            )
        )
        if request.headers.get("authorization") != f"Bearer {TOKEN}":
            return error(401, "authenticationFailed", "The admin API takes a bearer token.")
        answer = self.route(request.method, path.strip("/").split("/"), body, request)
        return Response(status_code=204) if answer is None else answer

    def route(
        self, method: str, parts: list[str], body: bytes, request: Request
    ) -> Response | None:
        document = (
            json.loads(body)
            if body and "json" in (request.headers.get("content-type") or "")
            else {}
        )
        head, rest = parts[0], parts[1:]
        handlers = {
            "": self.status,
            "reset": self.reset,
            "snapshots": self.snapshots,
            "seed": self.seed,
            "merchants": self.merchants,
            "journal": self.journal,
            "faults": self.faults,
            "clock": self.clock,
        }
        handler = handlers.get(head)
        if handler is None:
            return error(404, "notFound", f"No TMS resource at {PREFIX}/{'/'.join(parts)}.")
        return handler(method, rest, document, request)

    def status(self, method: str, rest: list[str], doc: Any, request: Request) -> Response:
        clock = {"now": _iso(time.time() + self.state.offset), "offsetSeconds": self.state.offset}
        return JSONResponse(
            {"mode": "sandbox", "generation": 7, "clock": clock, "deterministic": False}
        )

    def reset(self, method: str, rest: list[str], doc: Any, request: Request) -> Response:
        merchant = doc.get("merchantId")
        deleted = {"journal": len(self.state.journal), "instrument_identifiers": 3}
        self.state.journal.clear()
        if doc.get("includeMerchants"):
            deleted["merchants"] = len(self.state.merchants)
            self.state.merchants.clear()
        reset = {"merchantId": merchant, "includeMerchants": bool(doc.get("includeMerchants"))}
        return JSONResponse({"reset": reset | {"deleted": deleted}})

    def snapshots(
        self, method: str, rest: list[str], doc: Any, request: Request
    ) -> Response | None:
        snaps = self.state.snapshots
        if not rest and method == "POST":
            name = doc.get("name")
            if name in snaps:
                return error(409, "conflict", f"A snapshot named {name} exists.", "name")
            snaps[name] = {
                "name": name,
                "createdAt": _iso(time.time()),
                "counts": self.state.counts(),
            }
            return JSONResponse(snaps[name], status_code=201)
        if not rest:
            return JSONResponse({"snapshots": list(snaps.values())})
        if rest[0] not in snaps:
            return error(404, "notFound", f"No snapshot named {rest[0]}.")
        if method == "DELETE":
            del snaps[rest[0]]
            return None
        if rest[1:] == ["restore"]:
            restored = snaps[rest[0]]
            return JSONResponse(
                {"name": rest[0], "restoredAt": _iso(time.time()), "counts": restored["counts"]}
            )
        return JSONResponse(snaps[rest[0]])

    def seed(self, method: str, rest: list[str], doc: Any, request: Request) -> Response:
        merchants = (
            [m["merchantId"] for m in doc.get("merchants", [])] if doc else ["yaml_merchant"]
        )
        created = {"merchants": len(merchants), "customers": 2}
        return JSONResponse({"merchants": merchants, "created": created, "unchanged": {}})

    def merchants(self, method: str, rest: list[str], doc: Any, request: Request) -> Response:
        merchant_id = doc.get("merchantId")
        if merchant_id in self.state.merchants:
            return error(409, "conflict", f"Merchant {merchant_id} exists.", "merchantId")
        bundle = _bundle(merchant_id, doc.get("keyId"), doc.get("sharedSecret"))
        self.state.merchants[merchant_id] = bundle
        return JSONResponse(bundle, status_code=201)

    def journal(self, method: str, rest: list[str], doc: Any, request: Request) -> Response | None:
        if method == "DELETE":
            self.state.journal.clear()
            return None
        if rest:
            found = [e for e in self.state.journal if str(e["id"]) == rest[0]]
            return JSONResponse(found[0]) if found else error(404, "notFound", "No such entry.")
        query = request.query_params
        entries = [
            e
            for e in self.state.journal
            if all(
                str(e.get(k)) == query[k] for k in ("merchantId", "method", "status") if k in query
            )
            and fnmatch.fnmatchcase(e["path"], query.get("path", "*"))
        ]
        limit = int(query.get("limit", 100))
        return JSONResponse({"entries": entries[:limit], "total": len(entries)})

    def faults(self, method: str, rest: list[str], doc: Any, request: Request) -> Response | None:
        faults = self.state.faults
        if not rest and method == "POST":
            if "status" in doc and "connection" in doc:
                return error(
                    400, "invalidRequest", "Give status or connection, not both.", "connection"
                )
            fault_id = f"f{self.state.next_fault}"
            self.state.next_fault += 1
            faults[fault_id] = doc | {"id": fault_id, "hits": 0, "remaining": doc.get("times")}
            return JSONResponse(faults[fault_id], status_code=201)
        if not rest and method == "DELETE":
            faults.clear()
            return None
        if not rest:
            return JSONResponse({"faults": list(faults.values())})
        if rest[0] not in faults:
            return error(404, "notFound", f"No fault rule {rest[0]}.")
        if method == "DELETE":
            del faults[rest[0]]
            return None
        return JSONResponse(faults[rest[0]])

    def clock(self, method: str, rest: list[str], doc: Any, request: Request) -> Response:
        if method == "POST" and "advance" in doc:
            self.state.offset += (
                float(doc["advance"]) if not isinstance(doc["advance"], str) else 86400
            )
        elif method == "DELETE":
            self.state.offset = 0.0
        now = time.time()
        answer = {
            "now": _iso(now + self.state.offset),
            "realNow": _iso(now),
            "offsetSeconds": self.state.offset,
        }
        return JSONResponse(answer)


@dataclass(frozen=True)
class RunningFake:
    url: str
    fake: FakeAdmin

    @property
    def state(self) -> FakeState:
        return self.fake.state

    def last(self) -> Received:
        return self.state.requests[-1]


@contextlib.contextmanager
def running_fake_admin() -> Iterator[RunningFake]:
    """The fake on a free port of 127.0.0.1 for the ``with`` block."""
    fake = FakeAdmin()
    methods = ["GET", "POST", "DELETE", "PUT", "PATCH"]
    app = Starlette(routes=[Route(PREFIX + "{rest:path}", fake.endpoint, methods=methods)])
    port = free_port()
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, log_level="warning", lifespan="off", ws="none"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.01)
    assert server.started, "the fake admin server did not start"
    try:
        yield RunningFake(f"http://127.0.0.1:{port}", fake)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
