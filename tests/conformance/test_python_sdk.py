"""Conformance with the official CyberSource Python SDK
(``cybersource-rest-client-python``), in each of its authentication modes.

The SDK lives in its own virtualenv, built once and reused across runs under
``$XDG_CACHE_HOME/opentms-conformance`` (default ``~/.cache``): installing it
into the project venv would replace urllib3 with urllib3-future. Each mode runs
the driver (``python -m tests.conformance.python_sdk_driver``, with its sibling
modules ``python_sdk_network``, ``python_sdk_encryption`` and
``python_sdk_support``) with that venv's interpreter against one real
``opentms serve``; the driver reports named checks, and a failure here lists
every failed check with what was expected and what came back.

Run: ``.venv/bin/pytest tests/conformance -q`` (the first run builds the SDK venv
and needs PyPI; later runs take about fifteen seconds). Leave these tests out with
``-m "not conformance"``.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.conformance.server import MerchantBundles, RunningServer, run_cli

pytestmark = pytest.mark.conformance

SDK_VERSION = "0.0.80"
# The SDK calls pkg_resources.require() on every ApiClient, and a new venv's
# setuptools fails that; 81.0.0 is the newest it accepts (sdk-wire-captures.md §1).
SDK_REQUIREMENTS = (f"cybersource-rest-client-python=={SDK_VERSION}", "setuptools==81.0.0")
DRIVER_MODULE = "tests.conformance.python_sdk_driver"
REPOSITORY = Path(__file__).resolve().parents[2]
AUTH_MODES = ["http_signature", "jwt_p12", "jwt_shared_secret"]
# Fewer checks than this means the driver skipped a scenario without saying so
# (optional request MLE and response MLE run only with JWT, which the SDK
# requires for them).
MIN_CHECKS = {"http_signature": 320, "jwt_p12": 345, "jwt_shared_secret": 345}
INSTALL_SECONDS = 900
DRIVER_SECONDS = 120


def sdk_venv_dir() -> Path:
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    python = f"py{sys.version_info.major}.{sys.version_info.minor}"
    return cache / "opentms-conformance" / f"python-sdk-{SDK_VERSION}-{python}"


def venv_python(venv: Path) -> Path:
    return venv / "bin" / "python"


def run_quietly(args: list[str | Path], timeout: float) -> None:
    done = subprocess.run(
        [str(a) for a in args],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if done.returncode != 0:
        pytest.fail(
            f"{' '.join(map(str, args))} exited {done.returncode}:\n"
            f"{(done.stdout + done.stderr)[-4000:]}\n"
            "The conformance tests need PyPI to build the SDK venv once; "
            "deselect them with -m 'not conformance'."
        )


def build_sdk_venv(venv: Path, marker: Path) -> None:
    shutil.rmtree(venv, ignore_errors=True)
    run_quietly([sys.executable, "-m", "venv", venv], timeout=120)
    pip: list[str | Path] = [
        venv_python(venv),
        "-m",
        "pip",
        "--disable-pip-version-check",
        "--no-input",
    ]
    run_quietly([*pip, "install", "--quiet", *SDK_REQUIREMENTS], timeout=INSTALL_SECONDS)
    run_quietly([venv_python(venv), "-W", "ignore", "-c", "import CyberSource"], timeout=120)
    marker.write_text(json.dumps({"requirements": list(SDK_REQUIREMENTS)}))


@pytest.fixture(scope="session")
def python_sdk() -> Path:
    """The interpreter of a virtualenv holding the official SDK (built on
    first use; the marker file is written last, so a half-built venv is redone)."""
    venv = sdk_venv_dir()
    marker = venv / "opentms-conformance.json"
    expected = {"requirements": list(SDK_REQUIREMENTS)}
    venv.parent.mkdir(parents=True, exist_ok=True)
    # Two test runs at once (or xdist workers) build the venv only once.
    with (venv.parent / f"{venv.name}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        ready = marker.exists() and json.loads(marker.read_text()) == expected
        if not ready or not venv_python(venv).exists():
            build_sdk_venv(venv, marker)
    return venv_python(venv)


@pytest.fixture(scope="session")
def plain_profile(opentms_server: RunningServer, merchant_bundles: MerchantBundles) -> str:
    """A second profile of the merchant that provisions no network tokens."""
    return run_cli(
        "profiles",
        "create",
        merchant_bundles.merchant_id,
        "--name",
        "no-network-tokens",
        "--no-network-tokens",
        "--data-dir",
        str(opentms_server.data_dir),
    ).strip()


def driver_environment() -> dict[str, str]:
    """No project settings or import paths leak into the SDK's process; the
    repository root is its only import path beside the SDK venv (for
    ``tests.conformance``; the project itself lives under ``src/``)."""
    environment = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("OPENTMS_", "PYTHON", "VIRTUAL_ENV"))
    }
    return environment | {"PYTHONPATH": str(REPOSITORY), "PYTHONDONTWRITEBYTECODE": "1"}


def run_sdk_python(
    python: Path, *arguments: str, cwd: Path, timeout: float
) -> subprocess.CompletedProcess[str]:
    """``python ARGUMENTS`` with the SDK venv's interpreter, to completion, in
    ``cwd`` (the SDK may write log files into its working directory) and
    :func:`driver_environment`."""
    return subprocess.run(
        [str(python), *arguments],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        cwd=cwd,
        env=driver_environment(),
        timeout=timeout,
        check=False,
    )


def run_sdk_driver(
    python: Path,
    module: str,
    workdir: Path,
    report: Path,
    *arguments: str,
    timeout: float = DRIVER_SECONDS,
) -> Any:
    """``python -m MODULE --report=REPORT ARGUMENTS`` in the SDK venv: the
    report it wrote, or a test failure with the end of its output."""
    done = run_sdk_python(
        python,
        "-W",
        "ignore::UserWarning",  # pkg_resources' deprecation notice on every import
        "-m",
        module,
        f"--report={report}",
        *arguments,
        cwd=workdir,
        timeout=timeout,
    )
    if done.returncode != 0 or not report.exists():
        pytest.fail(
            f"the SDK driver ({module} {' '.join(arguments)}) exited {done.returncode}:\n"
            f"{(done.stdout + done.stderr)[-4000:]}"
        )
    return json.loads(report.read_text())


def run_driver(
    python: Path,
    mode: str,
    server: RunningServer,
    bundles: MerchantBundles,
    plain_profile: str,
    workdir: Path,
) -> dict[str, Any]:
    result: dict[str, Any] = run_sdk_driver(
        python,
        DRIVER_MODULE,
        workdir,
        workdir / f"report-{mode}.json",
        f"--mode={mode}",
        f"--server-url={server.url}",
        f"--bundle-dir={bundles.directory}",
        f"--merchant={bundles.merchant_id}",
        f"--other-merchant={bundles.other_merchant_id}",
        f"--extra-profile-id={bundles.extra_profile_id}",
        f"--plain-profile-id={plain_profile}",
    )
    return result


def failure_message(
    mode: str, report: dict[str, Any], server: RunningServer, log_start: int
) -> str:
    checks = report["checks"]
    failed = [c for c in checks if not c["passed"]]
    lines = [f"{len(failed)} of {len(checks)} checks failed with the Python SDK in mode {mode}:"]
    lines += [f"  FAILED {c['name']}: {c['detail']}" for c in failed]
    if not report["completed"]:
        lines.append("  (the driver stopped before its last scenario)")
    if len(checks) < MIN_CHECKS[mode]:
        lines.append(
            f"  (only {len(checks)} checks ran; at least {MIN_CHECKS[mode]} were expected)"
        )
    errors = server.errors_logged(since=log_start)
    if errors:
        lines += ["", "server errors logged:", errors]
    return "\n".join(lines)


@pytest.mark.parametrize("mode", AUTH_MODES)
def test_python_sdk_scenarios_pass(
    mode: str,
    python_sdk: Path,
    opentms_server: RunningServer,
    merchant_bundles: MerchantBundles,
    plain_profile: str,
    tmp_path: Path,
    record_property: Callable[[str, object], None],
) -> None:
    log_start = opentms_server.log_size()
    report = run_driver(python_sdk, mode, opentms_server, merchant_bundles, plain_profile, tmp_path)
    checks = report["checks"]
    record_property("checks", len(checks))
    record_property("failed", sum(not c["passed"] for c in checks))
    enough = len(checks) >= MIN_CHECKS[mode]
    ok = report["completed"] and enough and all(c["passed"] for c in checks)
    assert ok, failure_message(mode, report, opentms_server, log_start)
