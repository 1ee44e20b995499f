"""A real ``opentms serve`` subprocess on a free port, with one merchant
registered by ``opentms merchants create`` (its credentials bundle written)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

MERCHANT = "client_real"


@dataclass(frozen=True)
class Served:
    url: str
    bundle: Path
    log_file: Path


def _opentms() -> str:
    return str(Path(sys.executable).parent / "opentms")


def _environment() -> dict[str, str]:
    # Only the temporary data directory counts, never the developer's settings.
    return {k: v for k, v in os.environ.items() if not k.startswith("OPENTMS_")}


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _healthy(process: subprocess.Popen[bytes], url: str, seconds: float = 30) -> bool:
    deadline = time.monotonic() + seconds
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


@contextmanager
def serve(root: Path) -> Iterator[Served]:
    """Run the server until the block ends; a port taken in the meantime is
    retried on another one."""
    data_dir, log_file, bundles = root / "data", root / "server.log", root / "bundles"
    for _ in range(3):
        url = f"http://127.0.0.1:{_free_port()}"
        with log_file.open("ab") as log:
            process = subprocess.Popen(
                [_opentms(), "serve", f"--port={url.rsplit(':', 1)[1]}", f"--data-dir={data_dir}"],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=_environment(),
            )
        if _healthy(process, url):
            break
        process.terminate()
        process.wait(10)
    else:
        raise RuntimeError("opentms serve did not start:\n" + log_file.read_text()[-4000:])
    try:
        subprocess.run(
            [
                *(_opentms(), "merchants", "create", MERCHANT, "--out", str(bundles)),
                *(f"--data-dir={data_dir}", "--server-url", url),
            ],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            env=_environment(),
            timeout=60,
            check=True,
        )
        yield Served(url, bundles / f"{MERCHANT}.json", log_file)
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
