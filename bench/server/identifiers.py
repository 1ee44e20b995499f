"""Benchmark 3: instrument identifier creation, a new card each time, and in
the same run the same load on localstripe creating card tokens (the peer).

    .venv/bin/python -m bench.server.identifiers

Each run starts every server afresh (opentms: new data directory and merchant,
default profile, so each card also gets its Visa network token; localstripe:
``--from-scratch``), opentms once per worker count (``--workers``, 1 and 2 by
default; localstripe keeps its store in one process's memory, so it has one
process), warms each up for 2 s, then gives each the same wrk load
of pre-built requests for unique Luhn-valid Visa numbers: opentms
``POST /tms/v1/instrumentidentifiers`` (HTTP Signature), localstripe
``POST /v1/tokens`` (card[number], card[exp_month], card[exp_year], card[cvc];
``Authorization: Bearer sk_test_x``). localstripe runs from its own venv
(bench/server/setup.sh installs it).
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx

from bench.server.harness import (
    WrkResult,
    WrkSettings,
    database,
    free_port,
    medians,
    pan,
    register_merchant,
    run_wrk,
    serve,
    stop_on_sigterm,
    write_result,
)
from bench.server.profile import identifier_requests
from bench.server.quiet import measured

LOCALSTRIPE = Path.home() / ".cache" / "opentms-bench" / "localstripe" / "bin" / "localstripe"
OPENTMS_FIGURES = ("opentms_rate", "opentms_p50_ms", "opentms_p99_ms", "ratio")


def suffix(workers: int) -> str:
    """Figures of opentms with N > 1 workers end in _Nw (the 1-worker names are unchanged)."""
    return "" if workers == 1 else f"_{workers}w"


def stripe_requests(port: int, counter: Iterator[int], count: int) -> list[bytes]:
    requests = []
    for _ in range(count):
        body = (
            f"card[number]={pan(next(counter))}&card[exp_month]=12"
            "&card[exp_year]=2031&card[cvc]=123"
        ).encode()
        head = (
            f"POST /v1/tokens HTTP/1.1\r\nhost: 127.0.0.1:{port}\r\n"
            "authorization: Bearer sk_test_x\r\n"
            "content-type: application/x-www-form-urlencoded\r\n"
            f"content-length: {len(body)}\r\n\r\n"
        )
        requests.append(head.encode() + body)
    return requests


@contextlib.contextmanager
def localstripe(log: Path) -> Iterator[int]:
    port = free_port()
    with log.open("wb") as sink:
        command = [str(LOCALSTRIPE), "--port", str(port), "--from-scratch"]
        process = subprocess.Popen(command, stdout=sink, stderr=sink)
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with contextlib.suppress(httpx.HTTPError):
                httpx.get(f"http://127.0.0.1:{port}/v1/customers", auth=("sk_test_x", ""))
                break
            time.sleep(0.2)
        yield port
    finally:
        process.terminate()
        process.wait(timeout=20)


def opentms_run(settings: WrkSettings, budget: int, workers: int) -> tuple[WrkResult, float]:
    with tempfile.TemporaryDirectory(prefix="bench-") as tmp, database("sqlite") as url:
        merchant = register_merchant(Path(tmp), url)
        with serve(Path(tmp), url, workers) as server:
            signer = merchant.signer(server.port)
            counter = itertools.count()
            warm = WrkSettings(settings.threads, settings.connections, 2)
            run_wrk(identifier_requests(signer, counter, budget // 3), server.port, warm)
            return measured(
                lambda: identifier_requests(signer, counter, budget),
                lambda requests: run_wrk(requests, server.port, settings),
                False,
            )


def localstripe_run(settings: WrkSettings, budget: int) -> tuple[WrkResult, float]:
    with (
        tempfile.TemporaryDirectory(prefix="bench-") as tmp,
        localstripe(Path(tmp) / "log") as port,
    ):
        counter = itertools.count()
        warm = WrkSettings(settings.threads, settings.connections, 2)
        run_wrk(stripe_requests(port, counter, budget // 3), port, warm)
        return measured(
            lambda: stripe_requests(port, counter, budget),
            lambda requests: run_wrk(requests, port, settings),
            False,
        )


def one_run(settings: WrkSettings, budget: int, workers: list[int]) -> dict[str, Any]:
    peer, foreign = localstripe_run(settings, budget)
    run: dict[str, Any] = {
        "localstripe_rate": peer.rate,
        "localstripe_p50_ms": peer.p50_ms,
        "localstripe_p99_ms": peer.p99_ms,
        "localstripe_errors": peer.errors,
        "localstripe_requests": peer.requests,
        "wrapped": peer.wrapped,
    }
    for count in workers:
        ours, ours_foreign = opentms_run(settings, budget, count)
        foreign = max(foreign, ours_foreign)
        figures = (ours.rate, ours.p50_ms, ours.p99_ms, ours.rate / peer.rate, ours.errors)
        names = (*OPENTMS_FIGURES, "opentms_errors")
        run |= {f"{name}{suffix(count)}": value for name, value in zip(names, figures, strict=True)}
        run["wrapped"] += ours.wrapped
    return {"foreign_load": foreign, **run}


def main() -> None:
    stop_on_sigterm()
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    args = parser.parse_args()
    settings = WrkSettings(args.threads, args.connections, args.seconds)
    budget = args.seconds * 3_000  # more than opentms creates in the time
    runs = []
    for _ in range(args.runs):
        runs.append(one_run(settings, budget, args.workers))
        print({key: round(value, 2) for key, value in runs[-1].items()}, flush=True)
    figures = ["localstripe_rate", "localstripe_p50_ms", "localstripe_p99_ms"]
    for count in args.workers:
        figures += [f"{name}{suffix(count)}" for name in OPENTMS_FIGURES]
    wrk = {"threads": args.threads, "connections": args.connections, "seconds": args.seconds}
    result = {"wrk": wrk, "workers": args.workers, **medians(runs, figures), "runs": runs}
    write_result("identifiers", result)


if __name__ == "__main__":
    main()
