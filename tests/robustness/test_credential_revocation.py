"""A revocation reaches every server process at its next request.

A vault served by two workers (SQLite, or a PostgreSQL schema in that pass):
the merchant's first HTTP Signature key and JWT certificate are used over
connections until both workers are seen to have served them (each worker
looked them up, and caches them for 30 s); a re-exported bundle adds a second
key of each kind. Then ``opentms merchants keys revoke``, in a process of its
own, revokes the first two: every following request signed with them is a 401
in the TMS error envelope, on the kept-alive connections of both workers and on
new ones, while the second bundle's keys keep working on the same connections.

Which worker holds a connection is read from /proc (the socket's inode in
the worker's file descriptors), so the test knows both workers were hit
rather than hoping so.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from opentms.client import HTTPSignatureAuth, JWTAuth
from tests.robustness.support import (
    BundleMerchant,
    environment,
    load_bundle,
    register_merchant,
    report,
    run_cli,
)
from tests.sandbox.served import Served, serve
from tests.support import backend_database_url

WORKERS = 2
MAX_CONNECTIONS = 64  # to find both workers; a handful is usual
FRESH_REQUESTS = 20


def _children(pid: int) -> list[int]:
    found: list[int] = []
    for task in os.listdir(f"/proc/{pid}/task"):
        with open(f"/proc/{pid}/task/{task}/children") as children:
            found += [int(child) for child in children.read().split()]
    return found


def _socket_owners(pids: list[int]) -> dict[int, int]:
    """socket inode -> the pid (among ``pids``) whose descriptor holds it."""
    owners = {}
    for pid in pids:
        for fd in os.listdir(f"/proc/{pid}/fd"):
            try:
                link = os.readlink(f"/proc/{pid}/fd/{fd}")
            except OSError:
                continue  # closed meanwhile
            if link.startswith("socket:["):
                owners[int(link[8:-1])] = pid
    return owners


def worker_of(server: Served, client_port: int) -> int | None:
    """The worker pid serving the connection whose client end is ``client_port``."""
    owners = _socket_owners(_children(server.pid))
    with open("/proc/net/tcp") as table:
        next(table)
        for line in table:
            fields = line.split()
            local_port = int(fields[1].split(":")[1], 16)
            remote_port = int(fields[2].split(":")[1], 16)
            if local_port == server.port and remote_port == client_port:
                return owners.get(int(fields[9]))
    return None


def probe(client: httpx.Client, auth: httpx.Auth) -> httpx.Response:
    """A GET of an instrument identifier that does not exist: 404 once
    authenticated, 401 when the key is refused."""
    path = f"/tms/v1/instrumentidentifiers/{uuid.uuid4().hex.upper()}"
    return client.get(path, auth=auth)


def client_port(response: httpx.Response) -> int:
    stream = response.extensions["network_stream"]
    return int(stream.get_extra_info("client_addr")[1])


def auths(merchant: BundleMerchant) -> dict[str, httpx.Auth]:
    return {
        "signature": HTTPSignatureAuth(merchant.id, merchant.key_id, merchant.shared_secret),
        "hs256": JWTAuth(merchant.id, merchant.key_id, shared_secret=merchant.shared_secret),
        "jwt": JWTAuth(merchant.id, merchant.jwt_kid, private_key=merchant.jwt_key),
    }


@pytest.fixture
def deployment(tmp_path: Path) -> Iterator[tuple[Served, dict[str, str], Path]]:
    with backend_database_url("opentms_revoke") as url:
        data_dir = tmp_path / "data"
        settings = {"data_dir": str(data_dir), "mode": "vault"}
        if url is not None:
            settings["database_url"] = url
        env = environment(**settings)
        # The CLI makes the schema and the master key the workers read.
        register_merchant(env, "rotating", tmp_path / "old")
        with serve(
            tmp_path,
            workers=WORKERS,
            database_url=url,
            data_dir=data_dir,
            environment={"OPENTMS_MODE": "vault"},
        ) as server:
            yield server, env, tmp_path


def test_a_revoked_key_is_refused_by_every_worker_at_once(
    deployment: tuple[Served, dict[str, str], Path],
) -> None:
    server, env, root = deployment
    old = load_bundle(root / "old", "rotating")
    private_key = root / "old" / "rotating-credentials-private.pem"
    run_cli(
        env, "merchants", "bundle", "rotating", "--out", str(root / "new"),
        "--credentials-private-key", str(private_key),
    )  # fmt: skip
    new = load_bundle(root / "new", "rotating")
    old_auths, new_auths = auths(old), auths(new)

    # Kept-alive connections, one client each, until both workers served the
    # old keys (and so cached them).
    opened: list[httpx.Client] = []
    connections: dict[int, httpx.Client] = {}  # worker pid -> a connection it serves
    try:
        while len(connections) < WORKERS and len(opened) < MAX_CONNECTIONS:
            client = httpx.Client(
                base_url=server.url, timeout=30, limits=httpx.Limits(max_connections=1)
            )
            opened.append(client)
            for name, auth in old_auths.items():
                answered = probe(client, auth)
                assert answered.status_code == 404, (name, answered.text)
            worker = worker_of(server, client_port(answered))
            assert worker is not None
            connections.setdefault(worker, client)
        assert len(connections) == WORKERS, f"only {set(connections)} answered {len(opened)}"

        run_cli(env, "merchants", "keys", "revoke", "rotating", old.key_id)
        run_cli(env, "merchants", "keys", "revoke", "rotating", old.jwt_kid)

        refused = 0
        for worker, client in connections.items():
            for name, auth in old_auths.items():
                answered = probe(client, auth)
                assert worker_of(server, client_port(answered)) == worker
                assert answered.status_code == 401, (worker, name, answered.text)
                assert answered.json()["errors"][0]["reason"] == "unknown_key_id"
                refused += 1
            for name, auth in new_auths.items():
                assert probe(client, auth).status_code == 404, (worker, name)
    finally:
        for client in opened:
            client.close()

    # New connections (closed after each request, so spread over the workers).
    with httpx.Client(base_url=server.url, timeout=30, headers={"connection": "close"}) as fresh:
        for _ in range(FRESH_REQUESTS):
            for name, auth in old_auths.items():
                answered = probe(fresh, auth)
                assert answered.status_code == 401, (name, answered.text)
                assert answered.json()["errors"][0]["type"] == "authenticationFailed"
                refused += 1
            assert probe(fresh, new_auths["signature"]).status_code == 404
    report(
        "Credential revocation across workers",
        workers=len(connections),
        connections_opened=len(opened),
        refused_after_revocation=refused,
        accepted_after_revocation=0,
    )
