"""What the documentation tests share: a working directory laid out as the
README assumes (``.venv``, ``examples`` and, for the official SDK, ``sdk``)
with a fresh ``opentms serve`` started there as the quick start starts it
(no settings: the default data directory, under its own ``XDG_DATA_HOME``),
and the official SDK's virtualenv of the conformance tests."""

from __future__ import annotations

import contextlib
import fcntl
import json
import subprocess
import sysconfig
import venv
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conformance.server import free_port, opentms_executable, server_environment, stop
from tests.conformance.server import wait_healthy as healthy
from tests.conformance.test_python_sdk import (
    SDK_REQUIREMENTS,
    build_sdk_venv,
    sdk_venv_dir,
    venv_python,
)

REPOSITORY = Path(__file__).resolve().parents[2]
DOCUMENTED_URL = "http://127.0.0.1:8080"
SNIPPET_SECONDS = 120
START_ATTEMPTS = 3


@dataclass(frozen=True)
class Workspace:
    """A directory laid out as the README assumes, and the server it talks to."""

    directory: Path
    url: str
    env: dict[str, str]
    log_file: Path

    def localise(self, text: str) -> str:
        """``text`` with the documented address (serve's default) replaced by the server's."""
        host_port = self.url.split("://", 1)[1]
        return text.replace(DOCUMENTED_URL, self.url).replace("127.0.0.1:8080", host_port)

    def run(self, args: list[str]) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            args,
            cwd=self.directory,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            env=self.env,
            timeout=SNIPPET_SECONDS,
            check=False,
        )

    def failure(self, what: str, done: subprocess.CompletedProcess[str]) -> str:
        log = self.log_file.read_text(errors="replace")[-2000:]
        return (
            f"{what} exited {done.returncode}\n--- stdout\n{done.stdout[-3000:]}"
            f"\n--- stderr\n{done.stderr[-3000:]}\n--- server log (end)\n{log}"
        )

    def link_sdk(self, python: Path) -> None:
        """``sdk`` -> the official SDK's virtualenv (the README's ``python3 -m venv sdk``)."""
        link = self.directory / "sdk"
        if not link.exists():
            link.symlink_to(python.parent.parent, target_is_directory=True)


@contextlib.contextmanager
def workspace(root: Path) -> Iterator[Workspace]:
    """``root/work`` with ``.venv`` (the venv running the tests) and
    ``examples`` linked in, and ``opentms serve`` run from there."""
    directory = root / "work"
    directory.mkdir()
    (directory / ".venv").symlink_to(opentms_executable().parent.parent, target_is_directory=True)
    (directory / "examples").symlink_to(REPOSITORY / "examples", target_is_directory=True)
    env = {
        k: v for k, v in server_environment().items() if not k.startswith(("PYTHON", "VIRTUAL_ENV"))
    }
    env["XDG_DATA_HOME"] = str(root / "xdg")
    log_file = root / "server.log"
    for _ in range(START_ATTEMPTS):
        url = f"http://127.0.0.1:{free_port()}"
        with log_file.open("ab") as log:
            process = subprocess.Popen(
                [".venv/bin/opentms", "serve", f"--port={url.rsplit(':', 1)[1]}"],
                cwd=directory,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=env,
            )
        if healthy(process, url):
            break
        stop(process)
    else:
        pytest.fail("opentms serve did not start:\n" + log_file.read_text()[-4000:])
    try:
        yield Workspace(directory, url, env, log_file)
    finally:
        stop(process)


@pytest.fixture(scope="session")
def official_sdk_python() -> Path:
    """The interpreter of the conformance tests' virtualenv holding the
    official Python SDK (built on first use, under the same lock)."""
    venv = sdk_venv_dir()
    marker = venv / "opentms-conformance.json"
    venv.parent.mkdir(parents=True, exist_ok=True)
    with (venv.parent / f"{venv.name}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        ready = marker.exists() and json.loads(marker.read_text()) == {
            "requirements": list(SDK_REQUIREMENTS)
        }
        if not ready or not venv_python(venv).exists():
            build_sdk_venv(venv, marker)
    return venv_python(venv)


@pytest.fixture(scope="session")
def sdk_with_opentms(official_sdk_python: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The interpreter of a virtualenv holding the official SDK, opentms and
    pytest, as the README's `suite` one does: the SDK's virtualenv first on
    its path (its urllib3-future must win), then the one running the tests
    (opentms, its plugin's entry point, pytest). Made of the two, not
    installed: no network, no copy."""
    directory = tmp_path_factory.mktemp("sdk-with-opentms") / "venv"
    venv.EnvBuilder(with_pip=False).create(directory)
    python = directory / "bin" / "python"
    where = "import sysconfig; print(sysconfig.get_paths()['purelib'])"
    own = subprocess.run([str(python), "-c", where], capture_output=True, text=True, check=True)
    sdk = subprocess.run(
        [str(official_sdk_python), "-c", where], capture_output=True, text=True, check=True
    )
    project = sysconfig.get_paths()["purelib"]
    layers = f"import site; site.addsitedir({sdk.stdout.strip()!r}); site.addsitedir({project!r})"
    (Path(own.stdout.strip()) / "opentms_layers.pth").write_text(layers + "\n")
    return python
