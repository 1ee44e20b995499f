"""Master-key rotation under load: ``opentms keys rotate`` then ``opentms keys
rewrap`` while a vault serves a constant 200 requests/s.

    .venv/bin/python -m bench.server.rotation [--databases sqlite postgresql]

Per run: a fresh vault (OPENTMS_MODE=vault, one worker) with the bench
merchant, 64 customers with a Visa card (each with its network token) and
``--merchants`` other merchants (what the rewrap moves: their wrapped keys
and shared secrets). bench.server.loadgen then sends ``--seconds`` of
pre-signed requests at ``--rate`` per second, one in two a payment
credentials request and one in two an instrument identifier creation (a new
card each); ``--after`` seconds in, ``opentms keys rotate`` runs, then ``opentms
keys rewrap``. Reported: requests sent and failed (any non-2xx), latency p50
and p99 over the whole run, the rewrap's duration and what it moved; then
``opentms keys status`` must show nothing left under version 1. Median of 3 runs.
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import json
import os
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from bench.server.credentials import credential_requests, make_customers
from bench.server.harness import (
    DATABASES,
    OPENTMS,
    RESULTS,
    Server,
    Signer,
    _commit,
    _wait_ready,
    database,
    free_port,
    machine,
    median,
    pan,
    register_merchant,
    server_env,
    stop_on_sigterm,
)
from bench.server.loadgen import RateResult, fixed_rate

FIGURES = ("sent", "failed", "p50_ms", "p99_ms", "max_ms", "rewrap_s", "rewrapped")


def _audit_log() -> bool:
    """The vault's audit log, on as by default unless ``BENCH_AUDIT_LOG=false``."""
    return os.environ.get("BENCH_AUDIT_LOG", "true").lower() not in ("0", "false", "off")


def vault_env(data_dir: Path, url: str | None) -> dict[str, str]:
    return {
        **server_env(data_dir, url),
        "OPENTMS_MODE": "vault",
        "OPENTMS_AUDIT_LOG": "true" if _audit_log() else "false",
    }


@contextlib.contextmanager
def serve_vault(data_dir: Path, url: str | None, workers: int) -> Iterator[Server]:
    port = free_port()
    log = data_dir / f"serve-{port}.log"
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [str(OPENTMS), "serve", "--port", str(port), "--workers", str(workers)],
            env=vault_env(data_dir, url),
            stdout=sink,
            stderr=sink,
        )
    server = Server(process, port, log)
    try:
        _wait_ready(server, workers)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def other_merchants(data_dir: Path, url: str | None, count: int) -> None:
    """``count`` more merchants, registered in this process (as `opentms
    merchants create` does, without writing bundles)."""
    from opentms.bootstrap import build_services
    from opentms.config import Settings

    services = build_services(Settings(data_dir=data_dir, database_url=url, mode="vault"))
    try:
        for n in range(count):
            services.merchants.register(f"other-{n}")
    finally:
        services.close()


def mixed_requests(
    signer: Signer, customers: list[str], count: int, first_card: int
) -> list[bytes]:
    counter = itertools.count()
    credentials = credential_requests(signer, customers, counter, count // 2 + 1)
    cards = (
        signer.raw("POST", "/tms/v1/instrumentidentifiers", {"card": {"number": pan(n)}})
        for n in range(first_card, first_card + count)
    )
    mixed = [raw for pair in zip(credentials, cards, strict=False) for raw in pair]
    return mixed[:count]


def keys(data_dir: Path, url: str | None, *args: str) -> tuple[float, str]:
    started = time.monotonic()
    done = subprocess.run(
        [str(OPENTMS), "keys", *args], env=vault_env(data_dir, url), capture_output=True, text=True
    )
    if done.returncode != 0:
        raise RuntimeError(f"opentms keys {' '.join(args)} failed: {done.stdout}{done.stderr}")
    return time.monotonic() - started, done.stdout


def run_once(kind: str, args: argparse.Namespace, run: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="bench-rotation-") as tmp, database(kind) as url:
        data_dir = Path(tmp)
        merchant = register_merchant(data_dir, url)
        other_merchants(data_dir, url, args.merchants)
        with serve_vault(data_dir, url, args.workers) as server:
            signer = merchant.signer(server.port)
            customers = make_customers(signer, 64)
            warm = mixed_requests(signer, customers, args.rate * 2, 10_000_000)
            fixed_rate(server.port, warm, args.rate)
            requests = mixed_requests(
                signer, customers, args.rate * args.seconds, 20_000_000 + run * 1_000_000
            )
            outcome: dict[str, RateResult] = {}
            load = threading.Thread(
                target=lambda: outcome.setdefault(
                    "load", fixed_rate(server.port, requests, args.rate)
                )
            )
            load.start()
            time.sleep(args.after)
            rewrap_s, output = 0.0, "rewrap done: 0 value(s)"
            if not args.baseline:
                keys(data_dir, url, "rotate")
                rewrap_s, output = keys(data_dir, url, "rewrap", "--batch", str(args.batch))
            load.join()
            _, status = keys(data_dir, url, "status", "--json")
        left = sum(v["values"] for v in json.loads(status) if v["version"] == 1)
        if left and not args.baseline:
            raise RuntimeError(f"{left} value(s) left under version 1 after the rewrap")
        done_line = next(line for line in output.splitlines() if line.startswith("rewrap done"))
        result = outcome["load"]
        return {
            "sent": result.sent,
            "failed": result.errors,
            "rate": result.rate,
            "p50_ms": result.p50_ms,
            "p99_ms": result.p99_ms,
            "max_ms": result.max_ms,
            "rewrap_s": rewrap_s,
            "rewrapped": int(done_line.split()[2]),
        }


def main() -> None:
    stop_on_sigterm()
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--databases", nargs="+", choices=DATABASES, default=["sqlite"])
    parser.add_argument("--rate", type=int, default=200)
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--after", type=float, default=3.0)
    parser.add_argument("--merchants", type=int, default=200)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument(
        "--baseline", action="store_true", help="The same load without rotating (to compare)."
    )
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args()
    configs = []
    for kind in args.databases:
        runs = []
        for run in range(args.runs):
            figures = run_once(kind, args, run)
            print(f"{kind} run {run + 1}: {json.dumps(figures)}", flush=True)
            runs.append(figures)
        config = {
            "database": kind,
            **{key: median([r[key] for r in runs]) for key in FIGURES},
            "runs": runs,
        }
        print(
            f"{kind}: sent {config['sent']:.0f}, failed {config['failed']:.0f}, "
            f"p50 {config['p50_ms']:.2f} ms, p99 {config['p99_ms']:.2f} ms, "
            f"rewrap {config['rewrap_s']:.1f} s ({config['rewrapped']:.0f} values)",
            flush=True,
        )
        configs.append(config)
    RESULTS.mkdir(exist_ok=True)
    document = {
        "date": time.strftime("%Y-%m-%d %H:%M %Z"),
        "commit": os.environ.get("BENCH_COMMIT") or _commit(),
        "machine": machine(),
        "load": {
            "rate": args.rate,
            "seconds": args.seconds,
            "mix": "1/2 payment credentials, 1/2 instrument identifier creation",
            "connections": 32,
            "rotate_after_s": args.after,
            "merchants": args.merchants + 1,
            "batch": args.batch,
            "workers": args.workers,
            "audit_log": _audit_log(),
        },
        "configs": configs,
    }
    name = "rotation-baseline" if args.baseline else "rotation"
    if not _audit_log():
        name += "-audit-off"
    (RESULTS / f"{name}.json").write_text(json.dumps(document, indent=2) + "\n")


if __name__ == "__main__":
    main()
