"""A real ``opentms serve`` subprocess in sandbox mode for the sandbox tests:
any number of workers, SQLite in a data directory or a PostgreSQL schema
(``tests.support.fresh_postgres_schema``), its own admin token or a given
one, extra ``serve`` options and environment."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.conformance.server import (
    START_ATTEMPTS,
    free_port,
    opentms_executable,
    server_environment,
    stop,
    wait_healthy,
)


@dataclass(frozen=True)
class Served:
    url: str
    port: int
    pid: int
    data_dir: Path
    log_file: Path
    given_token: str | None = None

    @property
    def admin_token(self) -> str:
        """The admin token given to the server, or the one it made in its data
        directory (a vault has none)."""
        return self.given_token or (self.data_dir / "admin-token").read_text().strip()

    def admin(self) -> httpx.Client:
        """A client of the admin API (base URL /opentms/v1/sandbox)."""
        return httpx.Client(
            base_url=f"{self.url}/opentms/v1/sandbox",
            headers={"authorization": f"Bearer {self.admin_token}"},
            timeout=30,
        )

    def log(self) -> str:
        return self.log_file.read_text(errors="replace")


@contextmanager
def serve(
    root: Path,
    *,
    workers: int = 1,
    database_url: str | None = None,
    options: tuple[str, ...] = (),
    environment: dict[str, str] | None = None,
    admin_token: str | None = None,
    data_dir: Path | None = None,
) -> Iterator[Served]:
    """``opentms serve`` with ``workers`` processes, healthy, and stopped
    afterwards; its data in ``data_dir`` (``root/data`` unless given), its log
    in ``root/server.log``. ``admin_token`` is OPENTMS_ADMIN_TOKEN; without it
    the server makes its own (``admin-token`` in the data directory)."""
    data_dir = data_dir or root / "data"
    log_file = root / "server.log"
    env = {**server_environment(), **(environment or {})}
    if admin_token is not None:
        env["OPENTMS_ADMIN_TOKEN"] = admin_token
    if database_url:
        env["OPENTMS_DATABASE_URL"] = database_url
    for _ in range(START_ATTEMPTS):
        port = free_port()
        with log_file.open("ab") as log:
            process = subprocess.Popen(
                [
                    str(opentms_executable()),
                    "serve",
                    f"--port={port}",
                    f"--workers={workers}",
                    f"--data-dir={data_dir}",
                    *options,
                ],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=env,
            )
        url = f"http://127.0.0.1:{port}"
        if wait_healthy(process, url):
            try:
                yield Served(url, port, process.pid, data_dir, log_file, admin_token)
            finally:
                stop(process)
            return
        stop(process)
    pytest.fail(
        f"opentms serve did not become healthy; its log ends:\n{log_file.read_text()[-4000:]}"
    )
