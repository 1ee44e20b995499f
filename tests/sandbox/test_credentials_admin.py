"""The sandbox admin API's credential rotation (``/opentms/v1/sandbox/
merchants/{id}/credentials`` and ``.../bundle``): the same rules as
``opentms merchants keys``, as TMS errors (404 for no such key or merchant,
409 for a refused revocation)."""

from __future__ import annotations

import base64
import uuid

import httpx
from starlette.applications import Starlette

from opentms.client import ASGIAppTransport, HTTPSignatureAuth, JWTAuth
from opentms.client._keys import load_p12
from tests.api.envelopes import assert_error


def probe(app: Starlette, auth: httpx.Auth) -> int:
    with httpx.Client(
        transport=ASGIAppTransport(app), base_url="http://testserver", auth=auth
    ) as client:
        return client.get(f"/tms/v1/instrumentidentifiers/{uuid.uuid4().hex.upper()}").status_code


def test_add_list_revoke_and_bundle(admin_client: httpx.Client, sandbox_app: Starlette) -> None:
    merchant_id = f"adm_{uuid.uuid4().hex[:8]}"
    created = admin_client.post("/merchants", json={"merchantId": merchant_id})
    assert created.status_code == 201, created.text
    first = created.json()["httpSignature"]
    base = f"/merchants/{merchant_id}"

    added = admin_client.post(f"{base}/credentials", json={"kind": "httpSignature"})
    assert added.status_code == 201, added.text
    second = added.json()
    jwt = admin_client.post(f"{base}/credentials", json={"kind": "jwt"}).json()
    p12 = load_p12(base64.b64decode(jwt["p12Base64"]), jwt["p12Password"])
    old = HTTPSignatureAuth(merchant_id, first["keyId"], first["sharedSecret"])
    new = HTTPSignatureAuth(merchant_id, second["keyId"], second["sharedSecret"])
    new_jwt = JWTAuth(merchant_id, jwt["keyId"], private_key=p12.private_key)
    assert [probe(sandbox_app, a) for a in (old, new, new_jwt)] == [404, 404, 404]

    revoked = admin_client.delete(f"{base}/credentials/{first['keyId']}")
    assert revoked.status_code == 200, revoked.text
    assert revoked.json()["active"] is False
    assert [probe(sandbox_app, a) for a in (old, new, new_jwt)] == [401, 404, 404]

    listed = admin_client.get(f"{base}/credentials").json()["credentials"]
    assert {(c["keyId"], c["active"]) for c in listed} >= {
        (first["keyId"], False),
        (second["keyId"], True),
        (jwt["keyId"], True),
    }
    assert first["sharedSecret"] not in str(listed)

    bundle = admin_client.post(f"{base}/bundle")
    assert bundle.status_code == 201, bundle.text
    fresh = bundle.json()["httpSignature"]
    auth = HTTPSignatureAuth(merchant_id, fresh["keyId"], fresh["sharedSecret"])
    assert probe(sandbox_app, auth) == 404


def test_refusals_are_tms_errors(admin_client: httpx.Client) -> None:
    merchant_id = f"adm_{uuid.uuid4().hex[:8]}"
    other_id = f"adm_{uuid.uuid4().hex[:8]}"
    bundle = admin_client.post("/merchants", json={"merchantId": merchant_id}).json()
    other = admin_client.post("/merchants", json={"merchantId": other_id}).json()
    base = f"/merchants/{merchant_id}"

    theirs = admin_client.delete(f"{base}/credentials/{other['httpSignature']['keyId']}")
    assert "No such key" in assert_error(theirs, 404, "notFound")["message"]
    nobody = admin_client.get("/merchants/nobody/credentials")
    assert_error(nobody, 404, "notFound")

    admin_client.delete(f"{base}/credentials/{bundle['jwt']['kid']}")
    last = admin_client.delete(f"{base}/credentials/{bundle['httpSignature']['keyId']}")
    assert "last active" in assert_error(last, 409, "conflict")["message"]
    forced = admin_client.delete(
        f"{base}/credentials/{bundle['httpSignature']['keyId']}", params={"force": "true"}
    )
    assert forced.status_code == 200, forced.text

    wrong = admin_client.post(f"{base}/credentials", json={"kind": "rsa"})
    assert_error(wrong, 400, "invalidFields", field="kind")


def test_the_routes_are_in_the_openapi_document(admin_client: httpx.Client) -> None:
    paths = admin_client.get("http://testserver/openapi.json").json()["paths"]
    base = "/opentms/v1/sandbox/merchants/{merchantId}"
    assert set(paths[f"{base}/credentials"]) == {"get", "post"}
    assert set(paths[f"{base}/credentials/{{keyId}}"]) == {"delete"}
    assert set(paths[f"{base}/bundle"]) == {"post"}
