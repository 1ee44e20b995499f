"""PaymentCredentialService.issue without HTTP: what it returns is typed (the
wire JSON is rendered by the HTTP adapter), on the session's real services."""

from __future__ import annotations

import pytest

from opentms.bootstrap import Services
from opentms.domain.card import PAN
from opentms.domain.errors import NotFound
from opentms.domain.network_token import TokenNetwork
from opentms.services.instrument_identifiers import CardExpiry
from opentms.services.payment_credentials import (
    CardCredentials,
    CredentialLinks,
    CredentialsRequest,
    CredentialType,
    NetworkTokenCredentials,
)
from opentms.services.tenancy import Tenant
from tests.support import Merchant, make_pan

EXPIRY = CardExpiry("12", "2031")


@pytest.fixture
def tenant(services: Services, merchant: Merchant) -> Tenant:
    return services.merchants.tenant(merchant.id, None)


@pytest.fixture
def plain_tenant(services: Services, merchant: Merchant) -> Tenant:
    """A profile that provisions no network tokens."""
    profile = services.merchants.add_profile(merchant.id, "services: no tokens", False)
    return services.merchants.tenant(merchant.id, profile.id)


def store(services: Services, tenant: Tenant, pan: str) -> str:
    view, _ = services.instrument_identifiers.create(tenant, PAN.parse(pan), {}, EXPIRY)
    return view.instrument_identifier.id


def test_a_visa_token_comes_with_a_cryptogram_and_a_rising_atc(
    services: Services, tenant: Tenant
) -> None:
    pan = make_pan("411111")
    ii_id = store(services, tenant, pan)
    issue = services.payment_credentials.issue
    first = issue(tenant, ii_id, CredentialsRequest(version=2))
    second = issue(tenant, ii_id, CredentialsRequest(version=2))

    assert isinstance(first, NetworkTokenCredentials)
    assert isinstance(second, NetworkTokenCredentials)
    assert first.token.network == TokenNetwork.VISA
    assert first.token.number is not None
    assert first.token.number.reveal() != pan
    assert first.cryptogram is not None
    assert first.security_code is None
    assert (first.eci, first.commerce_indicator) == ("07", "internet")
    assert second.atc > first.atc
    assert first.links == CredentialLinks(ii_id, 2)
    assert first.card is not None
    assert first.card.number.reveal() == pan
    assert first.card.type == "001"
    # Security: a logged result shows neither the cryptogram nor a clear number.
    shown = repr(first)
    assert first.cryptogram not in shown
    assert pan not in shown
    assert first.token.number.reveal() not in shown


def test_v3_links_the_resources_the_token_led_to(services: Services, tenant: Tenant) -> None:
    ii_id = store(services, tenant, make_pan("555555"))
    result = services.payment_credentials.issue(tenant, ii_id, CredentialsRequest(version=3))

    assert isinstance(result, NetworkTokenCredentials)
    assert result.links == CredentialLinks(
        ii_id, 3, instrument_identifier_id=ii_id, tokenized_card_id=result.token.id
    )


def test_amex_answers_a_security_code_and_network_token_neither(
    services: Services, tenant: Tenant
) -> None:
    ii_id = store(services, tenant, make_pan("378282", 15))
    issue = services.payment_credentials.issue
    coded = issue(tenant, ii_id, CredentialsRequest(version=2))
    bare = issue(
        tenant,
        ii_id,
        CredentialsRequest(version=2, credential_type=CredentialType.NETWORK_TOKEN),
    )

    assert isinstance(coded, NetworkTokenCredentials)
    assert (coded.cryptogram, coded.security_code is not None) == (None, True)
    assert isinstance(bare, NetworkTokenCredentials)
    assert (bare.cryptogram, bare.security_code) == (None, None)


def test_without_a_network_token_v3_gives_the_card_and_v2_not_found(
    services: Services, plain_tenant: Tenant
) -> None:
    pan = make_pan("601111")
    ii_id = store(services, plain_tenant, pan)
    issue = services.payment_credentials.issue

    result = issue(plain_tenant, ii_id, CredentialsRequest(version=3))
    assert isinstance(result, CardCredentials)
    assert result.card.number.reveal() == pan
    assert (result.card.type, result.card.expiration_month) == ("004", None)
    assert result.links == CredentialLinks(ii_id, 3, instrument_identifier_id=ii_id)
    with pytest.raises(NotFound):
        issue(plain_tenant, ii_id, CredentialsRequest(version=2))
