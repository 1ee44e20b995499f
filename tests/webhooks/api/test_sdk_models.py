"""Every answer of the webhook API deserializes in the official Python SDK's
model for it (0.0.80), field for field: serialized back, the model gives the
answer again (what the model does not know is lost, and only ``updatedOn``
of a retrieve may be). Runs with the SDK venv the conformance tests build
(``tests/conformance``); skipped when there is none."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support import Merchant
from tests.webhooks.api.conftest import WEBHOOKS, WEBHOOKS_V1, Receiver, create_webhook

SDK_PYTHON = (
    Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    / "opentms-conformance"
    / f"python-sdk-0.0.80-py{sys.version_info.major}.{sys.version_info.minor}"
    / "bin"
    / "python"
)
ROUND_TRIP = """
import json, sys
from CyberSource.api_client import ApiClient
client = ApiClient()
out = []
for response_type, data in json.load(sys.stdin):
    model = client._ApiClient__deserialize(data, response_type)
    out.append(client.sanitize_for_serialization(model))
json.dump(out, sys.stdout)
"""


def dropped(answer: Any, model: Any) -> set[str]:
    """The keys of ``answer`` the model lost (paths), or a failure where it changed a value."""
    if isinstance(answer, dict):
        assert isinstance(model, dict)
        lost = {k for k in answer if k not in model}
        for key in answer.keys() & model.keys():
            lost |= {f"{key}.{k}" for k in dropped(answer[key], model[key])}
        return lost
    if isinstance(answer, list):
        assert isinstance(model, list)
        assert len(answer) == len(model)
        return set().union(*(dropped(a, m) for a, m in zip(answer, model, strict=True)))
    assert answer == model
    return set()


@pytest.mark.skipif(not SDK_PYTHON.exists(), reason="no SDK venv (run tests/conformance once)")
def test_answers_deserialize_in_the_sdk_models(
    client: httpx.Client, receiver: Receiver, merchant: Merchant
) -> None:
    key = client.post(
        "/kms/egress/v2/keys-sym",
        json={
            "clientReferenceInformation": {"code": "sdk"},
            "clientRequestAction": "CREATE",
            "keyInformation": {"keyType": "sharedSecret", "organizationId": merchant.id},
        },
    ).json()
    created = create_webhook(client, receiver.url, healthCheckUrl=receiver.url)
    url = f"{WEBHOOKS}/{created['webhookId']}"
    patched = client.patch(url, json={"description": "patched"}).json()
    answers: list[tuple[str, Any]] = [
        ("InlineResponse2017", key),
        ("InlineResponse2018", created),
        ("InlineResponse2008", patched),
        ("InlineResponse2018", client.get(url).json()),
        (
            "list[InlineResponse2007]",
            client.get(WEBHOOKS, params={"organizationId": merchant.id}).json(),
        ),
        (
            "list[InlineResponse2006]",
            client.get(f"/notification-subscriptions/v2/products/{merchant.id}").json(),
        ),
        ("InlineResponse2019", client.post(f"{WEBHOOKS_V1}/{created['webhookId']}").json()),
    ]

    done = subprocess.run(
        [str(SDK_PYTHON), "-W", "ignore", "-c", ROUND_TRIP],
        input=json.dumps(answers),
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )

    models = json.loads(done.stdout)
    for (response_type, answer), model in zip(answers, models, strict=True):
        lost = dropped(answer, model)
        allowed = {"updatedOn"} if response_type != "InlineResponse2008" else set()
        if response_type.startswith("list"):
            allowed = {"updatedOn"}
        assert lost <= allowed, (response_type, lost)
