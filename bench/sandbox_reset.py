"""Sandbox reset, snapshot save and snapshot restore with 10,000 network tokens.

    .venv/bin/python -m bench.sandbox_reset [--tokens 10000] [--runs 5]
                                            [--database sqlite|postgresql]

A fresh database (SQLite in a temporary directory, or a fresh schema of
BENCH_POSTGRES_URL, default postgresql+psycopg://postgres@127.0.0.1:5432/test),
sandbox mode, one merchant. One of each resource is made through the HTTP API
(in process): a customer with a shipping address and a card, an instrument
identifier with its Visa network token and issued credentials. Their rows are
then cloned in bulk (one INSERT ... executemany per table) to ``--tokens`` of
each: instrument identifiers, network tokens, token transactions, customers,
payment instruments and shipping addresses, with new ids and random
fingerprints and indexes, so row sizes and indexes are those of real rows.

Each run refills the vault, then times ``POST /opentms/v1/sandbox/reset``
``{}`` over the in-process ASGI app (the route, the service and the one
transaction; no network). With ``--snapshots`` it also times saving a
snapshot of the filled vault and restoring it. Medians of ``--runs``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy
from sqlalchemy import Engine, Table, select

from opentms.adapters.http.app import create_app
from opentms.adapters.storage.tables import (
    customers,
    instrument_identifiers,
    network_tokens,
    payment_instruments,
    shipping_addresses,
    token_transactions,
)
from opentms.bootstrap import Services, build_services, open_database
from opentms.client import ASGIAppTransport, HTTPSignatureAuth
from opentms.config import Settings

POSTGRES = os.environ.get("BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
CARD = {"expirationMonth": "12", "expirationYear": "2031"}


@contextmanager
def database_url(kind: str) -> Iterator[str | None]:
    if kind == "sqlite":
        yield None
        return
    schema = f"bench_reset_{uuid.uuid4().hex[:10]}"
    admin = sqlalchemy.create_engine(POSTGRES)
    with admin.begin() as conn:
        conn.execute(sqlalchemy.text(f"CREATE SCHEMA {schema}"))
    try:
        yield f"{POSTGRES}?options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as conn:
            conn.execute(sqlalchemy.text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


def make_template(services: Services, client: httpx.Client) -> str:
    """One of each resource through the API; the merchant's id."""
    customer = client.post("/tms/v2/customers", json={}).json()["id"]
    address = {"shipTo": {"firstName": "Ada", "lastName": "Lovelace", "country": "GB"}}
    paths = [
        (f"/tms/v2/customers/{customer}/shipping-addresses", address),
        (
            f"/tms/v2/customers/{customer}/payment-instruments",
            {"card": CARD, "instrumentIdentifier": {"card": {"number": "4111111111111111"}}},
        ),
        ("/tms/v1/instrumentidentifiers", {"card": {"number": "4622943127013705", **CARD}}),
    ]
    answers = [client.post(path, json=body) for path, body in paths]
    for answer in answers:
        assert answer.status_code == 201, answer.text
    href = answers[-1].json()["_links"]["tokenized-cards"]["href"]
    token = href.rsplit("/", 1)[1]
    issued = client.post(f"/tms/v2/tokens/{token}/payment-credentials", json={})
    assert issued.status_code == 201, issued.text
    return str(services.merchants.list_merchants()[0])


def _first(engine: Engine, table: Table) -> dict[str, Any]:
    with engine.connect() as conn:
        return dict(conn.execute(select(table)).mappings().first() or {})


def fill(engine: Engine, templates: dict[str, dict[str, Any]], count: int) -> None:
    """``count`` clones of each template row, in one transaction."""
    rows: dict[str, list[dict[str, Any]]] = {name: [] for name in templates}
    for _ in range(count):
        ii, token, customer = (uuid.uuid4().hex for _ in range(3))
        rows["instrument_identifiers"].append(
            {
                **templates["instrument_identifiers"],
                "id": ii,
                "fingerprint": os.urandom(32),
                "network_index": os.urandom(32),
            }
        )
        rows["network_tokens"].append(
            {
                **templates["network_tokens"],
                "id": token,
                "instrument_identifier_id": ii,
                "number_index": os.urandom(32),
            }
        )
        rows["token_transactions"].append({**templates["token_transactions"], "token_id": token})
        rows["customers"].append({**templates["customers"], "id": customer})
        rows["payment_instruments"].append(
            {
                **templates["payment_instruments"],
                "id": uuid.uuid4().hex,
                "customer_id": customer,
                "instrument_identifier_id": ii,
            }
        )
        rows["shipping_addresses"].append(
            {**templates["shipping_addresses"], "id": uuid.uuid4().hex, "customer_id": customer}
        )
    order = (
        instrument_identifiers,
        network_tokens,
        token_transactions,
        customers,
        payment_instruments,
        shipping_addresses,
    )
    with engine.begin() as conn:
        for table in order:
            conn.execute(table.insert(), rows[str(table.name)])
    if engine.dialect.name == "sqlite":
        # Written over time, these rows would have been checkpointed into the
        # database file along the way: do it here, not in the timed reset.
        with engine.connect() as conn:
            conn.connection.dbapi_connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # type: ignore[union-attr]


def timed(admin: httpx.Client, path: str, body: dict[str, Any] | None = None) -> float:
    """Milliseconds of ``POST path``, which must succeed."""
    start = time.perf_counter()
    response = admin.post(path, json=body)
    elapsed = (time.perf_counter() - start) * 1000
    assert response.status_code in (200, 201, 204), response.text
    return elapsed


def run(kind: str, tokens: int, runs: int, snapshots: bool) -> dict[str, list[float]]:
    results: dict[str, list[float]] = {"reset": [], "save": [], "restore": []}
    with tempfile.TemporaryDirectory() as data_dir, database_url(kind) as url:
        settings = Settings(data_dir=Path(data_dir), database_url=url)  # type: ignore[call-arg]
        database = open_database(settings)
        services = build_services(settings, database=database)
        assert services.sandbox is not None
        app = create_app(services)
        registration = services.merchants.register("bench_reset")
        auth = HTTPSignatureAuth(
            registration.merchant_id, registration.key_id, registration.shared_secret
        )
        transport = ASGIAppTransport(app)
        admin = httpx.Client(
            transport=transport,
            base_url="http://testserver/opentms/v1/sandbox",
            headers={"authorization": f"Bearer {services.sandbox.admin_token}"},
        )
        with httpx.Client(transport=transport, base_url="http://testserver", auth=auth) as client:
            make_template(services, client)
        tables = (
            instrument_identifiers,
            network_tokens,
            token_transactions,
            customers,
            payment_instruments,
            shipping_addresses,
        )
        templates = {str(t.name): _first(database.engine, t) for t in tables}
        for index in range(runs):
            fill(database.engine, templates, tokens)
            if snapshots:
                name = f"run-{index}"
                results["save"].append(timed(admin, "/snapshots", {"name": name}))
            results["reset"].append(timed(admin, "/reset", {}))
            if snapshots:
                results["restore"].append(timed(admin, f"/snapshots/{name}/restore"))
                admin.post("/reset", json={}).raise_for_status()
        admin.close()
        services.close()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tokens", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--snapshots", action="store_true", help="time save and restore too")
    args = parser.parse_args()
    results = run(args.database, args.tokens, args.runs, args.snapshots)
    for name, times in results.items():
        if times:
            shown = ", ".join(f"{t:.0f}" for t in times)
            print(f"{args.database} {name}: median {statistics.median(times):.0f} ms ({shown})")


if __name__ == "__main__":
    main()
