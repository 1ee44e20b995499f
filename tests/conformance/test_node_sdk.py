"""Conformance with the official CyberSource Node SDK (npm ``cybersource-rest-client``)
in HTTP Signature mode.

The SDK is installed once with npm into
``$XDG_CACHE_HOME/opentms-conformance/node-sdk-<version>`` (default ``~/.cache``),
whose ``package.json`` and ``package-lock.json`` stay there, and is reused while
its marker file matches. ``node_sdk_driver.js`` then runs with ``node`` against
the session's real ``opentms serve`` as a merchant of its own: customers with a
Visa and an Amex card, payment credentials v2 and v3 opened with the SDK's
``JWEUtility``, and 404s for an unknown customer. The driver reports named
checks; a failure here lists every failed check.

Run: ``.venv/bin/pytest tests/conformance/test_node_sdk.py -q`` (the first run
needs the npm registry; later runs take a few seconds). Skipped only when
``node`` or ``npm`` is not on PATH.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.conformance.server import RunningServer, run_cli

pytestmark = pytest.mark.conformance

SDK_PACKAGE = "cybersource-rest-client"
SDK_VERSION = "0.0.83"
DRIVER = Path(__file__).with_name("node_sdk_driver.js")
MERCHANT = "conformance_node"
MIN_NODE_MAJOR = 18  # the SDK's dependency jose 5 needs it
# Fewer checks than this means the driver skipped a scenario without saying so.
MIN_CHECKS = 100
INSTALL_SECONDS = 600
DRIVER_SECONDS = 120


def sdk_dir() -> Path:
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return cache / "opentms-conformance" / f"node-sdk-{SDK_VERSION}"


def node_environment() -> dict[str, str]:
    """The caller's environment without project settings or Node module paths."""
    return {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("OPENTMS_", "NODE_PATH", "NODE_OPTIONS"))
    } | {"npm_config_update_notifier": "false", "npm_config_fund": "false"}


def run_quietly(args: list[str], cwd: Path, timeout: float) -> str:
    done = subprocess.run(
        args,
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        env=node_environment(),
        timeout=timeout,
        check=False,
    )
    if done.returncode != 0:
        pytest.fail(
            f"{' '.join(args)} (in {cwd}) exited {done.returncode}:\n"
            f"{(done.stdout + done.stderr)[-4000:]}\n"
            "The Node SDK conformance test needs the npm registry to install the SDK once; "
            "deselect it with -m 'not conformance'."
        )
    return done.stdout


def check_node_version(node: str) -> None:
    version = run_quietly([node, "--version"], Path.cwd(), timeout=30).strip()
    major = int(version.lstrip("v").split(".", 1)[0])
    if major < MIN_NODE_MAJOR:
        pytest.fail(f"{node} is {version}; the Node SDK needs Node {MIN_NODE_MAJOR} or newer")


def install_sdk(directory: Path, node: str, npm: str, marker: Path) -> None:
    """A fresh npm project holding only the pinned SDK (package.json and lock
    live in ``directory``); the marker is written last."""
    shutil.rmtree(directory, ignore_errors=True)
    directory.mkdir(parents=True)
    package = {
        "name": "opentms-conformance-node-sdk",
        "private": True,
        "description": "The official CyberSource Node SDK for opentms' conformance tests",
        "dependencies": {SDK_PACKAGE: SDK_VERSION},
    }
    (directory / "package.json").write_text(json.dumps(package, indent=2) + "\n")
    # --ignore-scripts: neither the SDK nor its dependencies need install scripts.
    install = ["install", "--no-audit", "--no-fund", "--ignore-scripts", "--loglevel=error"]
    run_quietly([npm, *install], directory, timeout=INSTALL_SECONDS)
    probe = f"process.stdout.write(require('{SDK_PACKAGE}/package.json').version)"
    installed = run_quietly([node, "-e", probe], directory, timeout=60)
    if installed != SDK_VERSION:
        pytest.fail(f"npm installed {SDK_PACKAGE} {installed!r}, not {SDK_VERSION}")
    run_quietly([node, "-e", f"require('{SDK_PACKAGE}')"], directory, timeout=60)
    marker.write_text(json.dumps({"package": SDK_PACKAGE, "version": SDK_VERSION}))


@pytest.fixture(scope="session")
def node_sdk() -> tuple[str, Path]:
    """``(node executable, directory whose node_modules holds the SDK)``."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        missing = " and ".join(n for n, p in (("node", node), ("npm", npm)) if p is None)
        pytest.skip(f"{missing} not found on PATH; the Node SDK conformance test needs Node.js")
    check_node_version(node)
    directory = sdk_dir()
    marker = directory / "opentms-conformance.json"
    expected = {"package": SDK_PACKAGE, "version": SDK_VERSION}
    directory.parent.mkdir(parents=True, exist_ok=True)
    # Two test runs at once (or xdist workers) install the SDK only once.
    with (directory.parent / f"{directory.name}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        ready = marker.exists() and json.loads(marker.read_text()) == expected
        if not ready or not (directory / "node_modules" / SDK_PACKAGE).is_dir():
            install_sdk(directory, node, npm, marker)
    return node, directory


@pytest.fixture(scope="module")
def node_merchant_bundle(
    opentms_server: RunningServer, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    """A merchant of the Node test's own on the session's server; its bundle JSON."""
    directory = tmp_path_factory.mktemp("node-merchant-bundle")
    run_cli(
        "merchants",
        "create",
        MERCHANT,
        "--out",
        str(directory),
        "--data-dir",
        str(opentms_server.data_dir),
        "--server-url",
        opentms_server.url,
    )
    return directory / f"{MERCHANT}.json"


def run_driver(
    node: str, sdk: Path, server: RunningServer, bundle: Path, workdir: Path
) -> dict[str, Any]:
    report = workdir / "report-node.json"
    args = [
        node,
        str(DRIVER),
        f"--sdk-dir={sdk}",
        f"--server-url={server.url}",
        f"--bundle={bundle}",
        f"--report={report}",
    ]
    done = subprocess.run(
        args,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        cwd=workdir,  # the SDK may write log files into its working directory
        env=node_environment(),
        timeout=DRIVER_SECONDS,
        check=False,
    )
    if done.returncode != 0 or not report.exists():
        pytest.fail(
            f"the Node SDK driver exited {done.returncode}:\n{(done.stdout + done.stderr)[-4000:]}"
        )
    result: dict[str, Any] = json.loads(report.read_text())
    return result


def failure_message(report: dict[str, Any], server: RunningServer, log_start: int) -> str:
    checks = report["checks"]
    failed = [c for c in checks if not c["passed"]]
    lines = [
        f"{len(failed)} of {len(checks)} checks failed with the Node SDK "
        f"{report.get('sdkVersion')} (HTTP Signature):"
    ]
    lines += [f"  FAILED {c['name']}: {c['detail']}" for c in failed]
    if not report["completed"]:
        lines.append("  (a scenario stopped early; the checks after its first failure did not run)")
    if len(checks) < MIN_CHECKS:
        lines.append(f"  (only {len(checks)} checks ran; at least {MIN_CHECKS} were expected)")
    errors = server.errors_logged(since=log_start)
    if errors:
        lines += ["", "server errors logged:", errors]
    return "\n".join(lines)


def test_node_sdk_http_signature_scenarios_pass(
    node_sdk: tuple[str, Path],
    opentms_server: RunningServer,
    node_merchant_bundle: Path,
    tmp_path: Path,
) -> None:
    node, sdk = node_sdk
    log_start = opentms_server.log_size()
    report = run_driver(node, sdk, opentms_server, node_merchant_bundle, tmp_path)
    checks = report["checks"]
    assert report["sdkVersion"] == SDK_VERSION
    ok = report["completed"] and len(checks) >= MIN_CHECKS and all(c["passed"] for c in checks)
    assert ok, failure_message(report, opentms_server, log_start)
