"""InstrumentIdentifierService over the fakes: one token per card and
merchant, the network token provisioned with it, PATCH limits, deletion and
enrollment."""

from __future__ import annotations

from dataclasses import replace

import pytest

from opentms.bootstrap import Services
from opentms.domain.card import PAN, BankAccount, Brand
from opentms.domain.errors import (
    InstrumentIdentifierInUse,
    InvalidFields,
    NotAvailable,
    NotFound,
    PreconditionFailed,
    UnsupportedModification,
)
from opentms.domain.network_token import (
    MAX_ATC,
    ProvisioningFailure,
    TokenNetwork,
    TokenState,
)
from opentms.services.instrument_identifiers import CardExpiry, InstrumentIdentifierView
from opentms.services.payment_instruments import InstrumentIdentifierRef
from opentms.services.tenancy import Tenant
from tests.services.fakes import FakePorts
from tests.support import make_pan

EXPIRY = CardExpiry("3", "2031")
NETWORKS = [
    pytest.param("411111", TokenNetwork.VISA, Brand.VISA, id="visa"),
    pytest.param("555555", TokenNetwork.MASTERCARD, Brand.MASTERCARD, id="mastercard"),
    pytest.param("378282", TokenNetwork.AMEX, Brand.AMEX, id="amex"),
    pytest.param("601111", TokenNetwork.DISCOVER, Brand.DISCOVER, id="discover"),
]


def pan_for(prefix: str) -> PAN:
    return PAN.parse(make_pan(prefix, 15 if prefix.startswith("3") else 16))


def create(
    services: Services, tenant: Tenant, instrument: PAN | BankAccount | None = None
) -> tuple[InstrumentIdentifierView, bool]:
    return services.instrument_identifiers.create(
        tenant, instrument or pan_for("411111"), {}, EXPIRY
    )


@pytest.mark.parametrize(("prefix", "network", "brand"), NETWORKS)
def test_a_card_is_stored_with_a_network_token(
    services: Services, tenant: Tenant, prefix: str, network: TokenNetwork, brand: Brand
) -> None:
    pan = pan_for(prefix)

    view, created = create(services, tenant, pan)

    assert created
    ii = view.instrument_identifier
    assert ii.instrument == pan
    assert ii.brand == brand
    assert view.token is not None
    assert view.token.network == network
    assert view.token.state == TokenState.ACTIVE
    assert view.token.instrument_identifier_id == ii.id
    assert view.token.number is not None
    assert view.token.number.reveal() != pan.reveal()
    assert (view.token.card.suffix, view.token.card.expiration_month) == (pan.last4, "03")


@pytest.mark.parametrize(("prefix", "network", "brand"), NETWORKS)
def test_a_plain_profile_stores_the_card_without_a_token(
    services: Services,
    plain_tenant: Tenant,
    prefix: str,
    network: TokenNetwork,
    brand: Brand,
) -> None:
    view, created = create(services, plain_tenant, pan_for(prefix))

    assert created
    assert view.token is None
    assert view.instrument_identifier.brand == brand
    assert (
        services.instrument_identifiers.retrieve(plain_tenant, view.instrument_identifier.id).token
        is None
    )


@pytest.mark.parametrize("prefix", ["36", "3528", "6200"])
def test_a_brand_no_network_serves_gets_no_token(
    services: Services, tenant: Tenant, prefix: str
) -> None:
    view, created = create(services, tenant, PAN.parse(make_pan(prefix, 16)))

    assert created
    assert view.token is None


def test_the_same_card_is_stored_once_per_merchant(
    services: Services, tenant: Tenant, fakes: FakePorts
) -> None:
    pan = pan_for("411111")
    first, created = create(services, tenant, pan)
    again, created_again = create(services, tenant, pan)

    assert (created, created_again) == (True, False)
    assert again.instrument_identifier.id == first.instrument_identifier.id
    assert again.token == first.token
    assert len(fakes.vault.state.network_tokens) == 1


def test_two_merchants_storing_one_card_get_two_tokens(
    services: Services, tenant: Tenant, other_tenant: Tenant
) -> None:
    pan = pan_for("411111")
    mine, _ = create(services, tenant, pan)
    theirs, created = create(services, other_tenant, pan)

    assert created
    assert theirs.instrument_identifier.id != mine.instrument_identifier.id
    assert theirs.token is not None
    assert mine.token is not None
    assert theirs.token.number != mine.token.number


def test_a_bank_account_is_stored_without_a_token(services: Services, tenant: Tenant) -> None:
    account = BankAccount.parse("123456789", "121042882")

    view, created = create(services, tenant, account)
    again, created_again = create(services, tenant, account)

    assert (created, created_again) == (True, False)
    assert view.token is None
    assert view.instrument_identifier.brand == Brand.UNKNOWN
    assert again.instrument_identifier.id == view.instrument_identifier.id


def test_one_account_number_at_two_banks_is_two_identifiers(
    services: Services, tenant: Tenant
) -> None:
    first, _ = create(services, tenant, BankAccount.parse("123456789", "121042882"))
    second, created = create(services, tenant, BankAccount.parse("123456789", "011000015"))

    assert created
    assert second.instrument_identifier.id != first.instrument_identifier.id


@pytest.mark.parametrize(
    "reason",
    [
        ProvisioningFailure.INVALID_REQUEST,
        ProvisioningFailure.CARD_VERIFICATION_FAILED,
        ProvisioningFailure.CARD_NOT_ELIGIBLE,
        ProvisioningFailure.CARD_NOT_ALLOWED,
        ProvisioningFailure.DECLINED,
    ],
)
def test_a_refused_provisioning_is_kept_as_an_unprovisioned_token(
    services: Services, tenant: Tenant, reason: ProvisioningFailure
) -> None:
    from opentms.adapters.networks.simulated import MAGIC_FAILURES

    magic = next(
        number for number, why in MAGIC_FAILURES.items() if why == reason and number.startswith("4")
    )

    view, created = create(services, tenant, PAN.parse(magic))

    assert created
    assert view.token is not None
    assert view.token.state == TokenState.UNPROVISIONED
    assert view.token.reason == reason
    assert view.token.number is None


def test_retrieve_answers_the_newest_token(services: Services, tenant: Tenant) -> None:
    view, _ = create(services, tenant)

    again = services.instrument_identifiers.retrieve(tenant, view.instrument_identifier.id)

    assert again == view


@pytest.mark.parametrize("ii_id", ["7" * 19, "1234567890123456789", "nope"])
def test_retrieve_of_an_unknown_id_is_not_found(
    services: Services, tenant: Tenant, ii_id: str
) -> None:
    with pytest.raises(NotFound):
        services.instrument_identifiers.retrieve(tenant, ii_id)


def test_another_merchant_cannot_see_it(
    services: Services, tenant: Tenant, other_tenant: Tenant
) -> None:
    view, _ = create(services, tenant)
    ii_id = view.instrument_identifier.id

    with pytest.raises(NotFound):
        services.instrument_identifiers.retrieve(other_tenant, ii_id)
    with pytest.raises(NotFound):
        services.instrument_identifiers.delete(other_tenant, ii_id)
    with pytest.raises(NotFound):
        services.instrument_identifiers.enroll(other_tenant, ii_id, EXPIRY)


@pytest.mark.parametrize(
    ("patch", "kept"),
    [
        pytest.param(
            {"processingInformation": {"a": 1}},
            {"processingInformation": {"a": 1}},
            id="processing",
        ),
        pytest.param(
            {"tokenProvisioningInformation": {"b": 2}},
            {"tokenProvisioningInformation": {"b": 2}},
            id="token-provisioning",
        ),
        pytest.param({"billTo": {"city": "X"}}, {}, id="other-fields-are-ignored"),
        pytest.param(
            {"processingInformation": {"a": 1}, "metadata": {"creator": "x"}},
            {"processingInformation": {"a": 1}},
            id="only-the-patchable-part-is-kept",
        ),
    ],
)
def test_update_changes_only_the_patchable_parts(
    services: Services, tenant: Tenant, patch: dict[str, object], kept: dict[str, object]
) -> None:
    view, _ = create(services, tenant)
    ii_id = view.instrument_identifier.id

    updated = services.instrument_identifiers.update(tenant, ii_id, patch, None, False)

    assert updated.instrument_identifier.attributes == kept
    assert updated.instrument_identifier.version == 2
    assert services.instrument_identifiers.retrieve(tenant, ii_id) == updated


def test_update_keeps_the_token(services: Services, tenant: Tenant) -> None:
    view, _ = create(services, tenant)

    updated = services.instrument_identifiers.update(
        tenant, view.instrument_identifier.id, {"processingInformation": {}}, None, False
    )

    assert updated.token == view.token


def test_the_card_number_cannot_be_changed(
    services: Services, tenant: Tenant, fakes: FakePorts
) -> None:
    view, _ = create(services, tenant)
    commits = fakes.vault.commits

    with pytest.raises(UnsupportedModification) as refused:
        services.instrument_identifiers.update(
            tenant, view.instrument_identifier.id, {}, None, instrument_sent=True
        )

    assert [d.name for d in refused.value.details] == ["card.number"]
    assert fakes.vault.commits == commits


def test_update_with_a_stale_etag_fails(services: Services, tenant: Tenant) -> None:
    view, _ = create(services, tenant)
    ii_id = view.instrument_identifier.id
    services.instrument_identifiers.update(tenant, ii_id, {}, '"1"', False)

    with pytest.raises(PreconditionFailed):
        services.instrument_identifiers.update(tenant, ii_id, {}, '"1"', False)


def test_delete_removes_it_and_deletes_its_token(services: Services, tenant: Tenant) -> None:
    view, _ = create(services, tenant)
    ii_id = view.instrument_identifier.id
    assert view.token is not None

    services.instrument_identifiers.delete(tenant, ii_id)

    with pytest.raises(NotAvailable):
        services.instrument_identifiers.retrieve(tenant, ii_id)
    assert services.network_tokens.retrieve(tenant, view.token.id).state == TokenState.DELETED


def test_a_deleted_card_stored_again_is_a_new_identifier(
    services: Services, tenant: Tenant
) -> None:
    pan = pan_for("555555")
    first, _ = create(services, tenant, pan)
    services.instrument_identifiers.delete(tenant, first.instrument_identifier.id)

    second, created = create(services, tenant, pan)

    assert created
    assert second.instrument_identifier.id != first.instrument_identifier.id
    assert second.token is not None
    assert second.token.state == TokenState.ACTIVE


def test_a_card_a_payment_instrument_uses_cannot_be_deleted(
    services: Services, tenant: Tenant
) -> None:
    view, _ = create(services, tenant)
    ii_id = view.instrument_identifier.id
    services.payment_instruments.create(tenant, InstrumentIdentifierRef(id=ii_id), {})

    with pytest.raises(InstrumentIdentifierInUse):
        services.instrument_identifiers.delete(tenant, ii_id)
    assert services.instrument_identifiers.retrieve(tenant, ii_id) == view


def test_a_card_whose_payment_instrument_is_gone_can_be_deleted(
    services: Services, tenant: Tenant
) -> None:
    view, _ = create(services, tenant)
    ii_id = view.instrument_identifier.id
    pi = services.payment_instruments.create(tenant, InstrumentIdentifierRef(id=ii_id), {})
    services.payment_instruments.delete(tenant, pi.payment_instrument.id)

    services.instrument_identifiers.delete(tenant, ii_id)

    with pytest.raises(NotAvailable):
        services.instrument_identifiers.retrieve(tenant, ii_id)


def test_enroll_of_a_card_with_a_live_token_does_nothing(
    services: Services, tenant: Tenant, fakes: FakePorts
) -> None:
    view, _ = create(services, tenant)
    commits = fakes.vault.commits

    assert (
        services.instrument_identifiers.enroll(tenant, view.instrument_identifier.id, EXPIRY)
        is False
    )
    assert fakes.vault.commits == commits


def test_enroll_of_a_card_without_a_token_provisions_one(
    services: Services, tenant: Tenant, plain_tenant: Tenant
) -> None:
    view, _ = create(services, plain_tenant)
    ii_id = view.instrument_identifier.id

    assert services.instrument_identifiers.enroll(tenant, ii_id, CardExpiry("11", "2030"))

    token = services.instrument_identifiers.retrieve(tenant, ii_id).token
    assert token is not None
    assert token.state == TokenState.ACTIVE
    assert (token.card.expiration_month, token.card.expiration_year) == ("11", "2030")


@pytest.mark.parametrize("state", [TokenState.DELETED, TokenState.UNPROVISIONED])
def test_enroll_replaces_a_dead_token(
    services: Services, tenant: Tenant, fakes: FakePorts, state: TokenState
) -> None:
    view, _ = create(services, tenant)
    assert view.token is not None
    key = (tenant.merchant_id, view.token.id)
    fakes.vault.state.network_tokens[key] = replace(view.token, state=state)

    assert services.instrument_identifiers.enroll(tenant, view.instrument_identifier.id, EXPIRY)

    new = services.instrument_identifiers.retrieve(tenant, view.instrument_identifier.id).token
    assert new is not None
    assert new.id != view.token.id
    assert new.state == TokenState.ACTIVE


def test_enroll_replaces_a_token_whose_counter_is_spent(
    services: Services, tenant: Tenant, fakes: FakePorts
) -> None:
    view, _ = create(services, tenant)
    assert view.token is not None
    key = (tenant.merchant_id, view.token.id)
    fakes.vault.state.network_tokens[key] = replace(view.token, atc=MAX_ATC)

    assert services.instrument_identifiers.enroll(tenant, view.instrument_identifier.id, EXPIRY)


def test_a_bank_account_cannot_be_enrolled(services: Services, tenant: Tenant) -> None:
    view, _ = create(services, tenant, BankAccount.parse("99887766", "121042882"))

    with pytest.raises(InvalidFields) as invalid:
        services.instrument_identifiers.enroll(tenant, view.instrument_identifier.id, EXPIRY)

    assert [d.name for d in invalid.value.details] == ["type"]


def test_a_deleted_card_cannot_be_enrolled(services: Services, tenant: Tenant) -> None:
    view, _ = create(services, tenant)
    services.instrument_identifiers.delete(tenant, view.instrument_identifier.id)

    with pytest.raises(NotAvailable):
        services.instrument_identifiers.enroll(tenant, view.instrument_identifier.id, EXPIRY)
