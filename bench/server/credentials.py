"""Benchmark 1: payment credentials (Visa customer token, CRYPTOGRAM) with wrk,
on SQLite and PostgreSQL, with 1 and 2 workers; and the server's CPU time per
credential (benchmark 4 compares it with the cryptographic floor).

    .venv/bin/python -m bench.server.credentials

Each configuration gets a fresh data directory (and PostgreSQL schema), a
merchant registered with ``opentms merchants create``, 64 customers each with a
Visa card (a default payment instrument with its network token), a 3 s warm-up,
then the measured runs. Requests go round-robin over the customers; every one
is pre-signed with a unique ``clientCorrelationId`` and sent once.
"""

from __future__ import annotations

import argparse
import itertools
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from bench.server.harness import (
    DATABASES,
    Server,
    Signer,
    WrkSettings,
    cpu_seconds,
    database,
    medians,
    pan,
    postgres_cpu_seconds,
    register_merchant,
    run_wrk,
    serve,
    stop_on_sigterm,
    write_result,
)
from bench.server.quiet import measured

CUSTOMERS = 64
FIGURES = ("rate", "p50_ms", "p99_ms", "server_cpu_ms", "postgres_cpu_ms")


def make_customers(signer: Signer, count: int) -> list[str]:
    """Customers with a default Visa payment instrument, created over the API."""
    ids = []
    with signer.client() as client:
        for n in range(count):
            body = {"buyerInformation": {"merchantCustomerID": f"bench-{n}"}}
            customer = client.post("/tms/v2/customers", json=body).raise_for_status().json()
            card = {"expirationMonth": "12", "expirationYear": "2031", "type": "001"}
            instrument = {"card": card, "instrumentIdentifier": {"card": {"number": pan(n)}}}
            path = f"/tms/v2/customers/{customer['id']}/payment-instruments"
            client.post(path, json=instrument).raise_for_status()
            ids.append(customer["id"])
    return ids


def credential_requests(
    signer: Signer, customers: list[str], counter: Iterator[int], count: int
) -> list[bytes]:
    requests = []
    for _ in range(count):
        n = next(counter)
        path = f"/tms/v2/tokens/{customers[n % len(customers)]}/payment-credentials"
        body = {"paymentCredentialType": "CRYPTOGRAM", "clientCorrelationId": str(n)}
        requests.append(signer.raw("POST", path, body))
    return requests


def measure_once(
    server: Server, requests: list[bytes], settings: WrkSettings, postgres: bool
) -> dict[str, Any]:
    """One wrk run, with the CPU time the server (and PostgreSQL) spent in it."""
    pids = server.pids()
    before, pg = [cpu_seconds([pid]) for pid in pids], postgres_cpu_seconds()
    result = run_wrk(requests, server.port, settings)
    spent = [cpu_seconds([pid]) - b for pid, b in zip(pids, before, strict=True)]
    cpu, pg = sum(spent), postgres_cpu_seconds() - pg
    return {
        "rate": result.rate,
        "p50_ms": result.p50_ms,
        "p99_ms": result.p99_ms,
        "requests": result.requests,
        "errors": result.errors,
        "wrapped": result.wrapped,
        "server_cpu_ms": cpu * 1000 / result.requests,
        "postgres_cpu_ms": pg * 1000 / result.requests if postgres else 0.0,
        # How evenly the kernel spread wrk's connections over the workers.
        "busiest_process_share": max(spent) / cpu,
    }


def run_config(kind: str, workers: int, settings: WrkSettings, runs: int) -> dict[str, Any]:
    postgres = kind == "postgresql"
    with tempfile.TemporaryDirectory(prefix="bench-") as tmp, database(kind) as url:
        merchant = register_merchant(Path(tmp), url)
        with serve(Path(tmp), url, workers) as server:
            signer = merchant.signer(server.port)
            customers = make_customers(signer, CUSTOMERS)
            counter = itertools.count()
            warm_settings = WrkSettings(settings.threads, settings.connections, 3)
            warm_requests = credential_requests(signer, customers, counter, 12_000)
            warm = run_wrk(warm_requests, server.port, warm_settings)
            size = max(5_000, int(warm.rate * settings.seconds * 1.5))
            results = []
            for _ in range(runs):
                figures, foreign = measured(
                    lambda: credential_requests(signer, customers, counter, size),
                    lambda requests: measure_once(server, requests, settings, postgres),
                    postgres,
                )
                results.append({**figures, "foreign_load": foreign})
    return {
        "database": kind,
        "workers": workers,
        **medians(results, FIGURES),
        "runs": results,
    }


def main() -> None:
    stop_on_sigterm()
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--databases", nargs="+", choices=DATABASES, default=list(DATABASES))
    parser.add_argument("--workers", nargs="+", type=int, default=[1, 2])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--connections", type=int, default=16)
    args = parser.parse_args()
    settings = WrkSettings(args.threads, args.connections, args.seconds)
    configs = []
    for kind in args.databases:
        for workers in args.workers:
            config = run_config(kind, workers, settings, args.runs)
            print(
                f"{kind} workers={workers}: "
                f"{config['rate']:.0f}/s "
                f"p50 {config['p50_ms']:.2f} ms p99 {config['p99_ms']:.2f} ms "
                f"server CPU {config['server_cpu_ms']:.3f} ms/credential",
                flush=True,
            )
            configs.append(config)
    wrk = {"threads": args.threads, "connections": args.connections, "seconds": args.seconds}
    write_result("credentials", {"wrk": wrk, "customers": CUSTOMERS, "configs": configs})


if __name__ == "__main__":
    main()
