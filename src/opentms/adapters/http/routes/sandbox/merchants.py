"""``POST /opentms/v1/sandbox/merchants``: register a merchant and answer its
credentials bundle (what ``opentms merchants create`` writes to files); and
its credentials' rotation, as ``opentms merchants keys`` and ``merchants
bundle`` do it: list, add, revoke, re-export."""

from __future__ import annotations

import base64
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from starlette.responses import Response

from opentms.adapters.http.admin import (
    ADMIN_PREFIX,
    AdminPipeline,
    AdminRequest,
    invalid,
    timestamp,
)
from opentms.adapters.http.openapi import Operation
from opentms.adapters.http.pipeline import json_response
from opentms.domain.audit import ADMIN
from opentms.domain.errors import Conflict, NotFound
from opentms.domain.merchant import CredentialSummary
from opentms.services.credentials import CredentialRefused, NoSuchCredential
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

    # Credential rotation (docs/sandbox.md) ---------------------------------------

    def get_sandbox_credentials(self, request: AdminRequest) -> Response:
        """The merchant's credentials, revoked ones included; never material."""
        rotation = self.merchants.credential_service()
        with _refusals():
            details = rotation.details(request.path("merchantId"))
        return json_response({"credentials": [_credential(c) for c in details.credentials]})

    def post_sandbox_credential(self, request: AdminRequest) -> Response:
        """Add a credential beside the ones in use: ``{"kind": "httpSignature",
        "keyId"?: str, "sharedSecret"?: base64}`` or ``{"kind": "jwt"}`` (a new
        key pair, answered as a P12 once); 201."""
        body = request.json()
        for name in body:
            if name not in _CREDENTIAL_FIELDS:
                raise invalid(name, f"Unknown field {name}; send {', '.join(_CREDENTIAL_FIELDS)}.")
        kind = _text(body, "kind", required=True)
        merchant_id = request.path("merchantId")
        rotation = self.merchants.credential_service()
        if kind == "httpSignature":
            key_id = _text(body, "keyId")
            given = _text(body, "sharedSecret")
            with _refusals():
                added = rotation.add_http_signature_key(merchant_id, ADMIN, key_id, given)
            answer: dict[str, Any] = {"kind": kind, "keyId": added.key_id}
            if given is None:  # generated: shown this once
                answer["sharedSecret"] = added.shared_secret
        elif kind == "jwt":
            if set(body) - {"kind"}:
                raise invalid("kind", "A JWT key pair takes no other field.")
            with _refusals():
                jwt = rotation.add_jwt_certificate(merchant_id, ADMIN)
            p12 = base64.b64encode(jwt.p12 or b"").decode()
            answer = {
                "kind": kind,
                "keyId": jwt.kid,
                "p12Base64": p12,
                "p12Password": jwt.p12_password,
                "keyAlias": merchant_id,
            }
        else:
            raise invalid("kind", "kind must be httpSignature or jwt.")
        return json_response({"merchantId": merchant_id, **answer}, 201)

    def delete_sandbox_credential(self, request: AdminRequest) -> Response:
        """Revoke a credential (``?force=true`` for the merchant's last one)."""
        rotation = self.merchants.credential_service()
        force = request.query("force") == "true"
        with _refusals():
            revoked = rotation.revoke(
                request.path("merchantId"), request.path("keyId"), ADMIN, force=force
            )
        return json_response(_credential(revoked))

    def post_sandbox_bundle(self, request: AdminRequest) -> Response:
        """A new credentials bundle of a registered merchant (new HTTP
        Signature key and JWT key pair; the earlier ones stay valid); 201."""
        rotation = self.merchants.credential_service()
        with _refusals():
            registration = rotation.bundle(request.path("merchantId"), ADMIN)
        return json_response(render(registration), 201)


_CREDENTIAL_FIELDS = ("kind", "keyId", "sharedSecret")


def _credential(credential: CredentialSummary) -> dict[str, Any]:
    revoked = credential.revoked_at
    return {
        "kind": credential.kind.value,
        "keyId": credential.key_id,
        "createdAt": timestamp(credential.created_at),
        "revokedAt": None if revoked is None else timestamp(revoked),
        "active": credential.active,
    }


@contextmanager
def _refusals() -> Iterator[None]:
    """The credential service's refusals as TMS errors: an unknown merchant or
    key is a 404, a refused change a 409, unusable material a 400."""
    try:
        yield
    except NoSuchCredential as exc:
        raise NotFound(str(exc)) from None
    except (CredentialRefused, AlreadyRegistered) as exc:
        raise Conflict(str(exc)) from None
    except InvalidRegistration as exc:
        if str(exc).startswith("No merchant"):
            raise NotFound(str(exc)) from None
        raise invalid("sharedSecret" if "secret" in str(exc) else "keyId", str(exc)) from None


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
        Operation(
            method="GET",
            path=f"{PATH}/{{merchantId}}/credentials",
            endpoint=admin.endpoint(routes.get_sandbox_credentials),
            summary="List a merchant's credentials (never their material)",
            tag="Sandbox",
            security="admin",
        ),
        Operation(
            method="POST",
            path=f"{PATH}/{{merchantId}}/credentials",
            endpoint=admin.endpoint(routes.post_sandbox_credential),
            summary="Add an HTTP Signature key or a JWT key pair beside the ones in use",
            tag="Sandbox",
            security="admin",
            status=201,
        ),
        Operation(
            method="DELETE",
            path=f"{PATH}/{{merchantId}}/credentials/{{keyId}}",
            endpoint=admin.endpoint(routes.delete_sandbox_credential),
            summary="Revoke a credential (every process refuses it at its next request)",
            tag="Sandbox",
            security="admin",
        ),
        Operation(
            method="POST",
            path=f"{PATH}/{{merchantId}}/bundle",
            endpoint=admin.endpoint(routes.post_sandbox_bundle),
            summary="A new credentials bundle for a registered merchant",
            tag="Sandbox",
            security="admin",
            status=201,
        ),
    ]
