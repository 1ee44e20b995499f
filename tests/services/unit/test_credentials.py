"""CredentialService over the fake store: keys added beside the ones in use
authenticate at once, a revoked one is forgotten by the lookups even when
cached, and the refusals (another merchant's key, the last credential, a
key already revoked, the payment-credentials key) say why."""

from __future__ import annotations

import base64

import pytest

from opentms.bootstrap import Services
from opentms.crypto import certificates
from opentms.domain.audit import cli_actor
from opentms.domain.merchant import KeyKind
from opentms.services.credentials import (
    CredentialRefused,
    CredentialService,
    LastCredential,
    NoSuchCredential,
)
from opentms.services.merchants import AlreadyRegistered, InvalidRegistration
from tests.services.fakes import FakeClock, FakePorts
from tests.services.unit.conftest import MERCHANT, OTHER, seed_merchant

ACTOR = cli_actor("tester")
SECRET_A = base64.b64encode(bytes(range(32))).decode()
SECRET_B = base64.b64encode(bytes(range(32, 64))).decode()


def certificate(common_name: str, kid: str) -> bytes:
    key = certificates.generate_rsa_key()
    return certificates.certificate_pem(certificates.issue_certificate(key, common_name, kid))


@pytest.fixture(scope="module")
def certs() -> dict[str, bytes]:
    """Certificates for the merchant under two kids (RSA keys are slow to make)."""
    return {"kid-1": certificate(MERCHANT, "kid-1"), "kid-2": certificate(MERCHANT, "kid-2")}


@pytest.fixture
def rotation(services: Services, fakes: FakePorts, clock: FakeClock) -> CredentialService:
    seed_merchant(fakes, clock, MERCHANT)
    seed_merchant(fakes, clock, OTHER)
    return services.merchants.credential_service()


def test_two_keys_of_each_kind_authenticate_at_once(
    services: Services, rotation: CredentialService, certs: dict[str, bytes]
) -> None:
    rotation.add_http_signature_key(MERCHANT, ACTOR, "key-a", SECRET_A)
    rotation.add_http_signature_key(MERCHANT, ACTOR, "key-b", SECRET_B)
    rotation.add_jwt_certificate(MERCHANT, ACTOR, certs["kid-1"])
    rotation.add_jwt_certificate(MERCHANT, ACTOR, certs["kid-2"])

    lookups = services.merchants
    assert lookups.shared_secret("key-a") == (MERCHANT, bytes(range(32)))
    assert lookups.shared_secret("key-b") == (MERCHANT, bytes(range(32, 64)))
    assert lookups.jwt_certificate("kid-1") == (MERCHANT, certs["kid-1"])
    assert lookups.jwt_certificate("kid-2") == (MERCHANT, certs["kid-2"])
    assert sorted(lookups.jwt_certificates_of(MERCHANT)) == sorted(certs.values())


def test_a_revoked_key_is_forgotten_even_when_cached(
    services: Services, rotation: CredentialService, fakes: FakePorts, certs: dict[str, bytes]
) -> None:
    rotation.add_http_signature_key(MERCHANT, ACTOR, "key-a", SECRET_A)
    rotation.add_http_signature_key(MERCHANT, ACTOR, "key-b", SECRET_B)
    rotation.add_jwt_certificate(MERCHANT, ACTOR, certs["kid-1"])
    lookups = services.merchants
    # Cached by these lookups (30 s), then revoked.
    assert lookups.shared_secret("key-a") is not None
    assert lookups.jwt_certificate("kid-1") is not None
    epoch = fakes.merchant_store.epoch

    revoked = rotation.revoke(MERCHANT, "key-a", ACTOR)
    rotation.revoke(MERCHANT, "kid-1", ACTOR)

    assert (revoked.kind, revoked.key_id, revoked.active) == (
        KeyKind.HTTP_SIGNATURE,
        "key-a",
        False,
    )
    assert fakes.merchant_store.epoch == epoch + 2
    assert lookups.shared_secret("key-a") is None
    assert lookups.jwt_certificate("kid-1") is None
    assert lookups.jwt_certificates_of(MERCHANT) == []
    assert lookups.shared_secret("key-b") == (MERCHANT, bytes(range(32, 64)))


def test_another_merchants_key_is_no_key_of_this_one(rotation: CredentialService) -> None:
    rotation.add_http_signature_key(MERCHANT, ACTOR, "mine", SECRET_A)
    rotation.add_http_signature_key(OTHER, ACTOR, "theirs", SECRET_A)
    rotation.add_http_signature_key(OTHER, ACTOR, "theirs-2", SECRET_B)

    with pytest.raises(NoSuchCredential) as other:
        rotation.revoke(MERCHANT, "theirs", ACTOR, force=True)
    with pytest.raises(NoSuchCredential) as unknown:
        rotation.revoke(MERCHANT, "nobodys", ACTOR, force=True)

    assert "No such key" in str(other.value)
    # The same words either way: nothing tells that the id exists elsewhere.
    assert str(other.value).replace("theirs", "X") == str(unknown.value).replace("nobodys", "X")
    assert all(c.active for c in rotation.details(OTHER).credentials)


def test_the_last_credential_is_kept_unless_forced(
    rotation: CredentialService, certs: dict[str, bytes], fakes: FakePorts
) -> None:
    rotation.add_http_signature_key(MERCHANT, ACTOR, "key-a", SECRET_A)
    rotation.add_jwt_certificate(MERCHANT, ACTOR, certs["kid-1"])
    rotation.revoke(MERCHANT, "kid-1", ACTOR)

    with pytest.raises(LastCredential, match="last active authentication credential"):
        rotation.revoke(MERCHANT, "key-a", ACTOR)
    assert rotation.details(MERCHANT).credentials[0].active

    forced = rotation.revoke(MERCHANT, "key-a", ACTOR, force=True)
    assert not forced.active
    assert fakes.merchant_store.audit[-1].details == {"kind": "http_signature", "forced": True}


def test_refusals_say_why(rotation: CredentialService, fakes: FakePorts) -> None:
    rotation.add_http_signature_key(MERCHANT, ACTOR, "key-a", SECRET_A)
    rotation.add_http_signature_key(MERCHANT, ACTOR, "key-b", SECRET_B)
    rotation.revoke(MERCHANT, "key-a", ACTOR)
    with pytest.raises(CredentialRefused, match="already revoked"):
        rotation.revoke(MERCHANT, "key-a", ACTOR)
    # A revoked key's id is never registered again (no resurrection).
    with pytest.raises(AlreadyRegistered):
        rotation.add_http_signature_key(MERCHANT, ACTOR, "key-a", SECRET_A)
    with pytest.raises(InvalidRegistration, match="No merchant 'nobody'"):
        rotation.revoke("nobody", "key-b", ACTOR)
    with pytest.raises(InvalidRegistration, match="at least 32 bytes"):
        rotation.add_http_signature_key(
            MERCHANT, ACTOR, "key-c", base64.b64encode(b"short").decode()
        )


def test_a_given_certificate_must_name_the_merchant(
    rotation: CredentialService, certs: dict[str, bytes]
) -> None:
    with pytest.raises(InvalidRegistration, match="CN must be the merchant id"):
        rotation.add_jwt_certificate(OTHER, ACTOR, certs["kid-1"])


def test_every_change_is_audited_without_secrets(
    rotation: CredentialService, fakes: FakePorts, certs: dict[str, bytes]
) -> None:
    rotation.add_http_signature_key(MERCHANT, ACTOR, "key-a", SECRET_A)
    rotation.add_jwt_certificate(MERCHANT, ACTOR, certs["kid-1"])
    rotation.revoke(MERCHANT, "key-a", ACTOR)

    entries = fakes.merchant_store.audit
    assert [(e.action, e.resource_ids, e.actor) for e in entries] == [
        ("credential.add", (MERCHANT, "key-a"), ACTOR),
        ("credential.add", (MERCHANT, "kid-1"), ACTOR),
        ("credential.revoke", (MERCHANT, "key-a"), ACTOR),
    ]
    assert entries[-1].details == {"kind": "http_signature", "forced": False}
    assert all(SECRET_A not in e.canonical(1).decode() for e in entries)


def test_details_list_every_credential_never_material(
    rotation: CredentialService, fakes: FakePorts
) -> None:
    rotation.add_http_signature_key(MERCHANT, ACTOR, "key-a", SECRET_A)
    rotation.add_http_signature_key(MERCHANT, ACTOR, "key-b", SECRET_B)
    rotation.revoke(MERCHANT, "key-a", ACTOR)

    details = rotation.details(MERCHANT)
    assert details.status.id == MERCHANT
    assert [p.name for p in details.profiles] == ["default", "plain"]
    assert [(c.key_id, c.active) for c in details.credentials] == [
        ("key-a", False),
        ("key-b", True),
    ]
    assert SECRET_A not in repr(details)
