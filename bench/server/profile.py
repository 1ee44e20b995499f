"""Profile a worker under the benchmark load with py-spy: where the time of a
payment credential (or instrument identifier creation) goes.

    .venv/bin/python -m bench.server.profile [--endpoint identifiers] [--database postgresql]

Runs wrk (as benchmark 1 or 3) against one worker while py-spy samples it,
then writes results/profile-<endpoint>-<database>.txt: self time by package,
the heaviest functions by self and by inclusive time, and the collapsed
stacks beside it (``.collapsed.gz``, one line per stack of functions, for
flamegraph.pl or speedscope after ``gunzip``).
"""

from __future__ import annotations

import argparse
import gzip
import itertools
import re
import subprocess
import tempfile
import threading
from collections import Counter
from pathlib import Path

from bench.server.credentials import credential_requests, make_customers
from bench.server.harness import (
    RESULTS,
    Signer,
    WrkSettings,
    database,
    pan,
    register_merchant,
    run_wrk,
    serve,
    stop_on_sigterm,
)

PY_SPY = Path.home() / ".cache" / "opentms-bench" / "tools" / "bin" / "py-spy"
_FRAME = re.compile(r"^(?P<function>.*) \((?P<file>[^:]*)\)$")
_LINE = re.compile(r":\d+\)$")
_SERVING = "Server.run (uvicorn/server.py)"  # the frame under every worker's event loop


def package_of(path: str) -> str:
    """py-spy names files by module path: ``sqlalchemy/engine/default.py`` →
    sqlalchemy, ``opentms/crypto/jwe.py`` → opentms.crypto, ``random.py`` → random."""
    parts = path.split("site-packages/", 1)[-1].split("/")
    if parts[0] == "opentms" and len(parts) > 1:
        return "opentms." + parts[1].removesuffix(".py")
    return parts[0].removesuffix(".py")


def by_function(collapsed: str) -> str:
    """The collapsed stacks with line numbers dropped and equal stacks merged
    (a tenth of the size, and what a flame graph of functions needs)."""
    merged: Counter[str] = Counter()
    for line in collapsed.splitlines():
        stack, _, count = line.rpartition(" ")
        merged[";".join(_LINE.sub(")", frame) for frame in stack.split(";"))] += int(count)
    return "".join(f"{stack} {count}\n" for stack, count in sorted(merged.items()))


def summarise(collapsed: str, top: int = 25) -> str:
    own: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    packages: Counter[str] = Counter()
    total = 0
    for line in collapsed.splitlines():
        stack, _, count_text = line.rpartition(" ")
        count = int(count_text)
        # One entry per function: py-spy tells lines apart ("f (file.py:12)").
        frames = [_LINE.sub(")", frame) for frame in stack.split(";") if frame]
        if _SERVING not in frames:
            continue  # not a worker's event loop: the supervisor and its threads
        total += count
        for frame in set(frames):
            inclusive[frame] += count
        if frames:
            own[frames[-1]] += count
            match = _FRAME.match(frames[-1])
            packages[package_of(match["file"]) if match else frames[-1]] += count
    lines = [f"{total} samples of the workers' event loops", "", "self time by package:"]
    lines += [f"  {100 * n / total:5.1f}%  {name}" for name, n in packages.most_common(top)]
    lines += ["", "functions by self time:"]
    lines += [f"  {100 * n / total:5.1f}%  {name}" for name, n in own.most_common(top)]
    lines += ["", "functions by inclusive time:"]
    lines += [f"  {100 * n / total:5.1f}%  {name}" for name, n in inclusive.most_common(top * 3)]
    return "\n".join(lines) + "\n"


def identifier_requests(signer: Signer, counter: itertools.count[int], count: int) -> list[bytes]:
    path = "/tms/v1/instrumentidentifiers"
    return [
        signer.raw("POST", path, {"card": {"number": pan(next(counter))}}) for _ in range(count)
    ]


def main() -> None:
    stop_on_sigterm()
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--endpoint", choices=("credentials", "identifiers"), default="credentials")
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--workers", type=int, default=1, help="py-spy follows every worker")
    parser.add_argument(
        "--idle", action="store_true", help="sample waiting (I/O, locks) too, not only CPU"
    )
    args = parser.parse_args()
    name = f"profile-{args.endpoint}-{args.database}-{args.workers}w{'-idle' if args.idle else ''}"
    with tempfile.TemporaryDirectory(prefix="bench-") as tmp, database(args.database) as url:
        merchant = register_merchant(Path(tmp), url)
        with serve(Path(tmp), url, args.workers) as server:
            signer = merchant.signer(server.port)
            counter = itertools.count(1_000)
            if args.endpoint == "credentials":
                customers = make_customers(signer, 64)
                requests = credential_requests(signer, customers, counter, args.seconds * 1_500)
            else:
                requests = identifier_requests(signer, counter, args.seconds * 1_500)
            load = threading.Thread(
                target=run_wrk,
                args=(requests, server.port, WrkSettings(2, 16, args.seconds + 2)),
            )
            load.start()
            raw = Path(tmp) / "profile.collapsed"
            command = [str(PY_SPY), "record", "--pid", str(server.process.pid), "--rate", "200"]
            command += ["--duration", str(args.seconds), "--format", "raw", "-o", str(raw)]
            command += ["--idle"] if args.idle else []
            command += ["--subprocesses"] if args.workers > 1 else []
            subprocess.run(command, check=True, capture_output=True)
            load.join()
            collapsed = raw.read_text()
    RESULTS.mkdir(exist_ok=True)
    compressed = gzip.compress(by_function(collapsed).encode(), mtime=0)
    (RESULTS / f"{name}.collapsed.gz").write_bytes(compressed)
    (RESULTS / f"{name}.txt").write_text(summarise(collapsed))
    print(summarise(collapsed, top=15))


if __name__ == "__main__":
    main()
