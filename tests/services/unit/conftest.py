"""The fast services tier: the real services, built by ``build_services`` over
the in-memory fakes of :mod:`tests.services.fakes` (no database, no files).

Each test gets fresh fakes, a fake clock and a merchant with two profiles:
the default one provisions network tokens, ``plain`` does not."""

from __future__ import annotations

from pathlib import Path

import pytest

from opentms.bootstrap import Services, build_services
from opentms.config import Settings
from opentms.domain.merchant import MerchantRecord, Profile
from opentms.services.tenancy import Tenant
from tests.services.fakes import FakeClock, FakePorts

MERCHANT = "fake_merchant"
OTHER = "other_merchant"


@pytest.fixture
def fakes() -> FakePorts:
    return FakePorts()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def services(fakes: FakePorts, clock: FakeClock) -> Services:
    # The data directory is never opened: the ports are the fakes.
    settings = Settings(data_dir=Path("/nonexistent/opentms-services-tier"))
    return build_services(settings, clock, ports=fakes.ports())


def seed_merchant(fakes: FakePorts, clock: FakeClock, merchant_id: str) -> None:
    """A merchant straight into the fake store (``register`` would make RSA
    keys, which is slow): a default profile with tokens, and ``plain``."""
    default = Profile(f"{merchant_id}-DEFAULT".upper(), merchant_id, "default", True)
    record = MerchantRecord(merchant_id, fakes.keyring.new_merchant_keys(merchant_id), default.id)
    fakes.merchant_store.add_merchant(record, default, [], clock.now())
    plain = Profile(f"{merchant_id}-PLAIN".upper(), merchant_id, "plain", False)
    fakes.merchant_store.add_profile(plain, clock.now())


@pytest.fixture
def tenant(services: Services, fakes: FakePorts, clock: FakeClock) -> Tenant:
    """The merchant, on its default profile (network tokens on)."""
    seed_merchant(fakes, clock, MERCHANT)
    return services.merchants.tenant(MERCHANT, None)


@pytest.fixture
def plain_tenant(services: Services, tenant: Tenant) -> Tenant:
    """The same merchant on a profile that provisions no network tokens."""
    return services.merchants.tenant(MERCHANT, f"{MERCHANT}-PLAIN")


@pytest.fixture
def other_tenant(services: Services, fakes: FakePorts, clock: FakeClock) -> Tenant:
    """A second merchant: none of the first one's tokens are its."""
    seed_merchant(fakes, clock, OTHER)
    return services.merchants.tenant(OTHER, None)
