"""A real ``opentms serve`` subprocess in sandbox mode for the sandbox tests:
any number of workers, SQLite in a temporary directory or a fresh
PostgreSQL schema, a known admin token, extra ``serve`` options."""

from __future__ import annotations

import secrets
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
    admin_token: str
    data_dir: Path
    log_file: Path

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
) -> Iterator[Served]:
    """``opentms serve`` with ``workers`` processes in ``root``, healthy, and
    stopped afterwards."""
    token = secrets.token_urlsafe(24)
    data_dir, log_file = root / "data", root / "server.log"
    env = {**server_environment(), "OPENTMS_ADMIN_TOKEN": token, **(environment or {})}
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
                yield Served(url, token, data_dir, log_file)
            finally:
                stop(process)
            return
        stop(process)
    pytest.fail(
        f"opentms serve did not become healthy; its log ends:\n{log_file.read_text()[-4000:]}"
    )
