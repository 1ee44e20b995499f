"""The credentials bundle ``opentms merchants create`` writes, and the SDK
configuration it prints."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from opentms.services.merchants import Registration


def _write(path: Path, data: bytes, private: bool) -> None:
    # Security: files holding secrets are created owner-only from the start.
    mode = 0o600 if private else 0o644
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    os.chmod(path, mode)


def write_bundle(registration: Registration, directory: Path) -> Path:
    """Write ``<merchant>.json`` and the key files beside it; return the JSON path."""
    directory.mkdir(parents=True, exist_ok=True)
    merchant = registration.merchant_id
    document: dict[str, Any] = {
        "merchantId": merchant,
        "defaultProfileId": registration.default_profile_id,
        "httpSignature": {
            "keyId": registration.key_id,
            "sharedSecret": registration.shared_secret,
        },
        "jwt": {"kid": registration.jwt_kid},
        "paymentCredentials": {"kid": registration.credentials_kid},
    }
    if registration.p12 is not None:
        p12_name = f"{merchant}.p12"
        _write(directory / p12_name, registration.p12, private=True)
        document["jwt"].update(
            {
                "p12File": p12_name,
                "p12Password": registration.p12_password,
                "keyAlias": merchant,
            }
        )
    public_name = f"{merchant}-credentials-public.pem"
    _write(directory / public_name, registration.credentials_public_key_pem, private=False)
    document["paymentCredentials"]["publicKeyFile"] = public_name
    if registration.credentials_private_key_pem is not None:
        private_name = f"{merchant}-credentials-private.pem"
        _write(directory / private_name, registration.credentials_private_key_pem, private=True)
        document["paymentCredentials"]["privateKeyFile"] = private_name
    path = directory / f"{merchant}.json"
    _write(path, (json.dumps(document, indent=2) + "\n").encode(), private=True)
    return path


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
