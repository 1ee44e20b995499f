"""Fixtures: one opentms (SQLite in a temporary directory) per test session,
two merchants, and signed clients for each authentication mode."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette

from opentms.adapters.http.app import create_app
from opentms.bootstrap import Database, Services, build_services, open_database
from opentms.client import ASGIAppTransport
from opentms.config import Settings
from tests.support import Merchant, backend_database_url

AUTH_MODES = ["signature", "jwt", "hs256"]
# pytester runs test files in a pytest of their own (tests/testing: the opentms plugin).
pytest_plugins = ["pytester"]


@pytest.fixture(autouse=True)
def clean_environ(monkeypatch: pytest.MonkeyPatch) -> None:
    """No OPENTMS_* setting of the developer's shell leaks into a test."""
    import os

    for name in list(os.environ):
        if name.startswith("OPENTMS_") and not name.startswith("OPENTMS_TEST_"):
            monkeypatch.delenv(name)


@pytest.fixture(scope="session")
def postgres_url() -> str:
    """The PostgreSQL server for ``postgres`` tests (OPENTMS_TEST_POSTGRES_URL);
    such tests are skipped when it is not set."""
    import os

    url = os.environ.get("OPENTMS_TEST_POSTGRES_URL")
    if not url:
        pytest.skip("OPENTMS_TEST_POSTGRES_URL is not set")
    return url


def make_settings(data_dir: Path, **overrides: object) -> Settings:
    return Settings(data_dir=data_dir, **overrides)  # type: ignore[arg-type]


@pytest.fixture(scope="session")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("opentms")


@pytest.fixture(scope="session")
def database_url() -> Iterator[str | None]:
    """None (SQLite in the data directory), or, when OPENTMS_TEST_BACKEND is
    ``postgresql``, a fresh schema on OPENTMS_TEST_POSTGRES_URL, dropped after."""
    with backend_database_url("opentms_test") as url:
        yield url


@pytest.fixture(scope="session")
def database(data_dir: Path, database_url: str | None) -> Iterator[Database]:
    """The session's database, migrated: the tests that read or change rows
    use its engine."""
    opened = open_database(make_settings(data_dir, database_url=database_url))
    yield opened
    opened.close()


@pytest.fixture(scope="session")
def services(database: Database) -> Iterator[Services]:
    built = build_services(database.settings, database=database)
    yield built
    built.close()


@pytest.fixture(scope="session")
def app(services: Services) -> Starlette:
    return create_app(services)


@pytest.fixture(scope="session")
def merchant(services: Services) -> Merchant:
    return Merchant(services.merchants.register("merchant_a"))


@pytest.fixture(scope="session")
def other_merchant(services: Services) -> Merchant:
    return Merchant(services.merchants.register("merchant_b"))


def client_for(app: Starlette, merchant: Merchant, mode: str = "signature") -> httpx.Client:
    """A client over the in-process app that signs as ``merchant``; server
    errors come back as responses, never as raised exceptions."""
    return httpx.Client(
        transport=ASGIAppTransport(app), base_url="http://testserver", auth=merchant.auth(mode)
    )


@pytest.fixture
def client(app: Starlette, merchant: Merchant) -> Iterator[httpx.Client]:
    with client_for(app, merchant) as c:
        yield c


@pytest.fixture
def other_client(app: Starlette, other_merchant: Merchant) -> Iterator[httpx.Client]:
    with client_for(app, other_merchant) as c:
        yield c


@pytest.fixture(params=AUTH_MODES)
def any_client(
    request: pytest.FixtureRequest, app: Starlette, merchant: Merchant
) -> Iterator[httpx.Client]:
    """The same merchant signing with each authentication mode in turn."""
    with client_for(app, merchant, request.param) as c:
        yield c
