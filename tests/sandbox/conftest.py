"""Fixtures of the sandbox tests: a sandbox of their own per test module (a
reset must not wipe the session's shared app), an admin client and a merchant.

On OPENTMS_TEST_BACKEND=postgresql the module's database is a fresh schema."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette

from opentms.adapters.http.app import create_app
from opentms.bootstrap import Database, Services, build_services, open_database
from opentms.client import ASGIAppTransport
from tests.conftest import client_for, make_settings
from tests.support import Merchant, backend_database_url


@pytest.fixture(scope="module")
def sandbox_database_url() -> Iterator[str | None]:
    with backend_database_url("opentms_sandbox") as url:
        yield url


@pytest.fixture(scope="module")
def sandbox_data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("sandbox")


@pytest.fixture(scope="module")
def sandbox_database(
    sandbox_data_dir: Path, sandbox_database_url: str | None
) -> Iterator[Database]:
    opened = open_database(make_settings(sandbox_data_dir, database_url=sandbox_database_url))
    yield opened
    opened.close()


@pytest.fixture(scope="module")
def sandbox_services(sandbox_database: Database) -> Iterator[Services]:
    built = build_services(sandbox_database.settings, database=sandbox_database)
    assert built.sandbox is not None
    yield built
    built.close()


@pytest.fixture(scope="module")
def sandbox_app(sandbox_services: Services) -> Starlette:
    return create_app(sandbox_services)


@pytest.fixture(scope="module")
def admin_token(sandbox_services: Services) -> str:
    assert sandbox_services.sandbox is not None
    return sandbox_services.sandbox.admin_token


@pytest.fixture
def admin_client(sandbox_app: Starlette, admin_token: str) -> Iterator[httpx.Client]:
    """A client of the admin API, with the admin token."""
    with httpx.Client(
        transport=ASGIAppTransport(sandbox_app),
        base_url="http://testserver/opentms/v1/sandbox",
        headers={"authorization": f"Bearer {admin_token}"},
    ) as client:
        yield client


@pytest.fixture(scope="module")
def sandbox_merchant(sandbox_services: Services) -> Merchant:
    return Merchant(sandbox_services.merchants.register("sandbox_merchant"))


@pytest.fixture
def sandbox_client(sandbox_app: Starlette, sandbox_merchant: Merchant) -> Iterator[httpx.Client]:
    """A TMS client signing as the sandbox merchant (HTTP Signature)."""
    with client_for(sandbox_app, sandbox_merchant) as client:
        yield client
