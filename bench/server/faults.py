"""The per-request cost of the sandbox's fault rules: what an authenticated
TMS request pays in sandbox mode to learn whether a rule fires
(``FaultControl.pick``: one query of ``sandbox_faults``, the matching in
Python), with no rules and with 10 rules that match no request.

    .venv/bin/python -m bench.server.faults [--calls 3000] [--runs 3]

In process, over the real SQL store (SQLite in a temporary data directory;
PostgreSQL in a fresh schema of ``BENCH_POSTGRES_URL``). Wall-clock and CPU
time per call (``time.perf_counter`` and ``time.process_time``), the median
of ``--runs`` runs; written to ``bench/server/results/faults.json``. The
table in bench/README.md ("Sandbox fault rules") is copied from it by hand.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sqlite3
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.server.harness import RESULTS, _commit, _postgres_version, database, median
from opentms.bootstrap import build_services, open_database
from opentms.config import Settings
from opentms.domain.ports import FaultRule
from opentms.services.sandbox import SandboxControls
from opentms.services.sandbox.faults import FaultControl

PATH = "/tms/v2/tokens/ABCDEF0123456789ABCDEF0123456789/payment-credentials"


def _time_calls(faults: FaultControl, calls: int) -> tuple[float, float]:
    """Microseconds of wall-clock and of CPU time per ``pick``."""
    wall, cpu = time.perf_counter(), time.process_time()
    for _ in range(calls):
        if faults.pick("POST", PATH, "bench") is not None:
            raise AssertionError("no rule should fire")
    return (
        (time.perf_counter() - wall) / calls * 1e6,
        (time.process_time() - cpu) / calls * 1e6,
    )


def _time_state_reads(controls: SandboxControls, calls: int) -> tuple[float, float]:
    """The same for the read of the shared state row that every sandbox
    request already makes (``SandboxControls.begin_request``), for scale."""
    wall, cpu = time.perf_counter(), time.process_time()
    for _ in range(calls):
        controls.end_request(controls.begin_request())
    return (
        (time.perf_counter() - wall) / calls * 1e6,
        (time.process_time() - cpu) / calls * 1e6,
    )


def _row(kind: str, what: str, results: list[tuple[float, float]]) -> dict[str, Any]:
    return {
        "database": kind,
        "what": what,
        "wall_us": median([wall for wall, _ in results]),
        "cpu_us": median([cpu for _, cpu in results]),
    }


def measure(kind: str, calls: int, runs: int) -> list[dict[str, Any]]:
    rows = []
    with tempfile.TemporaryDirectory() as directory, database(kind) as url:
        if url is not None:
            url = url.replace("postgresql://", "postgresql+psycopg://")
        settings = Settings(data_dir=Path(directory), database_url=url)
        services = build_services(settings, database=open_database(settings))
        try:
            assert services.sandbox is not None
            faults = services.sandbox.faults
            faults.clear()
            state = [_time_state_reads(services.sandbox, calls) for _ in range(runs)]
            rows.append(_row(kind, "state row read (already per request)", state))
            for rules in (0, 10):
                while len(faults.list()) < rules:
                    faults.add(FaultRule(path="/tms/v1/*", merchant_id="other", status=503))
                _time_calls(faults, calls // 10)  # warm-up
                results = [_time_calls(faults, calls) for _ in range(runs)]
                rows.append(_row(kind, f"fault check, {rules} rules", results))
        finally:
            services.close()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--calls", type=int, default=3000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--databases", default="sqlite,postgresql")
    args = parser.parse_args()
    rows = [
        row for kind in args.databases.split(",") for row in measure(kind, args.calls, args.runs)
    ]
    document = {
        "date": time.strftime("%Y-%m-%d %H:%M %Z"),
        "commit": _commit(),
        "machine": {
            "cores": str(os.cpu_count()),
            "python": platform.python_version(),
            "sqlite": sqlite3.sqlite_version,
            "postgresql": _postgres_version(),
        },
        # The machine is shared (2 cores): the load average says how quiet it was.
        "load_average": os.getloadavg(),
        "calls": args.calls,
        "runs": args.runs,
        "rows": rows,
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "faults.json").write_text(json.dumps(document, indent=2) + "\n")
    for row in rows:
        print(
            f"{row['database']:10} {row['what']:38}"
            f"{row['wall_us']:8.1f} µs wall  {row['cpu_us']:8.1f} µs CPU per request"
        )


if __name__ == "__main__":
    main()
