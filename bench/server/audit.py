"""Benchmark 6: payment credentials per second with the audit log on against
off (docs/security.md, "Audit log"): SQLite with 1 worker, PostgreSQL with 2.

    .venv/bin/python -m bench.server.audit

Each configuration is benchmark 1's (``bench.server.credentials``: 64
customers, pre-signed CRYPTOGRAM requests, wrk, median of 3 runs), run once
with ``OPENTMS_AUDIT_LOG=false`` and once with ``true``. With the log on
every credential appends one entry to the one hash chain in the transaction
that takes the ATC: on PostgreSQL that write becomes a transaction (BEGIN,
the ATC, the head row locked FOR UPDATE, the entry, the head moved, COMMIT)
instead of one autocommitted statement, and every worker queues on the head
row.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

from bench.server import harness
from bench.server.credentials import run_config
from bench.server.harness import WrkSettings, stop_on_sigterm, write_result

CONFIGS = (("sqlite", 1), ("postgresql", 2))
FIGURES = ("rate", "p50_ms", "p99_ms", "server_cpu_ms", "postgres_cpu_ms")


def with_audit_log(enabled: bool) -> Callable[[], None]:
    """Make every server and CLI command of the harness run with
    OPENTMS_AUDIT_LOG set (the harness passes no OPENTMS_* of its own
    environment on); the function that undoes it."""
    original = harness.server_env

    def server_env(data_dir: Any, database_url: str | None) -> dict[str, str]:
        env = original(data_dir, database_url)
        env["OPENTMS_AUDIT_LOG"] = "true" if enabled else "false"
        return env

    harness.server_env = server_env

    def undo() -> None:
        harness.server_env = original

    return undo


def read_cost(kind: str, reads: int, runs: int) -> dict[str, float]:
    """Microseconds per GET of an instrument identifier, audit log off and on,
    over the in-process app (no network, no wrk: the route, the service and
    the transactions): what recording a read costs, its own short write
    transaction. Off and on alternate, median of ``runs``."""
    import tempfile
    import time
    from pathlib import Path

    import httpx

    from opentms.adapters.http.app import create_app
    from opentms.bootstrap import build_services, open_database
    from opentms.client import ASGIAppTransport, HTTPSignatureAuth
    from opentms.config import Settings

    timings: dict[bool, list[float]] = {False: [], True: []}
    # One database and master key for every run; the log on or off per run.
    with harness.database(kind) as url, tempfile.TemporaryDirectory(prefix="bench-") as tmp:
        for run in range(runs):
            for enabled in (False, True):
                settings = Settings(data_dir=Path(tmp), database_url=url, audit_log=enabled)
                database = open_database(settings)
                services = build_services(settings, database=database)
                merchant = services.merchants.register(f"reads_{run}_{enabled}")
                auth = HTTPSignatureAuth(
                    merchant.merchant_id, merchant.key_id, merchant.shared_secret
                )
                transport = ASGIAppTransport(create_app(services))
                with httpx.Client(transport=transport, base_url="http://b", auth=auth) as c:
                    body = {"card": {"number": harness.pan(run)}}
                    ii = c.post("/tms/v1/instrumentidentifiers", json=body).json()["id"]
                    path = f"/tms/v1/instrumentidentifiers/{ii}"
                    for _ in range(50):
                        c.get(path)
                    started = time.perf_counter()
                    for _ in range(reads):
                        c.get(path).raise_for_status()
                    spent = time.perf_counter() - started
                timings[enabled].append(spent * 1e6 / reads)
                services.close()
                database.close()
    off, on = harness.median(timings[False]), harness.median(timings[True])
    return {"off_us": off, "on_us": on, "extra_us": on - off}


def main() -> None:
    stop_on_sigterm()
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--reads",
        type=int,
        default=0,
        help="Only measure the cost of a recorded read (GET of an instrument "
        "identifier, in process), with this many reads per run.",
    )
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--connections", type=int, default=16)
    args = parser.parse_args()
    if args.reads:
        for kind, _ in CONFIGS:
            cost = read_cost(kind, args.reads, args.runs)
            print(
                f"{kind}: GET instrument identifier {cost['off_us']:.0f} µs audit off, "
                f"{cost['on_us']:.0f} µs on (+{cost['extra_us']:.0f} µs)",
                flush=True,
            )
        return
    settings = WrkSettings(args.threads, args.connections, args.seconds)
    configs = []
    for kind, workers in CONFIGS:
        for enabled in (False, True):
            undo = with_audit_log(enabled)
            try:
                config = run_config(kind, workers, settings, args.runs)
            finally:
                undo()
            config["audit_log"] = enabled
            print(
                f"{kind} workers={workers} audit={'on' if enabled else 'off'}: "
                f"{config['rate']:.0f}/s p50 {config['p50_ms']:.2f} ms "
                f"p99 {config['p99_ms']:.2f} ms "
                f"server CPU {config['server_cpu_ms']:.3f} ms/credential",
                flush=True,
            )
            configs.append(config)
    wrk = {"threads": args.threads, "connections": args.connections, "seconds": args.seconds}
    write_result("audit", {"wrk": wrk, "configs": configs})


if __name__ == "__main__":
    main()
