"""Helpers of the reset and snapshot tests: a merchant of the test's own and
its client (the fixtures ``merchant`` and ``client``), its vault filled through
the API, read back through the API, rows of the sandbox's own tables, and a
real ``opentms serve --workers 2`` over a database of its own."""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine, func, select
from starlette.applications import Starlette

from opentms.adapters.storage.tables import sandbox_faults, sandbox_journal
from opentms.bootstrap import Database, Services, open_database
from tests.api.factories import (
    CUSTOMERS,
    II,
    JSON,
    PI,
    customer_addresses,
    make_customer,
    make_customer_payment_instrument,
    make_shipping_address,
)
from tests.api.tokens_support import (
    VISA,
    create_ii,
    issue,
    new_merchant,
    signed_client,
    token_id_of,
)
from tests.conftest import make_settings
from tests.sandbox.served import serve
from tests.support import Merchant, backend_database_url


@dataclass(frozen=True)
class Vault:
    """What :func:`fill` stored for one merchant, by id."""

    customer_id: str
    shipping_address_id: str
    payment_instrument_id: str
    instrument_identifier_id: str
    token_id: str

    def paths(self) -> list[str]:
        return [
            f"{CUSTOMERS}/{self.customer_id}",
            f"{customer_addresses(self.customer_id)}/{self.shipping_address_id}",
            f"{PI}/{self.payment_instrument_id}",
            f"{II}/{self.instrument_identifier_id}",
            f"/tms/v2/tokenized-cards/{self.token_id}",
        ]


@pytest.fixture
def merchant(request: pytest.FixtureRequest, sandbox_services: Services) -> Merchant:
    """A merchant of this test alone (a reset with merchants wipes them all),
    named after the test module (``reset_…``, ``snapshots_…``)."""
    return new_merchant(sandbox_services, request.module.__name__.rpartition(".test_")[2])


@pytest.fixture
def client(sandbox_app: Starlette, merchant: Merchant) -> Iterator[httpx.Client]:
    """A TMS client signing as :func:`merchant`."""
    with signed_client(sandbox_app, merchant) as c:
        yield c


def fill(client: httpx.Client, merchant: Merchant) -> Vault:
    """A customer with a shipping address and a card, and a Visa card with its
    network token, whose first payment credentials are issued (ATC 1)."""
    customer = make_customer(client)
    address = make_shipping_address(client, customer["id"])
    instrument = make_customer_payment_instrument(client, customer["id"])
    identifier = create_ii(client, VISA.new_pan())
    token_id = token_id_of(identifier)
    issue(client, merchant, token_id)
    return Vault(customer["id"], address["id"], instrument["id"], identifier["id"], token_id)


def view(client: httpx.Client, vault: Vault) -> dict[str, tuple[int, JSON]]:
    """Each resource of ``vault`` as the API answers it now: status and body."""
    return {path: _answer(client.get(path)) for path in vault.paths()}


def _answer(response: httpx.Response) -> tuple[int, JSON]:
    body: JSON = response.json() if response.content else {}
    return response.status_code, body


def statuses(client: httpx.Client, vault: Vault) -> list[int]:
    return [client.get(path).status_code for path in vault.paths()]


def add_journal_entry(engine: Engine, merchant_id: str | None) -> None:
    with engine.begin() as conn:
        conn.execute(
            sandbox_journal.insert().values(
                at=datetime.now(UTC),
                merchant_id=merchant_id,
                method="GET",
                path="/tms/v2/customers/x",
                query="",
                status=404,
                duration_ms=1.0,
                correlation_id=uuid.uuid4().hex,
                auth_verdict="authenticated",
            )
        )


def add_fault(engine: Engine) -> None:
    with engine.begin() as conn:
        conn.execute(
            sandbox_faults.insert().values(
                id=uuid.uuid4().hex,
                position=0,
                rule='{"status": 503}',
                remaining=None,
                hits=0,
                created_at=datetime.now(UTC),
            )
        )


def journal_merchants(engine: Engine) -> list[str | None]:
    with engine.connect() as conn:
        return list(conn.execute(select(sandbox_journal.c.merchant_id)).scalars())


def fault_count(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(sandbox_faults)).scalar_one())


@contextmanager
def served(data_dir: Path) -> Iterator[tuple[str, str, Database]]:
    """A real ``opentms serve --workers 2`` over a database of its own (SQLite
    in ``data_dir``, or a fresh PostgreSQL schema): its URL, its admin token,
    and the same database opened in this process."""
    with backend_database_url("opentms_state") as database_url:
        database = open_database(make_settings(data_dir, database_url=database_url))
        token = secrets.token_urlsafe(24)
        try:
            with serve(
                data_dir, data_dir=data_dir, workers=2, database_url=database_url, admin_token=token
            ) as server:
                yield server.url, token, database
        finally:
            database.close()
