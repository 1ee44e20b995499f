"""Create a customer with the official CyberSource Python SDK configured from
a credentials bundle, in each authentication mode: what a re-exported bundle
(``opentms merchants bundle``) and a revoked one get. It runs in the SDK's
own virtualenv and imports only the standard library, the SDK and
``tests.conformance.python_sdk_support``. The report (``--report``) is JSON:
``{mode: {"status", "body"}}``.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from CyberSource import CustomerApi  # type: ignore[import-not-found]
from CyberSource.rest import ApiException  # type: ignore[import-not-found]

from tests.conformance.python_sdk_support import MODES, customer_body, merchant_config


def create_customer(config: dict[str, Any]) -> dict[str, Any]:
    api = CustomerApi(config)
    try:
        _, status, _ = api.post_customer_with_http_info(customer_body("sdk-rotation"))
    except ApiException as exc:
        body = exc.body.decode() if isinstance(exc.body, bytes) else str(exc.body)
        return {"status": exc.status, "body": body}
    return {"status": status, "body": ""}


def main() -> None:
    parser = argparse.ArgumentParser(description="Use a bundle with the SDK.")
    parser.add_argument("--server-url", required=True)
    parser.add_argument("--bundle-dir", type=Path, required=True)
    parser.add_argument("--merchant", required=True)
    parser.add_argument("--report", type=Path, required=True)
    args = parser.parse_args()
    directory = args.bundle_dir.resolve()
    bundle = json.loads((directory / f"{args.merchant}.json").read_text())
    report = {
        mode: create_customer(merchant_config(mode, bundle, directory, args.server_url).config)
        for mode in MODES
    }
    args.report.write_text(json.dumps(report))


if __name__ == "__main__":
    main()
