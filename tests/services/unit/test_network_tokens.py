"""NetworkTokenService over the fakes: tokenized cards on demand, deletion,
the issuer life-cycle simulation and card art."""

from __future__ import annotations

from dataclasses import replace

import pytest

from opentms.bootstrap import Services
from opentms.domain.card import PAN
from opentms.domain.errors import (
    Declined,
    InvalidFields,
    MissingHeaders,
    NotAvailable,
    NotFound,
)
from opentms.domain.network_token import NetworkToken, TokenNetwork, TokenState
from opentms.services.instrument_identifiers import CardExpiry
from opentms.services.network_tokens import ASSET_TYPES, asset_id
from opentms.services.tenancy import Tenant
from tests.services.fakes import FakePorts
from tests.support import make_pan

EXPIRY = CardExpiry("7", "2030")
PNG = b"\x89PNG\r\n\x1a\n"


def tokenize(
    services: Services, tenant: Tenant, prefix: str = "411111", with_ii: bool = False
) -> NetworkToken:
    pan = PAN.parse(make_pan(prefix, 15 if prefix.startswith("3") else 16))
    return services.network_tokens.create(tenant, pan, EXPIRY, "ONFILE", with_ii)


def simulate(
    services: Services,
    tenant: Tenant,
    token_id: str,
    state: TokenState | None = None,
    last4: str | None = None,
    month: str | None = None,
    year: str | None = None,
    art: bool = False,
    profile_id: str | None = "P",
) -> None:
    services.network_tokens.simulate_life_cycle(
        tenant, token_id, profile_id, state, last4, month, year, art
    )


@pytest.mark.parametrize(
    ("prefix", "network"),
    [
        ("411111", TokenNetwork.VISA),
        ("555555", TokenNetwork.MASTERCARD),
        ("378282", TokenNetwork.AMEX),
        ("601111", TokenNetwork.DISCOVER),
    ],
)
def test_create_provisions_an_active_token(
    services: Services, tenant: Tenant, prefix: str, network: TokenNetwork
) -> None:
    token = tokenize(services, tenant, prefix)

    assert token.network == network
    assert token.state == TokenState.ACTIVE
    assert token.instrument_identifier_id is None
    assert token.card.expiration_month == "07"
    assert services.network_tokens.retrieve(tenant, token.id) == token


@pytest.mark.parametrize("source", ["ONFILE", "TOKEN", "ISSUER"])
def test_create_keeps_the_source(services: Services, tenant: Tenant, source: str) -> None:
    pan = PAN.parse(make_pan())

    token = services.network_tokens.create(tenant, pan, EXPIRY, source, False)

    assert token.source == source


def test_create_with_an_identifier_stores_the_card_without_a_second_token(
    services: Services, tenant: Tenant, fakes: FakePorts
) -> None:
    token = tokenize(services, tenant, with_ii=True)

    assert token.instrument_identifier_id is not None
    ii = services.instrument_identifiers.retrieve(tenant, token.instrument_identifier_id)
    assert ii.token == token
    assert len(fakes.vault.state.network_tokens) == 1


def test_a_brand_without_a_network_is_declined(
    services: Services, tenant: Tenant, fakes: FakePorts
) -> None:
    with pytest.raises(Declined, match="CARD_NOT_ALLOWED"):
        tokenize(services, tenant, "3528")
    assert fakes.vault.commits == 0


def test_a_refusal_is_declined_and_nothing_is_kept(
    services: Services, tenant: Tenant, fakes: FakePorts
) -> None:
    with pytest.raises(Declined, match="visa token service declined"):
        services.network_tokens.create(
            tenant, PAN.parse("4000000000000044"), EXPIRY, "ONFILE", True
        )
    assert fakes.vault.state.network_tokens == {}
    assert fakes.vault.state.instrument_identifiers == {}


def test_retrieve_of_an_unknown_token_is_not_found(services: Services, tenant: Tenant) -> None:
    with pytest.raises(NotFound):
        services.network_tokens.retrieve(tenant, "E" * 32)


def test_another_merchants_token_is_not_found(
    services: Services, tenant: Tenant, other_tenant: Tenant
) -> None:
    token = tokenize(services, tenant)

    with pytest.raises(NotFound):
        services.network_tokens.retrieve(other_tenant, token.id)
    with pytest.raises(NotFound):
        services.network_tokens.delete(other_tenant, token.id)


def test_delete_marks_it_deleted_and_a_second_delete_is_gone(
    services: Services, tenant: Tenant
) -> None:
    token = tokenize(services, tenant)

    services.network_tokens.delete(tenant, token.id)

    deleted = services.network_tokens.retrieve(tenant, token.id)
    assert deleted.state == TokenState.DELETED
    assert deleted.version == token.version + 1
    with pytest.raises(NotAvailable):
        services.network_tokens.delete(tenant, token.id)


def test_an_unprovisioned_token_cannot_be_deleted(services: Services, tenant: Tenant) -> None:
    view, _ = services.instrument_identifiers.create(
        tenant, PAN.parse("4000000000000044"), {}, EXPIRY
    )
    assert view.token is not None

    with pytest.raises(NotFound):
        services.network_tokens.delete(tenant, view.token.id)


@pytest.mark.parametrize(
    ("start", "target"),
    [
        (TokenState.ACTIVE, TokenState.SUSPENDED),
        (TokenState.ACTIVE, TokenState.DELETED),
        (TokenState.SUSPENDED, TokenState.ACTIVE),
        (TokenState.SUSPENDED, TokenState.DELETED),
    ],
)
def test_the_life_cycle_moves_a_token(
    services: Services, tenant: Tenant, start: TokenState, target: TokenState
) -> None:
    token = tokenize(services, tenant)
    if start != TokenState.ACTIVE:
        simulate(services, tenant, token.id, start)

    simulate(services, tenant, token.id, target)

    assert services.network_tokens.retrieve(tenant, token.id).state == target


@pytest.mark.parametrize("target", [TokenState.ACTIVE, TokenState.SUSPENDED])
def test_a_deleted_token_cannot_come_back(
    services: Services, tenant: Tenant, target: TokenState
) -> None:
    token = tokenize(services, tenant)
    simulate(services, tenant, token.id, TokenState.DELETED)

    with pytest.raises(InvalidFields, match="cannot become"):
        simulate(services, tenant, token.id, target)


def test_a_deleted_token_has_no_life_cycle_left(services: Services, tenant: Tenant) -> None:
    token = tokenize(services, tenant)
    simulate(services, tenant, token.id, TokenState.DELETED)

    with pytest.raises(InvalidFields, match="no life cycle left"):
        simulate(services, tenant, token.id, last4="1234")


def test_the_life_cycle_needs_the_profile_header(services: Services, tenant: Tenant) -> None:
    token = tokenize(services, tenant)

    with pytest.raises(MissingHeaders) as missing:
        simulate(services, tenant, token.id, TokenState.SUSPENDED, profile_id=None)

    assert [(d.name, d.location) for d in missing.value.details] == [("profile-id", "header")]
    assert services.network_tokens.retrieve(tenant, token.id).state == TokenState.ACTIVE


def test_the_life_cycle_with_nothing_to_do_is_refused(services: Services, tenant: Tenant) -> None:
    token = tokenize(services, tenant)

    with pytest.raises(InvalidFields, match="Nothing to simulate"):
        simulate(services, tenant, token.id)
    with pytest.raises(InvalidFields, match="Nothing to simulate"):
        simulate(services, tenant, token.id, TokenState.ACTIVE)


@pytest.mark.parametrize(
    ("last4", "month", "year", "expected"),
    [
        ("9876", None, None, ("9876", "07", "2030")),
        (None, "3", None, (None, "03", "2030")),
        (None, None, "2035", (None, "07", "2035")),
        ("1111", "12", "2040", ("1111", "12", "2040")),
    ],
)
def test_the_life_cycle_replaces_the_card_details(
    services: Services,
    tenant: Tenant,
    last4: str | None,
    month: str | None,
    year: str | None,
    expected: tuple[str | None, str, str],
) -> None:
    token = tokenize(services, tenant)

    simulate(services, tenant, token.id, last4=last4, month=month, year=year)

    card = services.network_tokens.retrieve(tenant, token.id).card
    assert (card.suffix, card.expiration_month, card.expiration_year) == (
        expected[0] or token.card.suffix,
        expected[1],
        expected[2],
    )


def test_new_card_art_raises_the_revision_and_changes_the_asset_id(
    services: Services, tenant: Tenant
) -> None:
    token = tokenize(services, tenant)
    before = asset_id(token, "combinedAsset")

    simulate(services, tenant, token.id, art=True)

    updated = services.network_tokens.retrieve(tenant, token.id)
    assert updated.card_art_revision == token.card_art_revision + 1
    assert len(updated.metadata["cardArt"]["backgroundColor"]) == 6
    assert asset_id(updated, "combinedAsset") != before


@pytest.mark.parametrize("asset_type", sorted(ASSET_TYPES))
def test_card_art_of_a_token_is_a_png(services: Services, tenant: Tenant, asset_type: str) -> None:
    token = tokenize(services, tenant)

    found, asset, image = services.network_tokens.card_art(tenant, token.id, "vts", asset_type)

    assert found == token
    assert asset == asset_id(token, ASSET_TYPES[asset_type])
    assert image.startswith(PNG)


def test_card_art_by_instrument_identifier(services: Services, tenant: Tenant) -> None:
    token = tokenize(services, tenant, "555555", with_ii=True)
    assert token.instrument_identifier_id is not None

    found, _, _ = services.network_tokens.card_art(
        tenant, token.instrument_identifier_id, "mdes", "card-art-combined"
    )

    assert found == token


@pytest.mark.parametrize(
    ("prefix", "provider", "ok"),
    [
        ("411111", "VTS", True),
        ("411111", "visa", True),
        ("411111", "mdes", False),
        ("555555", "mscof", True),
        ("378282", "aets", True),
        ("378282", "vts", False),
        ("601111", "dts", True),
    ],
)
def test_card_art_is_for_the_tokens_own_provider(
    services: Services, tenant: Tenant, prefix: str, provider: str, ok: bool
) -> None:
    token = tokenize(services, tenant, prefix)

    if ok:
        assert services.network_tokens.card_art(tenant, token.id, provider, "icon")[0] == token
    else:
        with pytest.raises(NotFound, match="not a"):
            services.network_tokens.card_art(tenant, token.id, provider, "icon")


def test_card_art_of_an_unknown_asset_type_is_refused(services: Services, tenant: Tenant) -> None:
    token = tokenize(services, tenant)

    with pytest.raises(InvalidFields) as invalid:
        services.network_tokens.card_art(tenant, token.id, "vts", "banner")

    assert [(d.name, d.location) for d in invalid.value.details] == [("assetType", "path")]


def test_no_card_art_without_a_token(services: Services, plain_tenant: Tenant) -> None:
    view, _ = services.instrument_identifiers.create(
        plain_tenant, PAN.parse(make_pan()), {}, EXPIRY
    )

    with pytest.raises(NotFound, match="no card art"):
        services.network_tokens.card_art(plain_tenant, view.instrument_identifier.id, "vts", "icon")


def test_no_card_art_for_an_unprovisioned_token(
    services: Services, tenant: Tenant, fakes: FakePorts
) -> None:
    token = tokenize(services, tenant)
    key = (tenant.merchant_id, token.id)
    fakes.vault.state.network_tokens[key] = replace(token, state=TokenState.UNPROVISIONED)

    with pytest.raises(NotFound, match="no card art"):
        services.network_tokens.card_art(tenant, token.id, "vts", "icon")


def test_card_art_of_an_unknown_id_is_not_found(services: Services, tenant: Tenant) -> None:
    with pytest.raises(NotFound):
        services.network_tokens.card_art(tenant, "4" * 19, "vts", "icon")
