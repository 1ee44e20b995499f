"""``POST /opentms/v1/sandbox/merchants``: register a merchant and answer its
credentials bundle (what ``opentms merchants create`` writes to files)."""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass
from typing import Any

from starlette.responses import Response

from opentms.adapters.http.admin import ADMIN_PREFIX, AdminPipeline, AdminRequest, invalid
from opentms.adapters.http.openapi import Operation
from opentms.adapters.http.pipeline import json_response
from opentms.domain.errors import Conflict
from opentms.services.merchants import (
    AlreadyRegistered,
    InvalidRegistration,
    MerchantService,
    Registration,
)
from opentms.services.sandbox import SandboxControls

PATH = f"{ADMIN_PREFIX}/merchants"
_FIELDS = ("merchantId", "keyId", "sharedSecret")
# The key ids authentication can look up (services/merchants.py).
_KEY_ID = re.compile(r"[\x21-\x7e]{1,128}")


def render(registration: Registration) -> dict[str, Any]:
    """The credentials bundle: shown once, the only copy of the private keys."""
    p12 = registration.p12
    private = registration.credentials_private_key_pem
    return {
        "merchantId": registration.merchant_id,
        "defaultProfileId": registration.default_profile_id,
        "httpSignature": {"keyId": registration.key_id, "sharedSecret": registration.shared_secret},
        "jwt": {
            "kid": registration.jwt_kid,
            "p12Base64": base64.b64encode(p12).decode() if p12 is not None else None,
            "p12Password": registration.p12_password,
            "keyAlias": registration.merchant_id,
        },
        "paymentCredentials": {
            "kid": registration.credentials_kid,
            "publicKeyPem": registration.credentials_public_key_pem.decode(),
            "privateKeyPem": private.decode() if private is not None else None,
        },
    }


def _text(body: dict[str, Any], name: str, required: bool = False) -> str | None:
    value = body.get(name)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value or len(value) > 1024:
        raise invalid(name, f"{name} must be a non-empty string.")
    return value


@dataclass(frozen=True)
class MerchantRoutes:
    merchants: MerchantService

    def post_sandbox_merchant(self, request: AdminRequest) -> Response:
        """Register a merchant: ``{"merchantId": "m", "keyId"?: str,
        "sharedSecret"?: base64}``; 201 with its credentials bundle, 409 if
        the merchant (or the key id) is registered already."""
        body = request.json()
        for name in body:
            if name not in _FIELDS:
                raise invalid(name, f"Unknown field {name}; send {', '.join(_FIELDS)}.")
        merchant_id = _text(body, "merchantId", required=True)
        assert merchant_id is not None  # noqa: S101 - required above
        key_id = _text(body, "keyId")
        if key_id is not None and not _KEY_ID.fullmatch(key_id):
            raise invalid("keyId", "keyId must be 1 to 128 printable ASCII characters.")
        try:
            registration = self.merchants.register(
                merchant_id,
                key_id=key_id,
                shared_secret=_text(body, "sharedSecret"),
            )
        except AlreadyRegistered as exc:
            raise Conflict(str(exc)) from None
        except InvalidRegistration as exc:
            field = "sharedSecret" if "secret" in str(exc) else "merchantId"
            raise invalid(field, str(exc)) from None
        return json_response(render(registration), 201)


def operations(controls: SandboxControls, admin: AdminPipeline) -> list[Operation]:
    routes = MerchantRoutes(controls.seed.merchants)
    return [
        Operation(
            method="POST",
            path=PATH,
            endpoint=admin.endpoint(routes.post_sandbox_merchant),
            summary="Register a merchant and answer its credentials bundle",
            tag="Sandbox",
            security="admin",
            status=201,
        ),
    ]
