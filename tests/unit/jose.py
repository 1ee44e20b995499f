"""Keys, certificates and compact JWS tokens made in tests (with jwcrypto and
cryptography directly, not through opentms)."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.asymmetric.types import CertificateIssuerPrivateKeyTypes
from cryptography.x509.oid import NameOID
from jwcrypto.jwk import JWK
from jwcrypto.jws import JWS


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def certificate_pem(
    key: CertificateIssuerPrivateKeyTypes, common_name: str, serial_number: str | None = None
) -> bytes:
    attributes = [x509.NameAttribute(NameOID.COMMON_NAME, common_name)]
    if serial_number is not None:
        attributes.append(x509.NameAttribute(NameOID.SERIAL_NUMBER, serial_number))
    name = x509.Name(attributes)
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=30))
        .sign(key, hashes.SHA256())
    )
    return certificate.public_bytes(serialization.Encoding.PEM)


def rsa_jwk(key: rsa.RSAPrivateKey) -> Any:
    return JWK.from_pyca(key)


def oct_jwk(secret: bytes) -> Any:
    return JWK(kty="oct", k=b64url(secret))


def sign(key: Any, alg: str, header: dict[str, Any], payload: bytes | dict[str, Any]) -> str:
    """A compact JWS over ``payload`` with ``alg`` plus ``header`` protected."""
    raw = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    jws = JWS(raw)
    jws.add_signature(key, alg=alg, protected=json.dumps({"alg": alg, **header}))
    token = jws.serialize(compact=True)
    assert isinstance(token, str)
    return token


def unsigned(header: dict[str, Any], claims: dict[str, Any], signature: bytes = b"") -> str:
    """A compact token assembled by hand (for alg ``none`` and tampering)."""
    return ".".join(
        (
            b64url(json.dumps(header).encode()),
            b64url(json.dumps(claims).encode()),
            b64url(signature),
        )
    )
