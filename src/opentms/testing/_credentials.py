"""A merchant registered through the admin API (``POST /merchants``): its
credentials bundle written to disk in the layout ``opentms merchants create``
uses, and the configurations the official Python SDK and ``opentms.client``
take from it."""

from __future__ import annotations

import base64
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from opentms.client import Client

SDKMode = Literal["http_signature", "jwt"]
ClientAuth = Literal["signature", "jwt", "hs256"]


def _write(path: Path, data: bytes, private: bool) -> None:
    # Security: files holding secrets are created owner-only from the start.
    mode = 0o600 if private else 0o644
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    os.chmod(path, mode)


def write_bundle_files(bundle: dict[str, Any], directory: Path) -> Path:
    """Write the answer of ``POST /merchants`` as ``<merchant>.json`` and its key
    files (``<merchant>.p12``, ``<merchant>-credentials-{public,private}.pem``)
    to ``directory``, as ``opentms merchants create`` does; the JSON's path."""
    directory.mkdir(parents=True, exist_ok=True)
    merchant = str(bundle["merchantId"])
    signature = bundle.get("httpSignature") or {}
    jwt = bundle.get("jwt") or {}
    credentials = bundle.get("paymentCredentials") or {}
    document: dict[str, Any] = {
        "merchantId": merchant,
        "defaultProfileId": bundle.get("defaultProfileId"),
        "httpSignature": {
            "keyId": signature.get("keyId"),
            "sharedSecret": signature.get("sharedSecret"),
        },
        "jwt": {"kid": jwt.get("kid")},
        "paymentCredentials": {"kid": credentials.get("kid")},
    }
    if jwt.get("p12Base64"):
        p12_name = f"{merchant}.p12"
        _write(directory / p12_name, base64.b64decode(jwt["p12Base64"]), private=True)
        document["jwt"] |= {
            "p12File": p12_name,
            "p12Password": jwt.get("p12Password"),
            "keyAlias": jwt.get("keyAlias") or merchant,
        }
    files = {
        "publicKeyFile": ("publicKeyPem", f"{merchant}-credentials-public.pem", False),
        "privateKeyFile": ("privateKeyPem", f"{merchant}-credentials-private.pem", True),
    }
    for key, (source, name, private) in files.items():
        if credentials.get(source):
            _write(directory / name, str(credentials[source]).encode(), private=private)
            document["paymentCredentials"][key] = name
    path = directory / f"{merchant}.json"
    _write(path, (json.dumps(document, indent=2) + "\n").encode(), private=True)
    return path


@dataclass(frozen=True)
class MerchantCredentials:
    """A sandbox merchant and its credentials bundle (``bundle_file`` and the
    key files beside it), for the server at ``url``. The shared secret and the
    P12 password stay out of ``repr``.

    ```python
    merchant = sandbox.create_merchant("acme")
    api = CyberSource.CustomerApi(merchant.python_sdk_configuration())
    client = merchant.client()
    ```
    """

    merchant_id: str
    default_profile_id: str | None
    key_id: str | None
    shared_secret: str | None = field(repr=False)
    jwt_kid: str | None
    p12_file: Path | None
    p12_password: str | None = field(repr=False)
    key_alias: str | None
    credentials_kid: str | None
    bundle_file: Path
    url: str

    @classmethod
    def from_bundle(cls, bundle: dict[str, Any], directory: Path, url: str) -> MerchantCredentials:
        """Write ``bundle`` (the answer of ``POST /merchants``) to ``directory``."""
        path = write_bundle_files(bundle, directory)
        written = json.loads(path.read_text())
        jwt = written["jwt"]
        return cls(
            merchant_id=written["merchantId"],
            default_profile_id=written["defaultProfileId"],
            key_id=written["httpSignature"]["keyId"],
            shared_secret=written["httpSignature"]["sharedSecret"],
            jwt_kid=jwt.get("kid"),
            p12_file=directory / jwt["p12File"] if jwt.get("p12File") else None,
            p12_password=jwt.get("p12Password"),
            key_alias=jwt.get("keyAlias"),
            credentials_kid=written["paymentCredentials"].get("kid"),
            bundle_file=path,
            url=url.rstrip("/"),
        )

    def python_sdk_configuration(self, mode: SDKMode = "http_signature") -> dict[str, Any]:
        """The configuration dict the official CyberSource Python SDK
        (``cybersource-rest-client-python``) takes, e.g. ``CustomerApi(config)``:
        ``"http_signature"`` (key id and shared secret) or ``"jwt"`` (RS256 with
        the bundle's P12)."""
        config: dict[str, Any] = {
            "merchantid": self.merchant_id,
            "run_environment": self.url.split("://", 1)[-1],
            "IntermediateHost": self.url,
        }
        if mode == "http_signature":
            return config | {
                "authentication_type": "http_signature",
                "merchant_keyid": self.key_id,
                "merchant_secretkey": self.shared_secret,
            }
        if mode == "jwt":
            if self.p12_file is None:
                raise ValueError(f"Merchant {self.merchant_id} has no P12 for JWT.")
            return config | {
                "authentication_type": "jwt",
                "keys_directory": str(self.p12_file.parent.resolve()),
                "key_file_name": self.p12_file.stem,
                "key_alias": self.key_alias,
                "key_password": self.p12_password,
            }
        raise ValueError(f"mode must be 'http_signature' or 'jwt', not {mode!r}.")

    def client(
        self, auth: Literal["signature", "jwt", "hs256"] = "signature", **options: Any
    ) -> Client:
        """An ``opentms.client.Client`` for this merchant (close it, or use
        ``with``); ``options`` go to :meth:`Client.from_credentials_file`."""
        from opentms.client import Client

        return Client.from_credentials_file(
            self.bundle_file, base_url=self.url, auth=auth, **options
        )
