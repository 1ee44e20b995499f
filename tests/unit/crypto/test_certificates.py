from __future__ import annotations

import base64
import re

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID
from jwcrypto.jwk import JWK

from opentms.crypto import certificates
from opentms.crypto.certificates import MerchantP12, build_merchant_p12, rsa_thumbprint
from tests.unit.jose import certificate_pem, rsa_key

MERCHANT_ID = "tms_test_merchant"


def _subject(certificate: x509.Certificate, oid: x509.ObjectIdentifier) -> list[str]:
    return [str(a.value) for a in certificate.subject.get_attributes_for_oid(oid)]


@pytest.fixture(scope="module")
def mle_certificate() -> x509.Certificate:
    return x509.load_pem_x509_certificate(
        certificate_pem(rsa_key(), "CyberSource_SJC_US", "7654321098765432109876")
    )


@pytest.fixture(scope="module")
def bundle(mle_certificate: x509.Certificate) -> MerchantP12:
    return build_merchant_p12(MERCHANT_ID, mle_certificate)


@pytest.fixture(scope="module")
def loaded(bundle: MerchantP12) -> pkcs12.PKCS12KeyAndCertificates:
    return pkcs12.load_pkcs12(bundle.p12, bundle.password.encode())


def test_p12_opens_with_its_password(loaded: pkcs12.PKCS12KeyAndCertificates) -> None:
    assert isinstance(loaded.key, rsa.RSAPrivateKey)
    assert loaded.key.key_size == 2048
    assert loaded.cert is not None


def test_p12_opens_the_way_the_sdk_helpers_do(bundle: MerchantP12) -> None:
    key, certificate, extra = pkcs12.load_key_and_certificates(bundle.p12, bundle.password.encode())
    assert isinstance(key, rsa.RSAPrivateKey)
    assert certificate is not None
    assert len(extra) == 1


@pytest.mark.parametrize(
    "password",
    [pytest.param(b"wrong", id="wrong"), pytest.param(None, id="none")],
)
def test_p12_refuses_another_password(bundle: MerchantP12, password: bytes | None) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 - cryptography's only signal
        pkcs12.load_pkcs12(bundle.p12, password)


def test_merchant_certificate_names_the_merchant_and_the_kid(
    bundle: MerchantP12, loaded: pkcs12.PKCS12KeyAndCertificates
) -> None:
    assert loaded.cert is not None
    certificate = loaded.cert.certificate
    assert _subject(certificate, NameOID.COMMON_NAME) == [MERCHANT_ID]
    assert _subject(certificate, NameOID.SERIAL_NUMBER) == [bundle.kid]
    assert re.fullmatch(r"[1-9][0-9]{21}", bundle.kid)
    assert certificates.subject_serial_number(certificate) == bundle.kid
    assert certificates.subject_common_name(certificate) == MERCHANT_ID


def test_merchant_certificate_is_for_the_private_key(
    loaded: pkcs12.PKCS12KeyAndCertificates,
) -> None:
    assert loaded.cert is not None
    assert isinstance(loaded.key, rsa.RSAPrivateKey)
    public = loaded.cert.certificate.public_key()
    assert isinstance(public, rsa.RSAPublicKey)
    assert public.public_numbers() == loaded.key.public_key().public_numbers()


def test_bundle_certificate_pem_is_the_one_in_the_p12(
    bundle: MerchantP12, loaded: pkcs12.PKCS12KeyAndCertificates
) -> None:
    assert loaded.cert is not None
    assert x509.load_pem_x509_certificate(bundle.certificate_pem) == loaded.cert.certificate


def test_mle_certificate_is_inside(
    loaded: pkcs12.PKCS12KeyAndCertificates, mle_certificate: x509.Certificate
) -> None:
    extra = [c.certificate for c in loaded.additional_certs]
    assert extra == [mle_certificate]
    assert _subject(extra[0], NameOID.COMMON_NAME) == ["CyberSource_SJC_US"]
    names = [c.friendly_name for c in loaded.additional_certs]
    assert names == [b"serialNumber=7654321098765432109876,CN=CyberSource_SJC_US"]


def test_ca_certificate_is_added_when_given(mle_certificate: x509.Certificate) -> None:
    ca = x509.load_pem_x509_certificate(certificate_pem(rsa_key(), "opentms CertAuth"))
    bundle = build_merchant_p12("merchant_ca", mle_certificate, ca)
    loaded = pkcs12.load_pkcs12(bundle.p12, bundle.password.encode())
    assert [c.certificate for c in loaded.additional_certs] == [mle_certificate, ca]


def test_each_bundle_has_its_own_key_kid_and_password(
    bundle: MerchantP12, mle_certificate: x509.Certificate
) -> None:
    again = build_merchant_p12(MERCHANT_ID, mle_certificate)
    assert again.kid != bundle.kid
    assert again.password != bundle.password
    assert again.certificate_pem != bundle.certificate_pem


# RFC 7638 §3.1: the example RSA key and its SHA-256 JWK thumbprint.
RFC7638_N = (
    "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPeb"
    "WKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQ"
    "MicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2N"
    "cRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw"
)
RFC7638_THUMBPRINT = "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"


def test_rsa_thumbprint_rfc7638_known_answer() -> None:
    n = int.from_bytes(base64.urlsafe_b64decode(RFC7638_N + "=" * (-len(RFC7638_N) % 4)), "big")
    key = rsa.RSAPublicNumbers(65537, n).public_key()
    assert rsa_thumbprint(key) == RFC7638_THUMBPRINT


def test_rsa_thumbprint_matches_jwcrypto() -> None:
    for _ in range(3):
        public = rsa_key().public_key()
        assert rsa_thumbprint(public) == JWK.from_pyca(public).thumbprint()


def test_load_public_key_pem_refuses_small_and_non_rsa_keys() -> None:
    # A deliberately weak key: the point is that it is refused.
    small = rsa.generate_private_key(public_exponent=65537, key_size=1024)  # noqa: S505
    small_pem = certificates.public_key_pem(small.public_key())
    with pytest.raises(certificates.InvalidKeyMaterial):
        certificates.load_public_key_pem(small_pem)
    ec_pem = certificate_pem(ec.generate_private_key(ec.SECP256R1()), "x")
    with pytest.raises(certificates.InvalidKeyMaterial):
        certificates.load_public_key_pem(ec_pem)
    with pytest.raises(certificates.InvalidKeyMaterial):
        certificates.load_public_key_pem(b"-----BEGIN PUBLIC KEY-----\nnope\n")


def test_a_new_credentials_key_is_a_pair_named_by_its_thumbprint() -> None:
    made = certificates.new_credentials_key()
    assert made.private_key_pem is not None
    private = certificates.load_private_key_pem(made.private_key_pem)
    assert certificates.public_key_pem(private.public_key()) == made.public_key_pem
    assert made.kid == rsa_thumbprint(private.public_key())


def test_a_merchants_credentials_key_is_its_public_key_or_certificate() -> None:
    key = rsa_key()
    public_pem = certificates.public_key_pem(key.public_key())
    from_key = certificates.credentials_key_from_pem(public_pem)
    from_certificate = certificates.credentials_key_from_pem(certificate_pem(key, "m"))
    assert from_key == from_certificate
    assert from_key.public_key_pem == public_pem
    assert from_key.kid == rsa_thumbprint(key.public_key())
    assert from_key.private_key_pem is None
    with pytest.raises(certificates.InvalidKeyMaterial):
        certificates.credentials_key_from_pem(b"not a key")


def test_certificate_subject_reads_the_cn_and_the_serial_number() -> None:
    subject = certificates.certificate_subject(certificate_pem(rsa_key(), MERCHANT_ID, "123"))
    assert subject == certificates.CertificateSubject(MERCHANT_ID, "123")
    bare = certificates.certificate_subject(certificate_pem(rsa_key(), MERCHANT_ID))
    assert bare.serial_number is None
    with pytest.raises(certificates.InvalidKeyMaterial):
        certificates.certificate_subject(b"-----BEGIN CERTIFICATE-----\nnope\n")


def test_a_new_request_mle_key_pair_loads_and_matches() -> None:
    private_pem, certificate = certificates.new_request_mle_keys()
    key, loaded = certificates.load_key_pair(private_pem, certificate)
    assert certificates.subject_common_name(loaded) == certificates.MLE_CERTIFICATE_CN
    assert certificates.subject_serial_number(loaded)
    public = loaded.public_key()
    assert isinstance(public, rsa.RSAPublicKey)
    assert certificates.public_key_pem(key.public_key()) == certificates.public_key_pem(public)
