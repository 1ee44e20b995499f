"""A merchant registered through the admin API (``POST /merchants``): its
credentials bundle written to disk in the layout ``opentms merchants create``
uses, and the configurations the official Python SDK and ``opentms.client``
take from it."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from opentms.client._bundle import write_bundle_files

if TYPE_CHECKING:
    from opentms.client import Client

SDKMode = Literal["http_signature", "jwt"]
ClientAuth = Literal["signature", "jwt", "hs256"]


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
