"""Key pairs, certificates and PKCS#12 files for merchants' credentials.

The official CyberSource SDKs look for the certificate whose subject CN is the
merchant id and use its subject ``serialNumber`` attribute (OID 2.5.4.5) as
the JWT ``kid``. Request message-level encryption targets the certificate with
CN ``CyberSource_SJC_US``, whose private key the server keeps.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID

# The types the services hold without importing ``cryptography`` themselves.
Certificate = x509.Certificate
PrivateKey = rsa.RSAPrivateKey

MLE_CERTIFICATE_CN = "CyberSource_SJC_US"
CA_CERTIFICATE_CN = "opentms CertAuth"
RSA_BITS = 2048


class InvalidKeyMaterial(Exception):
    """A PEM file is not the kind of key or certificate expected."""


def generate_rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=RSA_BITS)


def new_serial_number() -> str:
    """A 22-digit subject serialNumber, the shape CyberSource uses for ``kid``."""
    return str(10**21 + secrets.randbelow(9 * 10**21))


def private_key_pem(key: rsa.RSAPrivateKey, password: bytes | None = None) -> bytes:
    encryption: serialization.KeySerializationEncryption = (
        serialization.BestAvailableEncryption(password)
        if password
        else serialization.NoEncryption()
    )
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption
    )


def load_private_key_pem(pem: bytes) -> rsa.RSAPrivateKey:
    key = serialization.load_pem_private_key(pem, password=None)
    if not isinstance(key, rsa.RSAPrivateKey):
        raise InvalidKeyMaterial("expected an RSA private key")
    return key


def public_key_pem(key: rsa.RSAPublicKey) -> bytes:
    return key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def load_public_key_pem(pem: bytes) -> rsa.RSAPublicKey:
    """An RSA public key from a PEM public key or certificate."""
    key: object
    try:
        if b"CERTIFICATE" in pem:
            key = x509.load_pem_x509_certificate(pem).public_key()
        else:
            key = serialization.load_pem_public_key(pem)
    except ValueError as exc:
        raise InvalidKeyMaterial("not a PEM public key or certificate") from exc
    if not isinstance(key, rsa.RSAPublicKey) or key.key_size < RSA_BITS:
        raise InvalidKeyMaterial("expected an RSA public key of at least 2048 bits")
    return key


def rsa_thumbprint(key: rsa.RSAPublicKey) -> str:
    """The RFC 7638 JWK thumbprint (SHA-256, base64url), used as a key id."""
    numbers = key.public_numbers()

    def b64(value: int) -> str:
        raw = value.to_bytes((value.bit_length() + 7) // 8, "big")
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()

    canonical = json.dumps(
        {"e": b64(numbers.e), "kty": "RSA", "n": b64(numbers.n)},
        separators=(",", ":"),
        sort_keys=True,
    )
    digest = hashlib.sha256(canonical.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def issue_certificate(
    key: rsa.RSAPrivateKey,
    common_name: str,
    serial_number: str | None,
    issuer_key: rsa.RSAPrivateKey | None = None,
    issuer_name: x509.Name | None = None,
    years: int = 3,
) -> x509.Certificate:
    """A certificate for ``key``; self-signed unless an issuer is given."""
    attributes = [x509.NameAttribute(NameOID.COMMON_NAME, common_name)]
    if serial_number is not None:
        attributes.append(x509.NameAttribute(NameOID.SERIAL_NUMBER, serial_number))
    subject = x509.Name(attributes)
    now = datetime.now(UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer_name or subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=365 * years))
        .add_extension(x509.BasicConstraints(ca=issuer_key is None, path_length=None), True)
        .sign(issuer_key or key, hashes.SHA256())
    )


def certificate_pem(certificate: x509.Certificate) -> bytes:
    return certificate.public_bytes(serialization.Encoding.PEM)


def load_certificate_pem(pem: bytes) -> x509.Certificate:
    try:
        return x509.load_pem_x509_certificate(pem)
    except ValueError as exc:
        raise InvalidKeyMaterial("not a PEM certificate") from exc


def subject_attribute(certificate: x509.Certificate, oid: x509.ObjectIdentifier) -> str | None:
    values = certificate.subject.get_attributes_for_oid(oid)
    if not values:
        return None
    value = values[0].value
    return value if isinstance(value, str) else value.decode()


def subject_serial_number(certificate: x509.Certificate) -> str | None:
    """The subject ``serialNumber`` attribute: the JWT ``kid`` of the SDKs."""
    return subject_attribute(certificate, NameOID.SERIAL_NUMBER)


def subject_common_name(certificate: x509.Certificate) -> str | None:
    return subject_attribute(certificate, NameOID.COMMON_NAME)


@dataclass(frozen=True)
class MerchantP12:
    """What ``opentms merchants create`` writes for JWT mode."""

    p12: bytes
    password: str
    kid: str
    certificate_pem: bytes


def build_merchant_p12(
    merchant_id: str,
    mle_certificate: x509.Certificate,
    ca_certificate: x509.Certificate | None = None,
) -> MerchantP12:
    """A new RSA key and certificate (CN = merchant id, serialNumber = kid)
    packed with the server's request-MLE certificate in a PKCS#12 file that both
    official SDKs read (legacy 3DES/SHA-1 PBE, which node-forge also opens)."""
    key = generate_rsa_key()
    kid = new_serial_number()
    certificate = issue_certificate(key, merchant_id, kid)
    password = secrets.token_urlsafe(18)
    extra = [
        pkcs12.PKCS12Certificate(
            mle_certificate,
            f"serialNumber={subject_serial_number(mle_certificate)},CN={MLE_CERTIFICATE_CN}".encode(),
        )
    ]
    if ca_certificate is not None:
        extra.append(pkcs12.PKCS12Certificate(ca_certificate, CA_CERTIFICATE_CN.encode()))
    encryption = (
        serialization.PrivateFormat.PKCS12.encryption_builder()
        .kdf_rounds(2048)
        .key_cert_algorithm(pkcs12.PBES.PBESv1SHA1And3KeyTripleDESCBC)
        # Security: SHA-1 here only MACs the file under its password, and is
        # what node-forge (the Node SDK) can read; the keys inside are RSA-2048.
        .hmac_hash(hashes.SHA1())  # noqa: S303
        .build(password.encode())
    )
    p12 = pkcs12.serialize_key_and_certificates(
        f"serialNumber={kid},CN={merchant_id}".encode(),
        key,
        certificate,
        extra,
        encryption,
    )
    return MerchantP12(p12, password, kid, certificate_pem(certificate))


@dataclass(frozen=True)
class CredentialsKey:
    """The RSA key a merchant's payment credentials are encrypted to: its RFC
    7638 thumbprint (the ``kid``), its PEM public key and, when the server made
    the pair, its PEM private key (shown to the operator once)."""

    kid: str
    public_key_pem: bytes
    private_key_pem: bytes | None


def new_credentials_key() -> CredentialsKey:
    """A new RSA key pair for payment credentials."""
    key = generate_rsa_key()
    public_key = key.public_key()
    return CredentialsKey(
        rsa_thumbprint(public_key), public_key_pem(public_key), private_key_pem(key)
    )


def credentials_key_from_pem(pem: bytes) -> CredentialsKey:
    """The merchant's own public key (PEM key or certificate); raises
    :class:`InvalidKeyMaterial` unless it is RSA of at least 2048 bits."""
    public_key = load_public_key_pem(pem)
    return CredentialsKey(rsa_thumbprint(public_key), public_key_pem(public_key), None)


@dataclass(frozen=True)
class CertificateSubject:
    """The subject attributes the SDKs read: CN (the merchant id) and
    ``serialNumber`` (the JWT ``kid``)."""

    common_name: str | None
    serial_number: str | None


def certificate_subject(pem: bytes) -> CertificateSubject:
    """The subject of a PEM certificate; raises :class:`InvalidKeyMaterial`."""
    certificate = load_certificate_pem(pem)
    return CertificateSubject(subject_common_name(certificate), subject_serial_number(certificate))


def new_request_mle_keys() -> tuple[bytes, bytes]:
    """A new request-MLE key pair: ``(PEM private key, PEM certificate)``, the
    certificate self-signed with CN ``CyberSource_SJC_US``."""
    key = generate_rsa_key()
    certificate = issue_certificate(key, MLE_CERTIFICATE_CN, new_serial_number())
    return private_key_pem(key), certificate_pem(certificate)


def load_key_pair(private_pem: bytes, certificate_pem: bytes) -> tuple[PrivateKey, Certificate]:
    """A PEM private key and its PEM certificate, loaded."""
    return load_private_key_pem(private_pem), load_certificate_pem(certificate_pem)
