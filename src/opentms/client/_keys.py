"""Loading the merchant's keys and certificates: PEM or DER, from a path, bytes
or a ``cryptography`` object, and from a PKCS#12 file. ``cryptography`` is
imported only when a key is loaded, to keep ``import opentms.client`` fast."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, TypeAlias, Union

if TYPE_CHECKING:
    from cryptography import x509
    from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey, RSAPublicKey

__all__ = [
    "CertificateLike",
    "PrivateKeyLike",
    "load_certificate",
    "load_p12",
    "load_private_key",
]

#: A private key: a path to a PEM/DER file, PEM text, PEM/DER bytes or an RSA key object.
PrivateKeyLike: TypeAlias = Union[str, "os.PathLike[str]", bytes, "RSAPrivateKey"]
#: A certificate: a path to a PEM/DER file, PEM bytes/text or an ``x509.Certificate``.
CertificateLike: TypeAlias = Union[str, "os.PathLike[str]", bytes, "x509.Certificate"]

MLE_CERTIFICATE_ALIAS = "CyberSource_SJC_US"


def _read(value: str | os.PathLike[str] | bytes, marker: bytes) -> bytes:
    if isinstance(value, bytes):
        return value
    if isinstance(value, str) and value.lstrip().startswith(marker.decode()):
        return value.encode()
    return Path(value).read_bytes()


def load_private_key(value: PrivateKeyLike, password: bytes | None = None) -> RSAPrivateKey:
    """An RSA private key from a path, PEM text, PEM/DER bytes or a key object."""
    from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey
    from cryptography.hazmat.primitives.serialization import (
        load_der_private_key,
        load_pem_private_key,
    )

    if isinstance(value, RSAPrivateKey):
        return value
    data = _read(value, b"-----BEGIN")
    if data.lstrip().startswith(b"-----BEGIN"):
        key = load_pem_private_key(data, password)
    else:
        key = load_der_private_key(data, password)
    if not isinstance(key, RSAPrivateKey):
        raise TypeError("The private key must be an RSA key.")
    return key


def load_certificate(value: CertificateLike) -> x509.Certificate:
    """An X.509 certificate from a path, PEM text, PEM/DER bytes or a certificate object."""
    from cryptography import x509

    if isinstance(value, x509.Certificate):
        return value
    data = _read(value, b"-----BEGIN")
    if data.lstrip().startswith(b"-----BEGIN"):
        return x509.load_pem_x509_certificate(data)
    return x509.load_der_x509_certificate(data)


def subject_attribute(certificate: x509.Certificate, name: str) -> str | None:
    """The subject's ``CN`` or ``serialNumber`` attribute."""
    from cryptography.x509.oid import NameOID

    oid = {"CN": NameOID.COMMON_NAME, "serialNumber": NameOID.SERIAL_NUMBER}[name]
    values = certificate.subject.get_attributes_for_oid(oid)
    return str(values[0].value) if values else None


def rsa_public_key(certificate: x509.Certificate) -> RSAPublicKey:
    from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey

    key = certificate.public_key()
    if not isinstance(key, RSAPublicKey):
        raise TypeError("The certificate must carry an RSA key.")
    return key


@dataclass(frozen=True, repr=False)
class P12Contents:
    """What a CyberSource-style PKCS#12 file holds: the merchant key, its
    certificate, and the other certificates (the request-MLE one among them)."""

    private_key: RSAPrivateKey
    certificate: x509.Certificate | None
    certificates: tuple[x509.Certificate, ...]

    def __repr__(self) -> str:
        return f"P12Contents(certificates={len(self.certificates)})"

    def certificate_named(self, common_name: str) -> x509.Certificate | None:
        """The certificate whose subject CN is ``common_name`` (case-insensitive)."""
        for certificate in self.certificates:
            cn = subject_attribute(certificate, "CN")
            if cn is not None and cn.lower() == common_name.lower():
                return certificate
        return None


def load_p12(value: str | os.PathLike[str] | bytes, password: str | bytes | None) -> P12Contents:
    """Open a PKCS#12 file (path or bytes) with its password."""
    from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey
    from cryptography.hazmat.primitives.serialization import pkcs12

    data = value if isinstance(value, bytes) else Path(value).read_bytes()
    secret = password.encode() if isinstance(password, str) else password
    key, certificate, additional = pkcs12.load_key_and_certificates(data, secret)
    if not isinstance(key, RSAPrivateKey):
        raise ValueError("The PKCS#12 file holds no RSA private key.")
    everything = ((certificate,) if certificate is not None else ()) + tuple(additional)
    return P12Contents(key, certificate, everything)
