"""A re-exported bundle (``opentms merchants bundle``) configures the official
CyberSource Python SDK as the first one did, in every authentication mode
(HTTP Signature, JWT with the P12, JWT with the shared secret); once the
first bundle's keys are revoked, the SDK configured from it gets 401s and
the new one keeps working. Against the session's real ``opentms serve``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conformance.server import RunningServer, run_cli
from tests.conformance.test_python_sdk import python_sdk, run_sdk_driver

pytestmark = pytest.mark.conformance
__all__ = ["python_sdk"]  # the fixture, used by name

DRIVER = "tests.conformance.python_sdk_rotation_driver"
MERCHANT = "rotation_sdk_merchant"
# The driver's modes (python_sdk_support.MODES, which imports the SDK).
MODES = ("http_signature", "jwt_p12", "jwt_shared_secret")


def statuses(python: Path, server: RunningServer, bundle_dir: Path, report: Path) -> dict[str, int]:
    answered = run_sdk_driver(
        python,
        DRIVER,
        bundle_dir,
        report,
        f"--server-url={server.url}",
        f"--bundle-dir={bundle_dir}",
        f"--merchant={MERCHANT}",
    )
    return {mode: answered[mode]["status"] for mode in MODES}


def test_the_sdk_works_with_a_re_exported_bundle_and_not_with_a_revoked_one(
    python_sdk: Path, opentms_server: RunningServer, tmp_path: Path
) -> None:
    data_dir = ["--data-dir", str(opentms_server.data_dir)]
    old, new = tmp_path / "old", tmp_path / "new"
    run_cli("merchants", "create", MERCHANT, "--out", str(old), *data_dir)
    run_cli(
        "merchants", "bundle", MERCHANT, "--out", str(new), *data_dir,
        "--credentials-private-key", str(old / f"{MERCHANT}-credentials-private.pem"),
    )  # fmt: skip
    created = dict.fromkeys(MODES, 201)
    assert statuses(python_sdk, opentms_server, old, tmp_path / "old-1.json") == created
    assert statuses(python_sdk, opentms_server, new, tmp_path / "new-1.json") == created

    bundle = json.loads((old / f"{MERCHANT}.json").read_text())
    run_cli("merchants", "keys", "revoke", MERCHANT, bundle["httpSignature"]["keyId"], *data_dir)
    run_cli("merchants", "keys", "revoke", MERCHANT, bundle["jwt"]["kid"], *data_dir)

    refused = dict.fromkeys(MODES, 401)
    assert statuses(python_sdk, opentms_server, old, tmp_path / "old-2.json") == refused
    assert statuses(python_sdk, opentms_server, new, tmp_path / "new-2.json") == created
