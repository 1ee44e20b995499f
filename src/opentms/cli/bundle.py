"""The credentials bundle ``opentms merchants create`` writes, and the SDK
configuration it prints."""

from __future__ import annotations

import json
from pathlib import Path

from opentms.adapters.http.routes.sandbox.merchants import render as bundle
from opentms.client._bundle import write_bundle_files
from opentms.services.merchants import Registration


def write_bundle(registration: Registration, directory: Path) -> Path:
    """Write ``<merchant>.json`` and the key files beside it; return the JSON
    path. The same files as the sandbox's ``POST /merchants`` bundle gives
    (one writer for both, beside the client's reader)."""
    return write_bundle_files(bundle(registration), directory)


def sdk_configuration(registration: Registration, directory: Path, server_url: str) -> str:
    """The official Python SDK's configuration dicts, ready to paste."""
    host = server_url.split("://", 1)[-1].rstrip("/")
    common = {
        "merchantid": registration.merchant_id,
        "run_environment": host,
        "IntermediateHost": server_url.rstrip("/"),
    }
    http_signature = {
        "authentication_type": "http_signature",
        **common,
        "merchant_keyid": registration.key_id,
        "merchant_secretkey": registration.shared_secret,
    }
    lines = [
        "CyberSource Python SDK configuration (cybersource-rest-client-python):",
        "",
        "HTTP Signature:",
        json.dumps(http_signature, indent=2),
    ]
    if registration.p12 is not None:
        jwt = {
            "authentication_type": "jwt",
            **common,
            "keys_directory": str(directory.resolve()),
            "key_file_name": registration.merchant_id,
            "key_alias": registration.merchant_id,
            "key_password": registration.p12_password,
        }
        lines += ["", "JWT:", json.dumps(jwt, indent=2)]
    return "\n".join(lines)
