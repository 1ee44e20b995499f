"""Faults against a real ``opentms serve --workers 2`` (SQLite in a temporary
data directory; ``tests/sandbox/server.py``): a ``times: 1`` rule fires once
in all across both worker processes; a reset or empty connection reaches an
httpx client as a transport error (and a raw socket as ECONNRESET or end of
stream); the official Python SDK raises on a fault and succeeds on the next
call."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conformance.test_python_sdk import python_sdk
from tests.sandbox.server import SandboxServer, run_driver, sandbox_server

__all__ = ["python_sdk", "sandbox_server"]  # fixtures

CUSTOMERS = "/tms/v2/customers"


@pytest.fixture(autouse=True)
def no_rules(sandbox_server: SandboxServer) -> None:
    with sandbox_server.admin() as admin:
        admin.delete("/faults").raise_for_status()


def add(server: SandboxServer, **rule: Any) -> dict[str, Any]:
    with server.admin() as admin:
        response = admin.post("/faults", json=rule)
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def test_times_one_fires_once_over_both_workers(sandbox_server: SandboxServer) -> None:
    rule = add(sandbox_server, method="POST", path=CUSTOMERS, status=503, times=1)

    def one(_: int) -> tuple[int, int]:
        return sandbox_server.post_on_own_connection(CUSTOMERS, {})

    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(one, range(40)))
    statuses = sorted(status for status, _ in answers)
    assert statuses == [201] * 39 + [503]
    # Both worker processes accepted some of the connections.
    workers = {worker for _, worker in answers}
    assert len(workers) == 2
    assert workers <= set(sandbox_server.children())
    with sandbox_server.admin() as admin:
        fetched = admin.get(f"/faults/{rule['id']}").json()
    assert (fetched["hits"], fetched["remaining"]) == (1, 0)


@pytest.mark.parametrize(
    ("connection", "error"),
    [("reset", httpx.ReadError), ("empty", httpx.RemoteProtocolError)],
)
def test_a_dropped_connection_is_a_transport_error_then_requests_succeed(
    sandbox_server: SandboxServer, connection: str, error: type[httpx.TransportError]
) -> None:
    add(sandbox_server, connection=connection, times=1)
    with sandbox_server.client() as client:
        with pytest.raises(httpx.TransportError) as raised:
            client.post(CUSTOMERS, json={})
        assert type(raised.value) is error
        assert client.post(CUSTOMERS, json={}).status_code == 201


def test_a_reset_is_a_tcp_reset(sandbox_server: SandboxServer) -> None:
    """Below httpx: the socket read fails with ECONNRESET, not end of stream."""
    add(sandbox_server, connection="reset", times=1)
    with sandbox_server.connect() as sock:
        sock.sendall(sandbox_server.raw("POST", CUSTOMERS, {}))
        with pytest.raises(ConnectionResetError):
            sock.recv(65536)


def test_an_empty_response_closes_without_a_byte(sandbox_server: SandboxServer) -> None:
    add(sandbox_server, connection="empty", times=1)
    with sandbox_server.connect() as sock:
        sock.sendall(sandbox_server.raw("POST", CUSTOMERS, {}))
        assert sock.recv(65536) == b""


@pytest.mark.conformance
def test_a_fault_makes_the_python_sdk_raise_and_the_next_call_succeeds(
    sandbox_server: SandboxServer, python_sdk: Path, tmp_path: Path
) -> None:
    add(sandbox_server, method="POST", path=CUSTOMERS, status=503, reason="SYSTEM_ERROR", times=1)
    first, second = run_driver(python_sdk, sandbox_server, tmp_path, "--scenario=twice")
    assert (first["ok"], first["status"], first["error"]) == (False, 503, "ApiException")
    assert json.loads(first["body"])["errors"][0]["reason"] == "SYSTEM_ERROR"
    assert (second["ok"], second["status"]) == (True, 201), second


@pytest.mark.conformance
def test_a_reset_makes_the_python_sdk_raise_and_the_next_call_succeeds(
    sandbox_server: SandboxServer, python_sdk: Path, tmp_path: Path
) -> None:
    add(sandbox_server, method="POST", path=CUSTOMERS, connection="reset", times=1)
    first, second = run_driver(python_sdk, sandbox_server, tmp_path, "--scenario=twice")
    assert first["ok"] is False
    assert first["status"] is None
    assert first["error"] == "ProtocolError", first
    assert (second["ok"], second["status"]) == (True, 201), second
