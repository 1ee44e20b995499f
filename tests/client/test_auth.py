"""The signers: JWT RS256 from a P12 (bytes or file) or a PEM key and kid,
HS256, HTTP Signature with a fixed host, and their argument checks."""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from starlette.applications import Starlette

from opentms.client import ASGIAppTransport, Client, HTTPSignatureAuth, JWTAuth
from opentms.client._keys import load_p12
from tests.client.conftest import BASE_URL
from tests.support import Merchant


def works(app: Starlette, auth: JWTAuth | HTTPSignatureAuth) -> None:
    with Client(BASE_URL, auth=auth, transport=ASGIAppTransport(app)) as client:
        customer = client.customers.create({})
        assert client.customers.get(customer.id).id == customer.id


def test_rs256_from_a_p12_as_bytes_or_file(
    app: Starlette, merchant: Merchant, tmp_path: Path
) -> None:
    registration = merchant.registration
    assert registration.p12 is not None
    p12_file = tmp_path / "merchant.p12"
    p12_file.write_bytes(registration.p12)
    for source in (registration.p12, p12_file, str(p12_file)):
        auth = JWTAuth.from_p12(registration.merchant_id, source, registration.p12_password)
        assert (auth.kid, auth.algorithm) == (registration.jwt_kid, "RS256")
        works(app, auth)
    aliased = JWTAuth.from_p12(
        registration.merchant_id, registration.p12, registration.p12_password, key_alias="nobody"
    )
    assert aliased.kid == registration.jwt_kid  # falls back to the key's own certificate


def test_rs256_from_a_pem_key_and_kid(app: Starlette, merchant: Merchant, tmp_path: Path) -> None:
    registration = merchant.registration
    assert registration.p12 is not None
    key = load_p12(registration.p12, registration.p12_password).private_key
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    der = key.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    key_file = tmp_path / "key.pem"
    key_file.write_bytes(pem)
    for private_key in (key_file, str(key_file), pem, pem.decode(), der, key):
        works(app, JWTAuth(registration.merchant_id, registration.jwt_kid, private_key=private_key))


def test_http_signature_with_a_fixed_host(app: Starlette, merchant: Merchant) -> None:
    registration = merchant.registration
    auth = HTTPSignatureAuth(
        registration.merchant_id,
        registration.key_id,
        registration.shared_secret,
        host="apitest.cybersource.com",
    )
    works(app, auth)
    signed = auth.sign("GET", "/tms/v2/customers/C1", "testserver", b"")
    assert ("host", "apitest.cybersource.com") in signed


def test_bad_arguments(merchant: Merchant) -> None:
    registration = merchant.registration
    with pytest.raises(ValueError, match="exactly one"):
        JWTAuth(registration.merchant_id, "kid")
    with pytest.raises(ValueError, match="exactly one"):
        JWTAuth(registration.merchant_id, "kid", private_key=b"x", shared_secret="eA==")
    assert registration.p12 is not None
    with pytest.raises(ValueError, match=r"(?i)password|decrypt|invalid"):
        JWTAuth.from_p12(registration.merchant_id, registration.p12, "wrong password")
    with pytest.raises(ValueError, match=r"(?i)key|pem|unable"):
        JWTAuth(registration.merchant_id, "kid", private_key=b"-----BEGIN PRIVATE KEY-----\nxx")
