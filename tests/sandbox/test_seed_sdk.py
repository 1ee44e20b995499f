"""Seed files and deterministic mode with the official CyberSource Python SDK
as the TMS client, against real `opentms serve` subprocesses: one fixed SDK
configuration works on every fresh server seeded with the same file, and
fresh `--deterministic` servers answer the SDK the same customer ids."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.conformance.test_python_sdk import python_sdk, run_sdk_python
from tests.sandbox.test_deterministic import serve

pytestmark = pytest.mark.conformance

__all__ = ["python_sdk", "serve"]

KEY_ID = "sdk-seeded-key"
SECRET = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
PROFILE = "0B9A8C7D-6E5F-4A3B-9C2D-1E0F9A8B7C6D"
CUSTOMER = "5EED" + "0" * 27 + "1"
SEED = f"""\
merchants:
  - merchantId: sdk_seeded
    keyId: {KEY_ID}
    sharedSecret: {SECRET}
    defaultProfileId: {PROFILE}
    customers:
      - id: {CUSTOMER}
        buyerInformation: {{email: sdk@example.com}}
"""
# Run by the SDK venv's interpreter: the SDK configuration of argv[1] gets
# the seeded customer and creates one; prints what it was answered.
SDK_SCRIPT = """
import json, sys
from CyberSource import CustomerApi
api = CustomerApi(json.loads(sys.argv[1]))
seeded, status, _ = api.get_customer(sys.argv[2])
# The official samples send the body as its JSON text.
body = json.dumps({"buyerInformation": {"email": "new@example.com"}})
created, created_status, _ = api.post_customer_with_http_info(body)
print(json.dumps({
    "status": status,
    "email": seeded.buyer_information.email,
    "createdStatus": created_status,
    "created": created.id,
}))
"""


def sdk_configuration(url: str) -> dict[str, Any]:
    """The suite's configuration: fixed by the seed file, the same every run."""
    return {
        "authentication_type": "http_signature",
        "merchantid": "sdk_seeded",
        "run_environment": url.split("://", 1)[1],
        "IntermediateHost": url,
        "merchant_keyid": KEY_ID,
        "merchant_secretkey": SECRET,
    }


def run_sdk(python: Path, url: str, workdir: Path) -> dict[str, Any]:
    done = run_sdk_python(
        python,
        "-W",
        "ignore",
        "-c",
        SDK_SCRIPT,
        json.dumps(sdk_configuration(url)),
        CUSTOMER,
        cwd=workdir,
        timeout=120,
    )
    assert done.returncode == 0, (done.stdout + done.stderr)[-4000:]
    answer: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return answer


def test_one_sdk_configuration_works_on_every_seeded_server(
    python_sdk: Path, serve: Any, tmp_path: Path
) -> None:
    seed_file = tmp_path / "seed.yaml"
    seed_file.write_text(SEED)
    answers = []
    for workers in (1, 2):
        server = serve(f"--seed={seed_file}", "--deterministic=sdk", workers=workers)
        answers.append(run_sdk(python_sdk, server.url, tmp_path))
    for answer in answers:
        assert answer["status"] == 200
        assert answer["email"] == "sdk@example.com"
        assert answer["createdStatus"] == 201
    # Deterministic mode: the customer the SDK created has the same id on both.
    assert answers[0]["created"] == answers[1]["created"]
