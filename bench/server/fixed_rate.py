"""Benchmark 2: payment-credentials latency at a fixed rate (open loop).

    .venv/bin/python -m bench.server.fixed_rate

The same server, merchant and 64 Visa customers as benchmark 1, then 3 runs of
2,000 pre-signed credential requests sent at 200 requests/s on 32 keep-alive
connections by bench.server.loadgen (latency from each request's due time).
"""

from __future__ import annotations

import argparse
import itertools
import tempfile
from pathlib import Path
from typing import Any

from bench.server.credentials import credential_requests, make_customers
from bench.server.harness import (
    DATABASES,
    database,
    medians,
    register_merchant,
    serve,
    stop_on_sigterm,
)
from bench.server.harness import write_result as store
from bench.server.loadgen import fixed_rate
from bench.server.quiet import measured

FIGURES = ("rate", "p50_ms", "p99_ms", "max_ms")


def run_config(kind: str, workers: int, args: argparse.Namespace) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="bench-") as tmp, database(kind) as url:
        merchant = register_merchant(Path(tmp), url)
        with serve(Path(tmp), url, workers) as server:
            signer = merchant.signer(server.port)
            customers = make_customers(signer, 64)
            counter = itertools.count()
            warm = credential_requests(signer, customers, counter, args.rate * 2)
            fixed_rate(server.port, warm, args.rate)
            runs = []
            for _ in range(args.runs):
                result, foreign = measured(
                    lambda: credential_requests(signer, customers, counter, args.requests),
                    lambda requests: fixed_rate(server.port, requests, args.rate),
                    kind == "postgresql",
                )
                runs.append({**result.figures(), "foreign_load": foreign})
    figures = medians(runs, FIGURES)
    return {"database": kind, "workers": workers, **figures, "runs": runs}


def main() -> None:
    stop_on_sigterm()
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--databases", nargs="+", choices=DATABASES, default=list(DATABASES))
    parser.add_argument("--workers", nargs="+", type=int, default=[1, 2])
    parser.add_argument("--rate", type=int, default=200)
    parser.add_argument("--requests", type=int, default=2_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    configs = []
    for kind in args.databases:
        for workers in args.workers:
            config = run_config(kind, workers, args)
            print(
                f"{kind} workers={workers}: "
                f"{config['rate']:.0f}/s p50 {config['p50_ms']:.2f} ms "
                f"p99 {config['p99_ms']:.2f} ms",
                flush=True,
            )
            configs.append(config)
    load = {"rate": args.rate, "requests": args.requests, "connections": 32}
    store("fixed_rate", {"load": load, "configs": configs})


if __name__ == "__main__":
    main()
