"""A vault with merchants holding one of everything sealed (cards, payment
instruments, customers, addresses, network tokens, a webhook key), and raw
reads of the sealed values the way an attacker with the database would."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import select

from opentms.adapters.http.app import create_app
from opentms.adapters.storage.sealed_columns import MERCHANT_SEALED
from opentms.adapters.storage.tables import merchants
from opentms.bootstrap import Database, Services, build_services, open_database
from opentms.client import ASGIAppTransport
from opentms.crypto.envelope import sealed_key_id
from tests.api.factories import (
    CUSTOMERS,
    II,
    PI,
    json_of,
    make_customer,
    make_customer_payment_instrument,
    make_instrument_identifier,
    make_shipping_address,
)
from tests.api.tokens_support import token_id_of
from tests.conftest import make_settings
from tests.support import Merchant, backend_database_url, make_pan


@dataclass
class Holdings:
    """What was stored for one merchant: its cards and the ids to read back."""

    pans: list[str] = field(default_factory=list)
    paths: list[str] = field(default_factory=list)
    ii_ids: dict[str, str] = field(default_factory=dict)  # pan -> id


@dataclass
class Vault:
    database: Database
    services: Services

    def client(self, merchant: Merchant) -> httpx.Client:
        return httpx.Client(
            transport=ASGIAppTransport(create_app(self.services)),
            base_url="http://testserver",
            auth=merchant.auth("signature"),
        )

    def register(self, merchant_id: str) -> Merchant:
        return Merchant(self.services.merchants.register(merchant_id))


@contextmanager
def open_vault(root: Path, **settings: Any) -> Iterator[Vault]:
    """A vault-mode opentms over SQLite in ``root`` (or, in the suite's
    PostgreSQL pass, a fresh schema)."""
    with backend_database_url("opentms_dk") as url:
        database = open_database(
            make_settings(root / "data", database_url=url, mode="vault", **settings)
        )
        services = build_services(database.settings, database=database)
        try:
            yield Vault(database, services)
        finally:
            services.close()


def populate(client: httpx.Client, merchant: Merchant, cards: int = 2) -> Holdings:
    """Cards (each with its network token), a customer with a payment
    instrument and a shipping address, and a webhook signing key."""
    held = Holdings()
    for _ in range(cards):
        pan = make_pan()
        ii = make_instrument_identifier(client, pan)
        held.pans.append(pan)
        held.ii_ids[pan] = ii["id"]
        held.paths.append(f"{II}/{ii['id']}")
        held.paths.append(f"/tms/v2/tokenized-cards/{token_id_of(ii)}")
    customer = make_customer(client)
    held.paths.append(f"{CUSTOMERS}/{customer['id']}")
    pan = make_pan()
    held.pans.append(pan)
    pi = make_customer_payment_instrument(client, customer["id"], pan)
    held.ii_ids[pan] = pi["instrumentIdentifier"]["id"]
    held.paths.append(f"{PI}/{pi['id']}")
    address = make_shipping_address(client, customer["id"])
    held.paths.append(f"{CUSTOMERS}/{customer['id']}/shipping-addresses/{address['id']}")
    key = client.post(
        "/kms/egress/v2/keys-sym",
        json={"clientRequestAction": "CREATE", "keyInformation": {"organizationId": merchant.id}},
    )
    assert key.status_code == 201, key.text
    return held


def read_back(client: httpx.Client, held: Holdings) -> None:
    """Every stored resource reads, and each card still maps to its
    instrument identifier (the fingerprint key did not change)."""
    for path in held.paths:
        json_of(client.get(path), 200)
    for pan, ii_id in held.ii_ids.items():
        again = client.post(II, json={"card": {"number": pan}})
        assert again.status_code in (200, 201), again.text
        assert again.json()["id"] == ii_id


def sealed_values(database: Database, merchant_id: str) -> dict[tuple[str, str], bytes]:
    """Every value of ``merchant_id`` sealed under its data key, raw, by
    (column, row id)."""
    found: dict[tuple[str, str], bytes] = {}
    with database.engine.connect() as conn:
        for column in MERCHANT_SEALED:
            table = column.table
            rows = conn.execute(
                select(table.c.id, column.column).where(
                    table.c.merchant_id == merchant_id, column.column.is_not(None)
                )
            ).all()
            for row_id, value in rows:
                found[(str(column), row_id)] = bytes(value)
    return found


def key_ids(database: Database, merchant_id: str) -> set[bytes]:
    """The data-key ids ``merchant_id``'s sealed values name."""
    return {sealed_key_id(v) for v in sealed_values(database, merchant_id).values()}


def merchant_row(database: Database, merchant_id: str) -> Any:
    with database.engine.connect() as conn:
        return conn.execute(select(merchants).where(merchants.c.id == merchant_id)).one()
