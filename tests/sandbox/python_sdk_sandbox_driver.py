"""Drive a sandbox's faults and forced outcomes with the official CyberSource
Python SDK. Like ``tests/conformance/python_sdk_driver.py`` it runs in the
SDK's own virtualenv (``test_faults_server.py`` starts it with that venv's
interpreter and the repository root on ``PYTHONPATH``) and imports only the
standard library, the SDK and ``tests.conformance.python_sdk_support``.

``--scenario twice`` creates a customer twice (a fault rule set beforehand
makes the first call fail); ``--scenario outcome`` creates an instrument
identifier with ``X-Opentms-Outcome`` set as an SDK user would: on the API
client (``api_client.set_default_header``) or in the merchant configuration
(``default_headers``). The report (``--report``) is JSON: one entry per call,
``{"ok", "status", "error", "body"}``.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from CyberSource import CustomerApi, InstrumentIdentifierApi  # type: ignore[import-not-found]
from CyberSource.rest import ApiException  # type: ignore[import-not-found]

from tests.conformance.python_sdk_support import customer_body, ii_body, merchant_config

OUTCOME_HEADER = "X-Opentms-Outcome"


def attempt(api: Any, call: Callable[[], Any]) -> dict[str, Any]:
    """What one SDK call (a ``*_with_http_info`` one) did: its status and the
    body as received, or the exception it raised."""
    try:
        _, status, _ = call()
    except ApiException as exc:
        return {"ok": False, "status": exc.status, "error": "ApiException", "body": text(exc.body)}
    except Exception as exc:
        return {"ok": False, "status": None, "error": type(exc).__name__, "body": str(exc)}
    body = text(api.api_client.last_response.data)
    return {"ok": True, "status": status, "error": None, "body": body}


def text(data: object) -> str:
    return data.decode() if isinstance(data, bytes) else str(data)


def twice(config: dict[str, Any]) -> list[dict[str, Any]]:
    api = CustomerApi(config)
    return [
        attempt(api, lambda: api.post_customer_with_http_info(customer_body("sdk-fault")))
        for _ in range(2)
    ]


def outcome(config: dict[str, Any], value: str, pan: str, via: str) -> list[dict[str, Any]]:
    if via == "config":
        config = {**config, "default_headers": {OUTCOME_HEADER: value}}
    api = InstrumentIdentifierApi(config)
    if via == "client":
        api.api_client.set_default_header(OUTCOME_HEADER, value)
    return [attempt(api, lambda: api.post_instrument_identifier_with_http_info(ii_body(pan)))]


def main() -> None:
    parser = argparse.ArgumentParser(description="Drive sandbox faults with the SDK.")
    parser.add_argument("--server-url", required=True)
    parser.add_argument("--bundle-dir", type=Path, required=True)
    parser.add_argument("--merchant", required=True)
    parser.add_argument("--scenario", choices=["twice", "outcome"], required=True)
    parser.add_argument("--outcome", default="")
    parser.add_argument("--pan", default="")
    parser.add_argument("--via", choices=["client", "config"], default="client")
    parser.add_argument("--report", type=Path, required=True)
    args = parser.parse_args()
    bundle = json.loads((args.bundle_dir / f"{args.merchant}.json").read_text())
    merchant = merchant_config("http_signature", bundle, args.bundle_dir.resolve(), args.server_url)
    if args.scenario == "twice":
        calls = twice(merchant.config)
    else:
        calls = outcome(merchant.config, args.outcome, args.pan, args.via)
    args.report.write_text(json.dumps(calls))


if __name__ == "__main__":
    main()
