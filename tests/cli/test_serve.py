"""``opentms serve`` on an address it cannot listen on: one line naming the
address and the reason, before anything else, and exit status 3."""

from __future__ import annotations

import socket
import subprocess
from pathlib import Path

from opentms.cli.listen import ADDRESS_UNAVAILABLE
from tests.conformance.server import opentms_executable, server_environment


def serve(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(opentms_executable()), "serve", *args],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        env=server_environment(),
        timeout=60,
        check=False,
    )


def test_a_busy_port_is_one_line_and_exit_status_3(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = serve(f"--port={port}", f"--data-dir={tmp_path / 'data'}")
    assert done.returncode == ADDRESS_UNAVAILABLE == 3
    assert done.stdout == ""
    assert done.stderr.splitlines() == [
        f"opentms serve: cannot listen on 127.0.0.1:{port}: the address is already in use "
        "(another server listens there; stop it, or choose --port or --host)"
    ]
    # Checked before the database is touched.
    assert not (tmp_path / "data").exists()


def test_an_unknown_host_is_one_line_and_exit_status_3(tmp_path: Path) -> None:
    done = serve("--host=no-such-host.invalid", f"--data-dir={tmp_path / 'data'}")
    assert done.returncode == 3
    (line,) = done.stderr.splitlines()
    assert line.startswith("opentms serve: cannot listen on no-such-host.invalid:8080: ")
    assert "serving on" not in done.stdout + done.stderr
