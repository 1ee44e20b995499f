"""ShippingAddressService over the fakes: the first address is the default,
defaults move, and a default in use cannot be deleted."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from opentms.bootstrap import Services
from opentms.domain.errors import DefaultInUse, NotAvailable, NotFound, PreconditionFailed
from opentms.services.tenancy import Tenant
from tests.services.fakes import FakePorts


def ship_to(name: str) -> dict[str, Any]:
    return {"shipTo": {"firstName": name, "country": "US"}}


@pytest.fixture
def customer_id(services: Services, tenant: Tenant) -> str:
    return services.customers.create(tenant, {}).customer.id


def test_the_first_address_becomes_the_default(
    services: Services, tenant: Tenant, customer_id: str
) -> None:
    address = services.shipping_addresses.create(tenant, customer_id, ship_to("Ada"))

    assert address.is_default
    assert address.customer_id == customer_id
    assert address.attributes == ship_to("Ada")
    customer = services.customers.retrieve(tenant, customer_id).customer
    assert customer.default_shipping_address_id == address.id


def test_a_second_address_is_not_the_default_unless_asked(
    services: Services, tenant: Tenant, customer_id: str
) -> None:
    first = services.shipping_addresses.create(tenant, customer_id, ship_to("A"))
    second = services.shipping_addresses.create(tenant, customer_id, ship_to("B"))

    assert not second.is_default
    assert services.shipping_addresses.retrieve(tenant, customer_id, first.id).is_default
    assert not services.shipping_addresses.retrieve(tenant, customer_id, second.id).is_default


def test_a_new_address_made_default_takes_it_over(
    services: Services, tenant: Tenant, customer_id: str
) -> None:
    first = services.shipping_addresses.create(tenant, customer_id, ship_to("A"))
    second = services.shipping_addresses.create(
        tenant, customer_id, ship_to("B"), make_default=True
    )

    assert second.is_default
    assert not services.shipping_addresses.retrieve(tenant, customer_id, first.id).is_default
    customer = services.customers.retrieve(tenant, customer_id).customer
    assert customer.default_shipping_address_id == second.id


def test_an_address_of_an_unknown_customer_is_not_found(
    services: Services, tenant: Tenant, fakes: FakePorts
) -> None:
    with pytest.raises(NotFound):
        services.shipping_addresses.create(tenant, "9" * 32, ship_to("A"))
    assert fakes.vault.commits == 0


def test_an_address_of_a_deleted_customer_is_not_available(
    services: Services, tenant: Tenant, customer_id: str
) -> None:
    services.customers.delete(tenant, customer_id)

    with pytest.raises(NotAvailable):
        services.shipping_addresses.create(tenant, customer_id, ship_to("A"))


@pytest.mark.parametrize("operation", ["retrieve", "update", "delete"])
def test_an_address_under_another_customer_is_not_found(
    services: Services, tenant: Tenant, customer_id: str, operation: str
) -> None:
    address = services.shipping_addresses.create(tenant, customer_id, ship_to("A"))
    stranger = services.customers.create(tenant, {}).customer.id
    book = services.shipping_addresses

    acts: dict[str, Callable[[], object]] = {
        "retrieve": lambda: book.retrieve(tenant, stranger, address.id),
        "update": lambda: book.update(tenant, stranger, address.id, {"a": 1}, None),
        "delete": lambda: book.delete(tenant, stranger, address.id),
    }
    act = acts[operation]

    with pytest.raises(NotFound):
        act()
    assert book.retrieve(tenant, customer_id, address.id) == address


@pytest.mark.parametrize("operation", ["retrieve", "update", "delete", "list"])
def test_another_merchant_sees_none_of_them(
    services: Services, tenant: Tenant, other_tenant: Tenant, customer_id: str, operation: str
) -> None:
    address = services.shipping_addresses.create(tenant, customer_id, ship_to("A"))
    book = services.shipping_addresses

    acts: dict[str, Callable[[], object]] = {
        "retrieve": lambda: book.retrieve(other_tenant, customer_id, address.id),
        "update": lambda: book.update(other_tenant, customer_id, address.id, {}, None),
        "delete": lambda: book.delete(other_tenant, customer_id, address.id),
        "list": lambda: book.list_for_customer(other_tenant, customer_id, 0, 10),
    }
    act = acts[operation]

    with pytest.raises(NotFound):
        act()


def test_an_unknown_address_is_not_found(
    services: Services, tenant: Tenant, customer_id: str
) -> None:
    with pytest.raises(NotFound):
        services.shipping_addresses.retrieve(tenant, customer_id, "1" * 32)


def test_update_merges_and_raises_the_version(
    services: Services, tenant: Tenant, customer_id: str
) -> None:
    address = services.shipping_addresses.create(tenant, customer_id, ship_to("A"))

    updated = services.shipping_addresses.update(
        tenant, customer_id, address.id, {"shipTo": {"lastName": "L"}}, '"1"'
    )

    assert updated.attributes == {"shipTo": {"firstName": "A", "country": "US", "lastName": "L"}}
    assert updated.version == 2
    stored = services.shipping_addresses.retrieve(tenant, customer_id, address.id)
    assert (stored.attributes, stored.version) == (updated.attributes, 2)


def test_update_with_a_stale_etag_fails(
    services: Services, tenant: Tenant, customer_id: str
) -> None:
    address = services.shipping_addresses.create(tenant, customer_id, ship_to("A"))
    services.shipping_addresses.update(tenant, customer_id, address.id, {}, None)

    with pytest.raises(PreconditionFailed) as failed:
        services.shipping_addresses.update(tenant, customer_id, address.id, {"x": 1}, '"1"')

    assert failed.value.current_etag == '"2"'


def test_update_can_make_an_address_the_default(
    services: Services, tenant: Tenant, customer_id: str
) -> None:
    first = services.shipping_addresses.create(tenant, customer_id, ship_to("A"))
    second = services.shipping_addresses.create(tenant, customer_id, ship_to("B"))

    updated = services.shipping_addresses.update(
        tenant, customer_id, second.id, {}, None, make_default=True
    )

    assert updated.is_default
    assert not services.shipping_addresses.retrieve(tenant, customer_id, first.id).is_default


def test_update_of_the_default_keeps_it_the_default(
    services: Services, tenant: Tenant, customer_id: str
) -> None:
    first = services.shipping_addresses.create(tenant, customer_id, ship_to("A"))

    updated = services.shipping_addresses.update(
        tenant, customer_id, first.id, {"a": 1}, None, make_default=True
    )

    assert updated.is_default
    assert services.customers.retrieve(tenant, customer_id).customer.version == 2


def test_the_only_address_may_be_deleted_and_the_default_is_cleared(
    services: Services, tenant: Tenant, customer_id: str
) -> None:
    address = services.shipping_addresses.create(tenant, customer_id, ship_to("A"))

    services.shipping_addresses.delete(tenant, customer_id, address.id)

    with pytest.raises(NotAvailable):
        services.shipping_addresses.retrieve(tenant, customer_id, address.id)
    view = services.customers.retrieve(tenant, customer_id)
    assert view.customer.default_shipping_address_id is None
    assert view.default_shipping_address is None


def test_the_default_cannot_be_deleted_while_others_remain(
    services: Services, tenant: Tenant, customer_id: str
) -> None:
    first = services.shipping_addresses.create(tenant, customer_id, ship_to("A"))
    services.shipping_addresses.create(tenant, customer_id, ship_to("B"))

    with pytest.raises(DefaultInUse):
        services.shipping_addresses.delete(tenant, customer_id, first.id)
    assert services.shipping_addresses.retrieve(tenant, customer_id, first.id).is_default


def test_an_address_that_is_not_the_default_is_deleted(
    services: Services, tenant: Tenant, customer_id: str
) -> None:
    first = services.shipping_addresses.create(tenant, customer_id, ship_to("A"))
    second = services.shipping_addresses.create(tenant, customer_id, ship_to("B"))

    services.shipping_addresses.delete(tenant, customer_id, second.id)

    page = services.shipping_addresses.list_for_customer(tenant, customer_id, 0, 10)
    assert [a.id for a in page.items] == [first.id]
    assert page.total == 1


def test_a_deleted_address_cannot_be_deleted_again(
    services: Services, tenant: Tenant, customer_id: str
) -> None:
    address = services.shipping_addresses.create(tenant, customer_id, ship_to("A"))
    services.shipping_addresses.delete(tenant, customer_id, address.id)

    with pytest.raises(NotAvailable):
        services.shipping_addresses.delete(tenant, customer_id, address.id)


def test_the_list_puts_the_default_first_then_creation_order(
    services: Services, tenant: Tenant, customer_id: str
) -> None:
    made = [
        services.shipping_addresses.create(tenant, customer_id, ship_to(name)).id for name in "ABC"
    ]
    services.shipping_addresses.update(tenant, customer_id, made[2], {}, None, make_default=True)

    page = services.shipping_addresses.list_for_customer(tenant, customer_id, 0, 10)

    assert [a.id for a in page.items] == [made[2], made[0], made[1]]
    assert [a.is_default for a in page.items] == [True, False, False]


@pytest.mark.parametrize(
    ("offset", "limit", "expected"),
    [
        (0, 2, [0, 1]),
        (2, 2, [2, 3]),
        (4, 2, [4]),
        (5, 2, []),
        (1, 3, [1, 2, 3]),
        (0, 100, [0, 1, 2, 3, 4]),
    ],
)
def test_the_list_pages(
    services: Services,
    tenant: Tenant,
    customer_id: str,
    offset: int,
    limit: int,
    expected: list[int],
) -> None:
    made = [
        services.shipping_addresses.create(tenant, customer_id, ship_to(str(i))).id
        for i in range(5)
    ]

    page = services.shipping_addresses.list_for_customer(tenant, customer_id, offset, limit)

    assert [a.id for a in page.items] == [made[i] for i in expected]
    assert (page.offset, page.limit, page.total) == (offset, limit, 5)


def test_the_list_of_an_unknown_customer_is_not_found(services: Services, tenant: Tenant) -> None:
    with pytest.raises(NotFound):
        services.shipping_addresses.list_for_customer(tenant, "2" * 32, 0, 10)


def test_the_list_holds_only_the_customers_own(
    services: Services, tenant: Tenant, customer_id: str
) -> None:
    other = services.customers.create(tenant, {}).customer.id
    services.shipping_addresses.create(tenant, other, ship_to("X"))
    mine = services.shipping_addresses.create(tenant, customer_id, ship_to("A"))

    page = services.shipping_addresses.list_for_customer(tenant, customer_id, 0, 10)

    assert page.items == (mine,)
