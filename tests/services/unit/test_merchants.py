"""MerchantService over the fake store: registration, profiles, the lookups
authentication makes and the tenant every request runs as."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from opentms.bootstrap import Services, build_services
from opentms.config import Settings
from opentms.domain.errors import Forbidden, ProfileNotFound
from opentms.domain.merchant import KeyKind
from opentms.services.merchants import AlreadyRegistered, InvalidRegistration, Registration
from tests.services.fakes import FakeClock, FakePorts
from tests.services.unit.conftest import MERCHANT, OTHER, seed_merchant

SECRET = base64.b64encode(bytes(range(32))).decode()


@pytest.fixture(scope="module")
def generated() -> Registration:
    """One registration that generated everything (keys are slow to make);
    the other tests register ``m1`` again with its certificate and key."""
    services = build_services(
        Settings(data_dir=Path("/nonexistent/opentms-services-tier")),
        FakeClock(),
        ports=FakePorts().ports(),
    )
    return services.merchants.register("m1")


def register(services: Services, generated: Registration, **given: str) -> Registration:
    return services.merchants.register(
        "m1",
        key_id=given.get("key_id", "key-1"),
        shared_secret=given.get("shared_secret", SECRET),
        jwt_certificate_pem=generated.jwt_certificate_pem,
        credentials_public_key_pem=generated.credentials_public_key_pem,
    )


def test_a_generated_registration_has_every_credential(generated: Registration) -> None:
    assert generated.p12 is not None
    assert generated.p12_password
    assert generated.credentials_private_key_pem is not None
    assert len(base64.b64decode(generated.shared_secret)) == 32
    assert generated.jwt_kid
    assert generated.credentials_kid
    assert generated.key_id


def test_register_with_given_material_keeps_it(services: Services, generated: Registration) -> None:
    made = register(services, generated)

    assert (made.key_id, made.shared_secret, made.jwt_kid) == ("key-1", SECRET, generated.jwt_kid)
    assert made.p12 is None
    assert made.credentials_private_key_pem is None
    assert services.merchants.shared_secret("key-1") == ("m1", bytes(range(32)))
    assert services.merchants.jwt_certificate(generated.jwt_kid) == (
        "m1",
        generated.jwt_certificate_pem,
    )
    assert services.merchants.jwt_certificates_of("m1") == [generated.jwt_certificate_pem]
    assert services.merchants.credentials_key("m1") == (
        generated.credentials_kid,
        generated.credentials_public_key_pem,
    )


def test_the_shared_secret_is_stored_sealed(
    services: Services, generated: Registration, fakes: FakePorts
) -> None:
    register(services, generated)

    stored = fakes.merchant_store.find_key(KeyKind.HTTP_SIGNATURE, "key-1")
    assert stored is not None
    assert bytes(range(32)) not in stored.material


def test_registration_makes_a_default_profile_with_tokens(
    services: Services, generated: Registration
) -> None:
    made = register(services, generated)

    tenant = services.merchants.tenant("m1", None)
    assert tenant.profile.id == made.default_profile_id
    assert tenant.profile.network_tokens_enabled
    assert tenant.merchant_id == "m1"


def test_a_merchant_registered_twice_is_refused(
    services: Services, generated: Registration
) -> None:
    register(services, generated)

    with pytest.raises(AlreadyRegistered):
        register(services, generated, key_id="key-2")


@pytest.mark.parametrize("merchant_id", ["", "a b", "a/b", "é", "x" * 65, "m1;drop"])
def test_a_bad_merchant_id_is_refused(services: Services, merchant_id: str) -> None:
    with pytest.raises(InvalidRegistration, match="merchant id"):
        services.merchants.register(merchant_id)


@pytest.mark.parametrize(
    ("secret", "message"),
    [
        ("not base64!", "base64"),
        (base64.b64encode(b"short").decode(), "at least 32 bytes"),
        (base64.b64encode(bytes(31)).decode(), "at least 32 bytes"),
    ],
)
def test_a_bad_shared_secret_is_refused(
    services: Services, generated: Registration, secret: str, message: str
) -> None:
    with pytest.raises(InvalidRegistration, match=message):
        register(services, generated, shared_secret=secret)
    assert services.merchants.list_merchants() == []


def test_a_certificate_of_another_merchant_is_refused(
    services: Services, generated: Registration
) -> None:
    with pytest.raises(InvalidRegistration, match="CN must be the merchant id"):
        services.merchants.register(
            "m2", jwt_certificate_pem=generated.jwt_certificate_pem, shared_secret=SECRET
        )


@pytest.mark.parametrize("pem", [b"", b"-----BEGIN CERTIFICATE-----\nxx\n"])
def test_unreadable_key_material_is_refused(
    services: Services, generated: Registration, pem: bytes
) -> None:
    with pytest.raises(InvalidRegistration):
        services.merchants.register("m1", jwt_certificate_pem=pem, shared_secret=SECRET)
    with pytest.raises(InvalidRegistration, match="credentials public key"):
        services.merchants.register(
            "m1",
            jwt_certificate_pem=generated.jwt_certificate_pem,
            credentials_public_key_pem=pem,
            shared_secret=SECRET,
        )


def test_tenant_selects_a_profile_by_id_in_any_case(
    services: Services, fakes: FakePorts, clock: FakeClock
) -> None:
    seed_merchant(fakes, clock, MERCHANT)

    plain = services.merchants.tenant(MERCHANT, f"{MERCHANT}-plain".lower())

    assert plain.profile.name == "plain"
    assert not plain.profile.network_tokens_enabled


@pytest.mark.parametrize("profile_id", ["NOPE", "a b", "\x00", "x" * 129])
def test_an_unknown_profile_is_not_found(
    services: Services, fakes: FakePorts, clock: FakeClock, profile_id: str
) -> None:
    seed_merchant(fakes, clock, MERCHANT)

    with pytest.raises(ProfileNotFound):
        services.merchants.tenant(MERCHANT, profile_id)


def test_another_merchants_profile_is_not_found(
    services: Services, fakes: FakePorts, clock: FakeClock
) -> None:
    seed_merchant(fakes, clock, MERCHANT)
    seed_merchant(fakes, clock, OTHER)

    with pytest.raises(ProfileNotFound):
        services.merchants.tenant(MERCHANT, f"{OTHER}-PLAIN")


def test_an_unknown_merchant_has_no_tenant(services: Services) -> None:
    with pytest.raises(ProfileNotFound, match="Merchant not found"):
        services.merchants.tenant("ghost", None)


def test_add_profile_and_the_summaries(
    services: Services, fakes: FakePorts, clock: FakeClock
) -> None:
    seed_merchant(fakes, clock, MERCHANT)

    added = services.merchants.add_profile(MERCHANT, "no tokens", False)

    summaries = services.merchants.profile_summaries(MERCHANT)
    assert [(p.name, p.default) for p in summaries] == [
        ("default", True),
        ("plain", False),
        ("no tokens", False),
    ]
    assert services.merchants.tenant(MERCHANT, added.id).profile.name == "no tokens"


def test_a_profile_of_an_unknown_merchant_is_refused(services: Services) -> None:
    with pytest.raises(InvalidRegistration, match="No merchant"):
        services.merchants.add_profile("ghost", "p", True)
    with pytest.raises(InvalidRegistration, match="No merchant"):
        services.merchants.profile_summaries("ghost")


def test_merchant_summaries_list_ids_keys_and_profile_counts(
    services: Services, generated: Registration, fakes: FakePorts, clock: FakeClock
) -> None:
    seed_merchant(fakes, clock, MERCHANT)
    register(services, generated)

    summaries = {s.id: s for s in services.merchants.merchant_summaries()}

    assert sorted(summaries) == services.merchants.list_merchants() == [MERCHANT, "m1"]
    assert summaries["m1"].key_ids == ("key-1",)
    assert summaries["m1"].jwt_kids == (generated.jwt_kid,)
    assert (summaries["m1"].profiles, summaries[MERCHANT].profiles) == (1, 2)


@pytest.mark.parametrize("key_id", ["unknown", "", "a b", "\x00", "x" * 129])
def test_unknown_or_malformed_key_ids_find_nothing(services: Services, key_id: str) -> None:
    assert services.merchants.shared_secret(key_id) is None
    assert services.merchants.jwt_certificate(key_id) is None
    assert services.merchants.response_key("m1", key_id) is None


def test_a_merchant_without_a_credentials_key_is_forbidden(
    services: Services, fakes: FakePorts, clock: FakeClock
) -> None:
    seed_merchant(fakes, clock, MERCHANT)

    with pytest.raises(Forbidden, match="payment-credentials encryption key"):
        services.merchants.credentials_key(MERCHANT)


def test_the_response_key_is_the_merchants_own(services: Services, generated: Registration) -> None:
    register(services, generated)

    assert (
        services.merchants.response_key("m1", generated.credentials_kid)
        == generated.credentials_public_key_pem
    )
    assert services.merchants.response_key("m1", generated.jwt_kid) == generated.jwt_certificate_pem
    assert services.merchants.response_key("m2", generated.credentials_kid) is None


def test_the_request_mle_certificate_is_made_once(services: Services, fakes: FakePorts) -> None:
    first = services.merchants.request_mle_certificate()
    second = services.merchants.request_mle_certificate()

    assert first == second
    assert fakes.merchant_store.server_keys["request_mle"].certificate_pem is not None
