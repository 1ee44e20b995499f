"""Benchmark 5: the vault at 1,000,000 instrument identifiers against 10,000:
create and retrieve latency over HTTP, and bytes on disk per II.

    .venv/bin/python -m bench.server.vault [--count 1000000] [--baseline 10000]
                                           [--database sqlite|postgresql]

For each size: a fresh database and merchant; the vault filled in process
through the very objects the server's instrument-identifier service uses
(its unit of work and InstrumentIntake: the same fingerprint, sealing and
network-token provisioning as ``POST /tms/v1/instrumentidentifiers``, with
the attributes the route stores), 1,000 cards per transaction; then
``opentms serve`` (1 worker) and, 3 times each, 2,000 retrievals of random
filled IIs and 2,000 creations of new cards at 200 requests/s (loadgen).
"""

from __future__ import annotations

import argparse
import functools
import itertools
import random
import tempfile
import time
from pathlib import Path
from typing import Any

import sqlalchemy

from bench.server.harness import (
    Signer,
    database,
    medians,
    pan,
    register_merchant,
    serve,
    stop_on_sigterm,
    write_result,
)
from bench.server.loadgen import fixed_rate
from bench.server.profile import identifier_requests
from bench.server.quiet import measured
from opentms.adapters.http.routes.inputs import stored
from opentms.adapters.http.schemas.instrument_identifiers import (
    STORED_FIELDS,
    InstrumentIdentifierCreate,
)
from opentms.bootstrap import build_services
from opentms.config import Settings
from opentms.domain.card import PAN
from opentms.services.instrument_identifiers import CardExpiry

BATCH = 1_000
II = "/tms/v1/instrumentidentifiers"
FIGURES = ("retrieve_p50_ms", "retrieve_p99_ms", "create_p50_ms", "create_p99_ms")


def fill(data_dir: Path, url: str | None, merchant_id: str, count: int, sample: int) -> list[str]:
    """Store ``count`` new cards; answer the ids of ``sample`` of them, at random."""
    services = build_services(Settings(data_dir=data_dir, database_url=url))
    tenant = services.merchants.tenant(merchant_id, None)
    # The service's own unit of work and intake (private: the server has no bulk path).
    service = services.instrument_identifiers
    intake = service._intake
    body = InstrumentIdentifierCreate.model_validate({"card": {"number": pan(0)}})
    attributes = stored(body, STORED_FIELDS)
    wanted = set(random.Random(count).sample(range(count), min(sample, count)))
    ids = []
    started = time.monotonic()
    for first in range(0, count, BATCH):
        with service._writing(tenant) as uow:
            for n in range(first, min(first + BATCH, count)):
                ii, created = intake.store(uow, tenant, PAN(pan(n)), attributes, CardExpiry())
                if not created:
                    raise RuntimeError(f"card {n} was already stored")
                if n in wanted:
                    ids.append(ii.id)
            uow.commit()
        if first and first % 100_000 == 0:
            rate = first / (time.monotonic() - started)
            print(f"  filled {first:,} ({rate:.0f}/s)", flush=True)
    services.close()
    random.Random(0).shuffle(ids)
    return ids


_SQLITE_SIZES = """
SELECT m.tbl_name, sum(s.pgsize) FROM dbstat AS s JOIN sqlite_master AS m ON m.name = s.name
GROUP BY m.tbl_name
"""
_POSTGRES_SIZES = """
SELECT c.relname, pg_total_relation_size(c.oid) FROM pg_class AS c
JOIN pg_namespace AS n ON n.oid = c.relnamespace
WHERE n.nspname = current_schema() AND c.relkind = 'r'
"""


def bytes_on_disk(data_dir: Path, url: str | None) -> dict[str, int]:
    """Bytes of each table with its indexes, and of the whole database."""
    if url is None:
        engine = sqlalchemy.create_engine(f"sqlite:///{data_dir / 'opentms.db'}")
        with engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
            sizes = {str(name): int(size) for name, size in conn.exec_driver_sql(_SQLITE_SIZES)}
        sizes["database"] = (data_dir / "opentms.db").stat().st_size
    else:
        engine = sqlalchemy.create_engine(url.replace("postgresql://", "postgresql+psycopg://"))
        with engine.connect() as conn:
            conn.exec_driver_sql("ANALYZE")  # what autovacuum would soon do after a bulk load
            sizes = {str(name): int(size) for name, size in conn.exec_driver_sql(_POSTGRES_SIZES)}
        sizes["database"] = sum(sizes.values())
    engine.dispose()
    return sizes


def retrievals(signer: Signer, ids: list[str]) -> list[bytes]:
    return [signer.raw("GET", f"{II}/{i}") for i in ids]


def latencies(
    signer: Signer, port: int, ids: list[str], args: argparse.Namespace
) -> dict[str, Any]:
    """Retrieval of random filled IIs, then creation of new cards, at a fixed rate."""
    per_run = args.requests
    postgres = args.database == "postgresql"
    fresh = itertools.count(500_000_000)  # card numbers no fill uses
    fixed_rate(port, retrievals(signer, ids[-200:]), args.rate)
    runs = []
    for run in range(args.runs):
        chosen = ids[run * per_run : (run + 1) * per_run]
        retrieve, foreign = measured(
            functools.partial(retrievals, signer, chosen),
            lambda requests: fixed_rate(port, requests, args.rate),
            postgres,
        )
        create, foreign_too = measured(
            lambda: identifier_requests(signer, fresh, per_run),
            lambda requests: fixed_rate(port, requests, args.rate),
            postgres,
        )
        runs.append(
            {
                "retrieve_p50_ms": retrieve.p50_ms,
                "retrieve_p99_ms": retrieve.p99_ms,
                "create_p50_ms": create.p50_ms,
                "create_p99_ms": create.p99_ms,
                "errors": retrieve.errors + create.errors,
                "foreign_load": max(foreign, foreign_too),
            }
        )
    return {**medians(runs, FIGURES), "runs": runs}


def measure_size(count: int, args: argparse.Namespace) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="bench-vault-") as tmp, database(args.database) as url:
        data_dir = Path(tmp)
        merchant = register_merchant(data_dir, url)
        started = time.monotonic()
        ids = fill(data_dir, url, merchant.merchant_id, count, args.runs * args.requests + 200)
        fill_seconds = time.monotonic() - started
        sizes = bytes_on_disk(data_dir, url)
        print(f"{count:,} IIs filled in {fill_seconds:.0f} s; {sizes}", flush=True)
        with serve(data_dir, url, 1) as server:
            figures = latencies(merchant.signer(server.port), server.port, ids, args)
    per_ii = (sizes["instrument_identifiers"] + sizes.get("network_tokens", 0)) / count
    return {
        "count": count,
        "fill_seconds": fill_seconds,
        "bytes": sizes,
        "bytes_per_ii": per_ii,
        "database_bytes_per_ii": sizes["database"] / count,
        **figures,
    }


def main() -> None:
    stop_on_sigterm()
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--count", type=int, default=1_000_000)
    parser.add_argument("--baseline", type=int, default=10_000)
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--rate", type=int, default=200)
    parser.add_argument("--requests", type=int, default=2_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    small = measure_size(args.baseline, args)
    large = measure_size(args.count, args)
    ratios = {f"{key}_ratio": large[key] / small[key] for key in FIGURES}
    print(f"large/small: {ratios}")
    load = {"rate": args.rate, "requests": args.requests, "runs": args.runs}
    write_result(
        f"vault-{args.database}",
        {"database": args.database, "load": load, "sizes": [small, large], **ratios},
    )


if __name__ == "__main__":
    main()
