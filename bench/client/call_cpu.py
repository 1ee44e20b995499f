"""Client-side CPU per payment-credentials call: ``opentms.client`` against the
official CyberSource Python SDK, the same call against the same server.

    .venv/bin/python bench/client/call_cpu.py [--calls 300] [--runs 3] [--modes signature jwt]

Starts ``opentms serve`` (its own process, so its CPU is not counted) with a
merchant from ``opentms merchants create`` and a customer with a Visa card. Each
measurement is a fresh client process (``worker_opentms.py`` in the project
venv, ``worker_sdk.py`` in the SDK venv) that makes ``--warmup`` calls, then
times ``--calls`` calls of ``post_token_payment_credentials(customer, {CRYPTOGRAM})``
with ``time.process_time()``: signing, serialisation, HTTP and response handling
of the client process only. Runs alternate the two clients; the figure is the
median over ``--runs``. ``--profile`` prints a cProfile of one run of each.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
PROJECT_PYTHON = ROOT / ".venv" / "bin" / "python"
OPENTMS = ROOT / ".venv" / "bin" / "opentms"
SDK_PYTHON = Path(
    os.environ.get(
        "SDK_PYTHON",
        Path.home() / ".cache/opentms-conformance/python-sdk-0.0.80-py3.11/bin/python",
    )
)
WORKERS = {
    "opentms.client": (PROJECT_PYTHON, HERE / "worker_opentms.py"),
    "CyberSource SDK": (SDK_PYTHON, HERE / "worker_sdk.py"),
}


def environment() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("OPENTMS_")}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start_server(directory: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = (directory / "server.log").open("wb")
    process = subprocess.Popen(
        [str(OPENTMS), "serve", f"--port={port}", f"--data-dir={directory / 'data'}"],
        stdout=log,
        stderr=subprocess.STDOUT,
        env=environment() | {"OPENTMS_LOG_LEVEL": "WARNING"},
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return process, url
        except httpx.TransportError:
            time.sleep(0.1)
    process.terminate()
    raise SystemExit("opentms serve did not start; see " + str(directory / "server.log"))


def make_customer(bundle: Path, url: str) -> str:
    from opentms.client import Client

    with Client.from_credentials_file(bundle, base_url=url) as client:
        customer = client.customers.create({})
        client.customers.payment_instruments.create(
            customer.id,
            {
                "card": {"expirationMonth": "12", "expirationYear": "2031"},
                "instrumentIdentifier": {"card": {"number": "4111111111111111"}},
            },
        )
        return customer.id


def measure(
    name: str, mode: str, bundle: Path, url: str, token: str, args: argparse.Namespace
) -> dict[str, float]:
    python, script = WORKERS[name]
    with tempfile.NamedTemporaryFile(suffix=".json") as out:
        command = [str(python), str(script), "--bundle", str(bundle), "--url", url]
        command += ["--token", token, "--mode", mode, "--out", out.name]
        command += ["--calls", str(args.calls), "--warmup", str(args.warmup)]
        if args.profile:
            command.append("--profile")
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise SystemExit(f"{name} worker failed:\n{done.stdout}\n{done.stderr}")
        if args.profile:
            print(f"\n=== cProfile, {name}, {mode} ===\n{done.stdout}")
        result: dict[str, float] = json.loads(Path(out.name).read_text())
    return result


def _us(values: list[float]) -> str:
    return ", ".join(f"{value * 1e6:.0f}" for value in values)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=300)
    parser.add_argument("--warmup", type=int, default=30)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--modes", nargs="+", default=["signature", "jwt"])
    parser.add_argument("--profile", action="store_true", help="cProfile one run of each")
    args = parser.parse_args()
    if not SDK_PYTHON.exists():
        raise SystemExit(f"{SDK_PYTHON} is missing: run the conformance tests, or set SDK_PYTHON")

    with tempfile.TemporaryDirectory(prefix="opentms-bench-client-") as temporary:
        directory = Path(temporary)
        server, url = start_server(directory)
        try:
            subprocess.run(
                [
                    *(str(OPENTMS), "merchants", "create", "bench_client"),
                    *("--out", str(directory), f"--data-dir={directory / 'data'}"),
                    *("--server-url", url),
                ],
                capture_output=True,
                check=True,
                env=environment(),
            )
            bundle = directory / "bench_client.json"
            token = make_customer(bundle, url)
            results: dict[tuple[str, str], list[dict[str, float]]] = {}
            for run in range(args.runs):
                order = list(WORKERS) if run % 2 == 0 else list(reversed(WORKERS))
                for mode in args.modes:
                    for name in order:
                        result = measure(name, mode, bundle, url, token, args)
                        results.setdefault((name, mode), []).append(result)
                args.profile = False  # profile the first run only
        finally:
            server.terminate()
            server.wait(10)

    print(
        f"\nClient CPU per payment-credentials call ({args.calls} calls after {args.warmup} "
        f"warm-up, median of {args.runs} runs; CPU = time.process_time of the client process, "
        "user + system; user and system from getrusage):\n"
    )
    print("| auth | measure | opentms.client | CyberSource SDK 0.0.80 | ratio |")
    print("|---|---|---|---|---|")
    for mode in args.modes:
        for key, label in (("cpu", "CPU"), ("user", "user"), ("system", "system")):
            ours_runs = [r[f"{key}_per_call"] for r in results[("opentms.client", mode)]]
            sdk_runs = [r[f"{key}_per_call"] for r in results[("CyberSource SDK", mode)]]
            ours, sdk = statistics.median(ours_runs), statistics.median(sdk_runs)
            print(
                f"| {mode} | {label} | {ours * 1e6:.0f} µs ({_us(ours_runs)}) "
                f"| {sdk * 1e6:.0f} µs ({_us(sdk_runs)}) | {ours / sdk:.3f} |"
            )
    print("\ntarget: CPU ratio <= 0.333")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
