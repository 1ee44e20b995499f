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


def main() -> None:
    stop_on_sigterm()
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--connections", type=int, default=16)
    args = parser.parse_args()
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
