"""PaymentInstrumentService over the fakes: the card named by id or sent in
full, customer defaults, updates, deletion and the lists."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from opentms.bootstrap import Services
from opentms.domain.card import PAN, BankAccount
from opentms.domain.errors import (
    DefaultInUse,
    InvalidCombination,
    InvalidFields,
    MissingFields,
    NotAvailable,
    NotFound,
    PreconditionFailed,
)
from opentms.services.instrument_identifiers import CardExpiry
from opentms.services.payment_instruments import InstrumentIdentifierRef
from opentms.services.tenancy import Tenant
from tests.services.fakes import FakePorts
from tests.support import make_pan

EXPIRY = CardExpiry("12", "2031")
CARD = {"card": {"expirationMonth": "12", "expirationYear": "2031"}}


def by_card(pan: str | None = None) -> InstrumentIdentifierRef:
    return InstrumentIdentifierRef(instrument=PAN.parse(pan or make_pan()), expiry=EXPIRY)


@pytest.fixture
def customer_id(services: Services, tenant: Tenant) -> str:
    return services.customers.create(tenant, {}).customer.id


def test_a_standalone_instrument_with_a_card_stores_the_card(
    services: Services, tenant: Tenant
) -> None:
    pan = make_pan()

    view = services.payment_instruments.create(tenant, by_card(pan), CARD)

    pi = view.payment_instrument
    ii = view.instrument_identifier.instrument_identifier
    assert pi.instrument_identifier_id == ii.id
    assert pi.customer_id is None
    assert not pi.is_default
    assert pi.attributes == CARD
    assert isinstance(ii.instrument, PAN)
    assert ii.instrument.reveal() == pan
    assert view.instrument_identifier.token is not None


def test_an_instrument_by_identifier_id_reuses_it(services: Services, tenant: Tenant) -> None:
    ii, _ = services.instrument_identifiers.create(tenant, PAN.parse(make_pan()), {}, EXPIRY)
    ii_id = ii.instrument_identifier.id

    view = services.payment_instruments.create(tenant, InstrumentIdentifierRef(id=ii_id), {})

    assert view.instrument_identifier == ii
    assert view.payment_instrument.instrument_identifier_id == ii_id


def test_the_same_card_twice_shares_one_identifier(services: Services, tenant: Tenant) -> None:
    pan = make_pan()
    first = services.payment_instruments.create(tenant, by_card(pan), {})
    second = services.payment_instruments.create(tenant, by_card(pan), {})

    assert first.payment_instrument.id != second.payment_instrument.id
    assert (
        first.payment_instrument.instrument_identifier_id
        == second.payment_instrument.instrument_identifier_id
    )


def test_a_bank_account_instrument(services: Services, tenant: Tenant) -> None:
    ref = InstrumentIdentifierRef(instrument=BankAccount.parse("12345678", "121042882"))

    view = services.payment_instruments.create(tenant, ref, {"bankAccount": {"type": "C"}})

    assert view.instrument_identifier.token is None
    assert isinstance(view.instrument_identifier.instrument_identifier.instrument, BankAccount)


def test_an_identifier_id_and_a_card_together_are_refused(
    services: Services, tenant: Tenant, fakes: FakePorts
) -> None:
    ref = InstrumentIdentifierRef(id="7" * 19, instrument=PAN.parse(make_pan()))

    with pytest.raises(InvalidCombination) as refused:
        services.payment_instruments.create(tenant, ref, {})

    assert [d.name for d in refused.value.details] == [
        "instrumentIdentifier.id",
        "instrumentIdentifier.card",
    ]
    assert fakes.vault.commits == 0


def test_neither_an_identifier_nor_a_card_is_refused(services: Services, tenant: Tenant) -> None:
    with pytest.raises(MissingFields) as missing:
        services.payment_instruments.create(tenant, InstrumentIdentifierRef(), {})

    assert [d.name for d in missing.value.details] == ["instrumentIdentifier"]


@pytest.mark.parametrize("whose", ["unknown", "deleted", "another-merchants"])
def test_an_identifier_that_cannot_be_used_is_an_invalid_field(
    services: Services, tenant: Tenant, other_tenant: Tenant, whose: str
) -> None:
    if whose == "unknown":
        ii_id = "7" * 19
    else:
        owner = other_tenant if whose == "another-merchants" else tenant
        ii, _ = services.instrument_identifiers.create(owner, PAN.parse(make_pan()), {}, EXPIRY)
        ii_id = ii.instrument_identifier.id
        if whose == "deleted":
            services.instrument_identifiers.delete(tenant, ii_id)

    with pytest.raises(InvalidFields) as invalid:
        services.payment_instruments.create(tenant, InstrumentIdentifierRef(id=ii_id), {})

    assert [d.name for d in invalid.value.details] == ["instrumentIdentifier.id"]
    assert ii_id in str(invalid.value)


def test_a_failed_create_stores_no_card(
    services: Services, tenant: Tenant, fakes: FakePorts
) -> None:
    with pytest.raises(NotFound):
        services.payment_instruments.create(tenant, by_card(), {}, customer_id="5" * 32)

    assert fakes.vault.state.instrument_identifiers == {}
    assert fakes.vault.state.network_tokens == {}


def test_the_first_instrument_of_a_customer_is_its_default(
    services: Services, tenant: Tenant, customer_id: str
) -> None:
    view = services.payment_instruments.create(tenant, by_card(), {}, customer_id)

    assert view.payment_instrument.is_default
    assert view.payment_instrument.customer_id == customer_id
    customer = services.customers.retrieve(tenant, customer_id).customer
    assert customer.default_payment_instrument_id == view.payment_instrument.id


@pytest.mark.parametrize("make_default", [False, True])
def test_a_second_instrument_is_the_default_only_when_asked(
    services: Services, tenant: Tenant, customer_id: str, make_default: bool
) -> None:
    first = services.payment_instruments.create(tenant, by_card(), {}, customer_id)
    second = services.payment_instruments.create(
        tenant, by_card(), {}, customer_id, make_default=make_default
    )

    assert second.payment_instrument.is_default is make_default
    first_now = services.payment_instruments.retrieve(tenant, first.payment_instrument.id)
    assert first_now.payment_instrument.is_default is not make_default


def test_make_default_without_a_customer_is_ignored(services: Services, tenant: Tenant) -> None:
    view = services.payment_instruments.create(tenant, by_card(), {}, make_default=True)

    assert not view.payment_instrument.is_default


def test_retrieve_through_its_customer(
    services: Services, tenant: Tenant, customer_id: str
) -> None:
    made = services.payment_instruments.create(tenant, by_card(), CARD, customer_id)

    view = services.payment_instruments.retrieve(tenant, made.payment_instrument.id, customer_id)

    assert view == made


@pytest.mark.parametrize("operation", ["retrieve", "update", "delete"])
def test_through_another_customer_it_is_not_found(
    services: Services, tenant: Tenant, customer_id: str, operation: str
) -> None:
    pi_id = services.payment_instruments.create(
        tenant, by_card(), {}, customer_id
    ).payment_instrument.id
    stranger = services.customers.create(tenant, {}).customer.id
    instruments = services.payment_instruments

    acts: dict[str, Callable[[], object]] = {
        "retrieve": lambda: instruments.retrieve(tenant, pi_id, stranger),
        "update": lambda: instruments.update(tenant, pi_id, None, {"a": 1}, None, stranger),
        "delete": lambda: instruments.delete(tenant, pi_id, stranger),
    }
    act = acts[operation]

    with pytest.raises(NotFound):
        act()
    assert instruments.retrieve(tenant, pi_id).payment_instrument.version == 1


@pytest.mark.parametrize("operation", ["retrieve", "update", "delete"])
def test_another_merchant_cannot_reach_it(
    services: Services, tenant: Tenant, other_tenant: Tenant, operation: str
) -> None:
    pi_id = services.payment_instruments.create(tenant, by_card(), {}).payment_instrument.id
    instruments = services.payment_instruments

    acts: dict[str, Callable[[], object]] = {
        "retrieve": lambda: instruments.retrieve(other_tenant, pi_id),
        "update": lambda: instruments.update(other_tenant, pi_id, None, {}, None),
        "delete": lambda: instruments.delete(other_tenant, pi_id),
    }
    act = acts[operation]

    with pytest.raises(NotFound):
        act()


def test_a_standalone_instrument_is_not_found_under_a_customer(
    services: Services, tenant: Tenant, customer_id: str
) -> None:
    pi_id = services.payment_instruments.create(tenant, by_card(), {}).payment_instrument.id

    with pytest.raises(NotFound):
        services.payment_instruments.retrieve(tenant, pi_id, customer_id)


def test_update_merges_the_attributes(services: Services, tenant: Tenant) -> None:
    pi_id = services.payment_instruments.create(tenant, by_card(), CARD).payment_instrument.id

    view = services.payment_instruments.update(
        tenant, pi_id, None, {"card": {"expirationYear": "2033"}, "billTo": {"city": "Oslo"}}, '"1"'
    )

    assert view.payment_instrument.attributes == {
        "card": {"expirationMonth": "12", "expirationYear": "2033"},
        "billTo": {"city": "Oslo"},
    }
    assert view.payment_instrument.version == 2
    assert services.payment_instruments.retrieve(tenant, pi_id) == view


def test_update_with_a_card_moves_it_to_that_card(services: Services, tenant: Tenant) -> None:
    made = services.payment_instruments.create(tenant, by_card(), {})
    new_pan = make_pan("555555")

    view = services.payment_instruments.update(
        tenant, made.payment_instrument.id, by_card(new_pan), {}, None
    )

    ii = view.instrument_identifier.instrument_identifier
    assert ii.id != made.instrument_identifier.instrument_identifier.id
    assert isinstance(ii.instrument, PAN)
    assert ii.instrument.reveal() == new_pan
    assert view.payment_instrument.instrument_identifier_id == ii.id


def test_update_with_a_stale_etag_fails(services: Services, tenant: Tenant) -> None:
    pi_id = services.payment_instruments.create(tenant, by_card(), {}).payment_instrument.id

    with pytest.raises(PreconditionFailed) as failed:
        services.payment_instruments.update(tenant, pi_id, None, {"a": 1}, '"5"')

    assert failed.value.current_etag == '"1"'


def test_update_can_make_it_the_default(
    services: Services, tenant: Tenant, customer_id: str
) -> None:
    services.payment_instruments.create(tenant, by_card(), {}, customer_id)
    second = services.payment_instruments.create(tenant, by_card(), {}, customer_id)
    pi_id = second.payment_instrument.id

    view = services.payment_instruments.update(
        tenant, pi_id, None, {}, None, customer_id, make_default=True
    )

    assert view.payment_instrument.is_default
    customer = services.customers.retrieve(tenant, customer_id).customer
    assert customer.default_payment_instrument_id == pi_id


def test_delete_of_a_standalone_instrument(services: Services, tenant: Tenant) -> None:
    made = services.payment_instruments.create(tenant, by_card(), {})
    pi_id = made.payment_instrument.id

    services.payment_instruments.delete(tenant, pi_id)

    with pytest.raises(NotAvailable):
        services.payment_instruments.retrieve(tenant, pi_id)
    # The card stays: only deleting its identifier removes it.
    ii_id = made.instrument_identifier.instrument_identifier.id
    assert services.instrument_identifiers.retrieve(tenant, ii_id)


def test_the_only_instrument_of_a_customer_may_be_deleted(
    services: Services, tenant: Tenant, customer_id: str
) -> None:
    pi_id = services.payment_instruments.create(
        tenant, by_card(), {}, customer_id
    ).payment_instrument.id

    services.payment_instruments.delete(tenant, pi_id, customer_id)

    view = services.customers.retrieve(tenant, customer_id)
    assert view.customer.default_payment_instrument_id is None
    assert view.default_payment_instrument is None


def test_the_default_cannot_be_deleted_while_others_remain(
    services: Services, tenant: Tenant, customer_id: str
) -> None:
    first = services.payment_instruments.create(tenant, by_card(), {}, customer_id)
    services.payment_instruments.create(tenant, by_card(), {}, customer_id)

    with pytest.raises(DefaultInUse):
        services.payment_instruments.delete(tenant, first.payment_instrument.id)
    assert services.payment_instruments.retrieve(tenant, first.payment_instrument.id)


def test_an_instrument_that_is_not_the_default_is_deleted(
    services: Services, tenant: Tenant, customer_id: str
) -> None:
    first = services.payment_instruments.create(tenant, by_card(), {}, customer_id)
    second = services.payment_instruments.create(tenant, by_card(), {}, customer_id)

    services.payment_instruments.delete(tenant, second.payment_instrument.id, customer_id)

    page = services.payment_instruments.list_for_customer(tenant, customer_id, 0, 10)
    assert [v.payment_instrument.id for v in page.items] == [first.payment_instrument.id]


def test_a_deleted_instrument_is_gone_for_good(services: Services, tenant: Tenant) -> None:
    pi_id = services.payment_instruments.create(tenant, by_card(), {}).payment_instrument.id
    services.payment_instruments.delete(tenant, pi_id)

    with pytest.raises(NotAvailable):
        services.payment_instruments.delete(tenant, pi_id)
    with pytest.raises(NotAvailable):
        services.payment_instruments.update(tenant, pi_id, None, {}, None)


def test_the_customer_list_puts_the_default_first(
    services: Services, tenant: Tenant, customer_id: str
) -> None:
    made = [
        services.payment_instruments.create(
            tenant, by_card(), {}, customer_id
        ).payment_instrument.id
        for _ in range(3)
    ]
    services.payment_instruments.update(tenant, made[1], None, {}, None, make_default=True)

    page = services.payment_instruments.list_for_customer(tenant, customer_id, 0, 10)

    assert [v.payment_instrument.id for v in page.items] == [made[1], made[0], made[2]]
    assert [v.payment_instrument.is_default for v in page.items] == [True, False, False]
    assert all(v.instrument_identifier.token is not None for v in page.items)


@pytest.mark.parametrize(
    ("offset", "limit", "expected"), [(0, 1, [0]), (1, 2, [1, 2]), (3, 5, [3]), (4, 5, [])]
)
def test_the_customer_list_pages(
    services: Services,
    tenant: Tenant,
    customer_id: str,
    offset: int,
    limit: int,
    expected: list[int],
) -> None:
    made = [
        services.payment_instruments.create(
            tenant, by_card(), {}, customer_id
        ).payment_instrument.id
        for _ in range(4)
    ]

    page = services.payment_instruments.list_for_customer(tenant, customer_id, offset, limit)

    assert [v.payment_instrument.id for v in page.items] == [made[i] for i in expected]
    assert page.total == 4


def test_the_list_for_an_identifier(services: Services, tenant: Tenant) -> None:
    pan = make_pan()
    customer = services.customers.create(tenant, {}).customer.id
    made = [
        services.payment_instruments.create(tenant, by_card(pan), {}).payment_instrument.id,
        services.payment_instruments.create(
            tenant, by_card(pan), {}, customer
        ).payment_instrument.id,
    ]
    services.payment_instruments.create(tenant, by_card(), {})
    ii_id = services.payment_instruments.retrieve(
        tenant, made[0]
    ).payment_instrument.instrument_identifier_id

    page = services.payment_instruments.list_for_instrument_identifier(tenant, ii_id, 0, 10)

    assert [v.payment_instrument.id for v in page.items] == made
    assert page.total == 2


def test_the_list_for_an_unknown_identifier_is_not_found(
    services: Services, tenant: Tenant
) -> None:
    with pytest.raises(NotFound):
        services.payment_instruments.list_for_instrument_identifier(tenant, "7" * 19, 0, 10)


def test_the_list_for_an_unknown_customer_is_not_found(services: Services, tenant: Tenant) -> None:
    with pytest.raises(NotFound):
        services.payment_instruments.list_for_customer(tenant, "3" * 32, 0, 10)


def test_lists_leave_out_deleted_instruments(services: Services, tenant: Tenant) -> None:
    pan = make_pan()
    kept = services.payment_instruments.create(tenant, by_card(pan), {})
    gone = services.payment_instruments.create(tenant, by_card(pan), {})
    services.payment_instruments.delete(tenant, gone.payment_instrument.id)
    ii_id = kept.payment_instrument.instrument_identifier_id

    page = services.payment_instruments.list_for_instrument_identifier(tenant, ii_id, 0, 10)

    assert [v.payment_instrument.id for v in page.items] == [kept.payment_instrument.id]
