"""build_services over the fakes: what it is given is what the services use."""

from __future__ import annotations

import pytest

from opentms.bootstrap import Services
from opentms.domain.errors import NotFound
from opentms.services.tenancy import Tenant
from tests.services.fakes import FakeClock, FakePorts


def test_closing_the_services_closes_the_ports(services: Services, fakes: FakePorts) -> None:
    services.close()

    assert fakes.closed == 1


@pytest.mark.parametrize("reason", [None, "the database is at revision 0003, not 0004"])
def test_readiness_is_the_ports(services: Services, fakes: FakePorts, reason: str | None) -> None:
    fakes.readiness.reason = reason

    assert services.readiness.unready_reason() == reason


def test_the_clock_given_dates_what_is_made(
    services: Services, tenant: Tenant, clock: FakeClock
) -> None:
    view = services.customers.create(tenant, {})

    assert view.customer.created_at == clock.current


def test_the_network_secrets_live_in_the_server_key_store(
    services: Services, tenant: Tenant, fakes: FakePorts
) -> None:
    names = set(fakes.merchant_store.server_keys)

    assert {"network:simulator", "network:visa:issuer-master-key"} <= names


def test_a_unit_of_work_that_fails_leaves_nothing_behind(
    services: Services, tenant: Tenant, fakes: FakePorts
) -> None:
    before = fakes.vault.state

    with pytest.raises(NotFound):
        services.shipping_addresses.create(tenant, "0" * 32, {})

    assert fakes.vault.state is before
    assert fakes.vault.commits == 0


def test_reads_never_commit(services: Services, tenant: Tenant, fakes: FakePorts) -> None:
    customer_id = services.customers.create(tenant, {}).customer.id
    commits = fakes.vault.commits

    services.customers.retrieve(tenant, customer_id)
    services.payment_instruments.list_for_customer(tenant, customer_id, 0, 10)
    services.shipping_addresses.list_for_customer(tenant, customer_id, 0, 10)

    assert fakes.vault.commits == commits
    assert [readonly for _, readonly, _ in fakes.vault.opened[-3:]] == [True, True, True]
