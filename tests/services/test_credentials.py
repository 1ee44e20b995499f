"""Credential rotation on the session's database (SQLite, or PostgreSQL in
that pass) through the in-process app: two HTTP Signature keys and two JWT
certificates authenticate at once; a revoked one is a 401 in the TMS error
envelope at its next request, though this process had it cached; every
change is in the audit log and moved the registry epoch."""

from __future__ import annotations

import uuid

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from sqlalchemy import select
from starlette.applications import Starlette

from opentms.adapters.storage.tables import audit_log, merchant_keys
from opentms.bootstrap import Database, Services
from opentms.client import ASGIAppTransport, HTTPSignatureAuth, JWTAuth
from opentms.domain.audit import cli_actor
from opentms.services.credentials import CredentialService, NoSuchCredential
from tests.api.envelopes import assert_error

ACTOR = cli_actor("tester")


def missing_ii() -> str:
    return f"/tms/v1/instrumentidentifiers/{uuid.uuid4().hex.upper()}"


def status_with(app: Starlette, auth: httpx.Auth) -> httpx.Response:
    """A GET of an instrument identifier that does not exist: 404 once
    authenticated, 401 when the key is refused."""
    with httpx.Client(
        transport=ASGIAppTransport(app), base_url="http://testserver", auth=auth
    ) as client:
        return client.get(missing_ii())


def jwt_auth(merchant_id: str, kid: str, p12: bytes | None, password: str | None) -> JWTAuth:
    assert p12 is not None
    assert password is not None
    key, _, _ = pkcs12.load_key_and_certificates(p12, password.encode())
    assert isinstance(key, rsa.RSAPrivateKey)
    return JWTAuth(merchant_id, kid, private_key=key)


@pytest.fixture
def rotation(services: Services) -> CredentialService:
    return services.merchants.credential_service()


@pytest.fixture
def merchant_id(services: Services) -> str:
    merchant_id = f"rot_{uuid.uuid4().hex[:10]}"
    services.merchants.register(merchant_id)
    return merchant_id


def test_overlapping_keys_authenticate_and_a_revoked_one_is_refused_at_once(
    app: Starlette, services: Services, rotation: CredentialService, database: Database
) -> None:
    merchant_id = f"rot_{uuid.uuid4().hex[:10]}"
    first = services.merchants.register(merchant_id)
    second = rotation.add_http_signature_key(merchant_id, ACTOR)
    second_jwt = rotation.add_jwt_certificate(merchant_id, ACTOR)
    auths = {
        "signature 1": HTTPSignatureAuth(merchant_id, first.key_id, first.shared_secret),
        "signature 2": HTTPSignatureAuth(merchant_id, second.key_id, second.shared_secret),
        "hs256 2": JWTAuth(merchant_id, second.key_id, shared_secret=second.shared_secret),
        "jwt 1": jwt_auth(merchant_id, first.jwt_kid, first.p12, first.p12_password),
        "jwt 2": jwt_auth(merchant_id, second_jwt.kid, second_jwt.p12, second_jwt.p12_password),
    }
    for name, auth in auths.items():
        assert status_with(app, auth).status_code == 404, name

    rotation.revoke(merchant_id, first.key_id, ACTOR)
    rotation.revoke(merchant_id, first.jwt_kid, ACTOR)

    for name in ("signature 1", "jwt 1"):
        refused = assert_error(status_with(app, auths[name]), 401, "authenticationFailed")
        assert refused["reason"] == "unknown_key_id", (name, refused)
    for name in ("signature 2", "hs256 2", "jwt 2"):
        assert status_with(app, auths[name]).status_code == 404, name

    with database.engine.connect() as conn:
        revoked = conn.execute(
            select(merchant_keys.c.key_id)
            .where(merchant_keys.c.merchant_id == merchant_id)
            .where(merchant_keys.c.revoked_at.is_not(None))
        ).scalars()
        assert sorted(revoked) == sorted([first.key_id, first.jwt_kid])
        actions = conn.execute(
            select(audit_log.c.action, audit_log.c.resource_ids, audit_log.c.actor)
            .where(audit_log.c.resource_ids.contains(merchant_id))
            .order_by(audit_log.c.seq)
        ).all()
    assert [(a, r, who) for a, r, who in actions] == [
        ("credential.add", f'["{merchant_id}","{second.key_id}"]', ACTOR),
        ("credential.add", f'["{merchant_id}","{second_jwt.kid}"]', ACTOR),
        ("credential.revoke", f'["{merchant_id}","{first.key_id}"]', ACTOR),
        ("credential.revoke", f'["{merchant_id}","{first.jwt_kid}"]', ACTOR),
    ]


def test_another_merchants_key_cannot_be_revoked(
    app: Starlette, services: Services, rotation: CredentialService, merchant_id: str
) -> None:
    other_id = f"rot_{uuid.uuid4().hex[:10]}"
    other = services.merchants.register(other_id)
    rotation.add_http_signature_key(other_id, ACTOR)

    with pytest.raises(NoSuchCredential, match="No such key"):
        rotation.revoke(merchant_id, other.key_id, ACTOR, force=True)

    auth = HTTPSignatureAuth(other_id, other.key_id, other.shared_secret)
    assert status_with(app, auth).status_code == 404


def test_changes_move_the_registry_epoch(
    services: Services, rotation: CredentialService, merchant_id: str, database: Database
) -> None:
    from opentms.adapters.storage.merchants import SQLMerchantStore

    store = SQLMerchantStore(database.engine)
    before = store.registry_epoch()
    added = rotation.add_http_signature_key(merchant_id, ACTOR)
    assert store.registry_epoch() == before + 1
    rotation.revoke(merchant_id, added.key_id, ACTOR)
    assert store.registry_epoch() == before + 2
    listed = {c.key_id: c.active for c in rotation.details(merchant_id).credentials}
    assert listed[added.key_id] is False
