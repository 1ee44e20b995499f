"""A real ``opentms serve --workers 2`` in sandbox mode for the fault and
outcome tests (SQLite in a temporary data directory, or the module's
PostgreSQL schema on OPENTMS_TEST_BACKEND=postgresql), a merchant made with
``opentms merchants create`` and ways to reach the server: admin and signed
clients, signed raw requests over a plain socket, and which worker process
holds a connection (from ``/proc``, Linux)."""

from __future__ import annotations

import http.client
import json
import os
import socket
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import httpx
import pytest

from opentms.client import HTTPSignatureAuth
from tests.conformance.server import opentms_executable, server_environment
from tests.conformance.test_python_sdk import run_sdk_driver
from tests.sandbox.served import Served, serve

MERCHANT = "sandbox_faults"
WORKERS = 2
DRIVER = "tests.sandbox.python_sdk_sandbox_driver"
DRIVER_SECONDS = 120


@dataclass(frozen=True, kw_only=True)
class SandboxServer(Served):
    bundle_dir: Path
    merchant_id: str

    def auth(self) -> HTTPSignatureAuth:
        bundle = json.loads((self.bundle_dir / f"{self.merchant_id}.json").read_text())
        signature = bundle["httpSignature"]
        return HTTPSignatureAuth(self.merchant_id, signature["keyId"], signature["sharedSecret"])

    def client(self, **headers: str) -> httpx.Client:
        return httpx.Client(base_url=self.url, auth=self.auth(), headers=headers, timeout=30)

    def signed(self, method: str, path: str, body: Any) -> tuple[dict[str, str], bytes]:
        """The headers and body of a request signed as the merchant."""
        request = httpx.Request(method, f"{self.url}{path}", json=body)
        signed = next(self.auth().sync_auth_flow(request))
        return dict(signed.headers), signed.content

    def connect(self) -> socket.socket:
        return socket.create_connection(("127.0.0.1", self.port), timeout=30)

    def raw(self, method: str, path: str, body: Any) -> bytes:
        """A signed request as bytes on the wire (HTTP/1.1)."""
        headers, content = self.signed(method, path, body)
        head = f"{method} {path} HTTP/1.1\r\n" + "".join(
            f"{k}: {v}\r\n" for k, v in headers.items()
        )
        return (head + "\r\n").encode() + content

    def post_on_own_connection(self, path: str, body: Any) -> tuple[int, int]:
        """POST on a new connection: the status and the pid of the worker
        process that accepted the connection."""
        headers, content = self.signed("POST", path, body)
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            connection.connect()
            assert connection.sock is not None
            client_port = connection.sock.getsockname()[1]
            connection.request("POST", path, content, headers)
            response = connection.getresponse()
            response.read()
            # The connection is still open (keep-alive): its socket is in the worker.
            return response.status, self.owner_of(client_port)
        finally:
            connection.close()

    def children(self) -> list[int]:
        """The server's child processes: its workers (and multiprocessing's helpers)."""
        children = Path(f"/proc/{self.pid}/task/{self.pid}/children").read_text().split()
        return [int(child) for child in children]

    def owner_of(self, client_port: int) -> int:
        """The worker holding the server's end of the connection from ``client_port``."""
        inode = _server_socket_inode(self.port, client_port)
        target = f"socket:[{inode}]"
        for worker in self.children():
            for fd in Path(f"/proc/{worker}/fd").iterdir():
                try:
                    if os.readlink(fd) == target:
                        return worker
                except OSError:
                    continue
        return 0


def _server_socket_inode(server_port: int, client_port: int) -> str:
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        local, remote, inode = fields[1], fields[2], fields[9]
        if int(local.split(":")[1], 16) == server_port and int(remote.split(":")[1], 16) == (
            client_port
        ):
            return inode
    return "-"


@pytest.fixture(scope="module")
def sandbox_server(
    tmp_path_factory: pytest.TempPathFactory,
    sandbox_data_dir: Path,
    sandbox_database_url: str | None,
) -> Iterator[SandboxServer]:
    """The server uses the module's database (SQLite in ``sandbox_data_dir``,
    or on OPENTMS_TEST_BACKEND=postgresql its fresh schema) and its data
    directory, whose master key and admin token the in-process app of the
    same module (``sandbox_app``) shares."""
    environment = server_environment()
    if sandbox_database_url is not None:
        environment["OPENTMS_DATABASE_URL"] = sandbox_database_url
    root = tmp_path_factory.mktemp("sandbox-server")
    data_dir, bundle_dir = sandbox_data_dir, root / "bundles"
    bundle_dir.mkdir()
    with serve(
        root, workers=WORKERS, database_url=sandbox_database_url, data_dir=data_dir
    ) as running:
        created = subprocess.run(
            [str(opentms_executable()), "merchants", "create", MERCHANT, "--out", str(bundle_dir),
             "--data-dir", str(data_dir), "--server-url", running.url],
            stdin=subprocess.DEVNULL, capture_output=True, text=True, env=environment,
            timeout=60, check=False,
        )  # fmt: skip
        if created.returncode != 0:
            pytest.fail(f"opentms merchants create failed:\n{created.stderr}")
        yield SandboxServer(
            **{field.name: getattr(running, field.name) for field in fields(running)},
            bundle_dir=bundle_dir,
            merchant_id=MERCHANT,
        )


def run_driver(
    python: Path, server: SandboxServer, workdir: Path, *arguments: str
) -> list[dict[str, Any]]:
    """Run the SDK driver (``python_sdk_sandbox_driver``) with the SDK venv's
    interpreter; its report, one entry per SDK call."""
    calls: list[dict[str, Any]] = run_sdk_driver(
        python,
        DRIVER,
        workdir,
        workdir / "report.json",
        f"--server-url={server.url}",
        f"--bundle-dir={server.bundle_dir}",
        f"--merchant={server.merchant_id}",
        *arguments,
        timeout=DRIVER_SECONDS,
    )
    return calls
