"""A real ``opentms serve`` in a subprocess, and the ``opentms`` CLI, for the
conformance tests (see ``conftest.py`` for the fixtures)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

MERCHANT = "conformance_a"
OTHER_MERCHANT = "conformance_b"
STARTUP_SECONDS = 30
START_ATTEMPTS = 3


@dataclass(frozen=True)
class RunningServer:
    """An ``opentms serve`` subprocess and where its state lives."""

    url: str
    data_dir: Path
    log_file: Path

    def log_size(self) -> int:
        return self.log_file.stat().st_size

    def errors_logged(self, since: int = 0, limit: int = 20) -> str:
        """The ERROR lines (one per failed request) the server logged after
        byte ``since`` of its log, for failure messages."""
        with self.log_file.open("rb") as log:
            log.seek(since)
            lines = log.read().decode(errors="replace").splitlines()
        return "\n".join([line for line in lines if " ERROR " in line][-limit:])


@dataclass(frozen=True)
class MerchantBundles:
    """Merchants registered on the server; ``directory`` holds ``<id>.json``,
    ``<id>.p12`` and the PEM files that ``opentms merchants create`` wrote."""

    directory: Path
    merchant_id: str
    other_merchant_id: str
    extra_profile_id: str


def opentms_executable() -> Path:
    """The ``opentms`` console script of the interpreter running the tests."""
    script = Path(sys.executable).parent / "opentms"
    if not script.exists():
        pytest.fail(f"{script} is missing; install the project: pip install -e '.[dev]'")
    return script


def server_environment() -> dict[str, str]:
    """The caller's environment without OPENTMS_* settings: the server under
    test uses only its temporary data directory, never the developer's database."""
    return {k: v for k, v in os.environ.items() if not k.startswith("OPENTMS_")}


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def run_cli(*args: str) -> str:
    """Run ``opentms ARGS`` to completion; its stdout, or a test failure."""
    done = subprocess.run(
        [str(opentms_executable()), *args],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        env=server_environment(),
        timeout=60,
        check=False,
    )
    if done.returncode != 0:
        pytest.fail(f"opentms {' '.join(args)} exited {done.returncode}:\n{done.stderr}")
    return done.stdout


def start_server(data_dir: Path, log_file: Path) -> tuple[subprocess.Popen[bytes], str]:
    """Start ``opentms serve`` and wait for /healthz. A port taken between
    choosing it and binding it makes the server exit; then try another."""
    for _ in range(START_ATTEMPTS):
        port = free_port()
        with log_file.open("ab") as log:
            command = [str(opentms_executable()), "serve", f"--port={port}"]
            process = subprocess.Popen(
                [*command, f"--data-dir={data_dir}"],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=server_environment(),
            )
        url = f"http://127.0.0.1:{port}"
        if wait_healthy(process, url):
            return process, url
        stop(process)
    tail = log_file.read_text(errors="replace")[-4000:]
    pytest.fail(f"opentms serve did not become healthy; its log ends:\n{tail}")


def wait_healthy(process: subprocess.Popen[bytes], url: str) -> bool:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            return False
        try:
            if httpx.get(f"{url}/healthz", timeout=1.0).status_code == 200:
                return True
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    return False


def stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
