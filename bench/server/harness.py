"""What every server benchmark shares: databases, merchants, the server
process and its CPU time, pre-signed raw requests, wrk, medians and results.

Requests are signed before a run starts (HTTP Signature, each body unique so
that each signature differs), so the load generators only send bytes.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import statistics
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy

from opentms.client._auth import HTTPSignatureAuth
from opentms.domain.card import luhn_check_digit

ROOT = Path(__file__).resolve().parents[2]
OPENTMS = ROOT / ".venv" / "bin" / "opentms"
RESULTS = Path(__file__).resolve().parent / "results"
LUA = Path(__file__).resolve().parent / "replay.lua"
POSTGRES_URL = os.environ.get("BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
DATABASES = ("sqlite", "postgresql")


def stop_on_sigterm() -> None:
    """Let ``kill`` unwind the context managers (servers stopped, schemas dropped)."""
    import signal
    import sys

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def pan(n: int, prefix: str = "411111") -> str:
    """The ``n``-th Luhn-valid 16-digit Visa test card number (unique per ``n``)."""
    body = f"{prefix}{n:09d}"
    return body + luhn_check_digit(body)


@contextlib.contextmanager
def database(kind: str) -> Iterator[str | None]:
    """None for SQLite (in the data directory), or the URL of a fresh
    PostgreSQL schema, dropped afterwards."""
    if kind == "sqlite":
        yield None
        return
    schema = f"bench_{uuid.uuid4().hex[:12]}"
    admin = sqlalchemy.create_engine(POSTGRES_URL.replace("postgresql://", "postgresql+psycopg://"))
    with admin.begin() as conn:
        conn.execute(sqlalchemy.text(f"CREATE SCHEMA {schema}"))
    try:
        yield f"{POSTGRES_URL}?options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as conn:
            conn.execute(sqlalchemy.text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


def server_env(data_dir: Path, database_url: str | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPENTMS_")}
    env["OPENTMS_DATA_DIR"] = str(data_dir)
    if database_url:
        env["OPENTMS_DATABASE_URL"] = database_url
    return env


@dataclass(frozen=True)
class Merchant:
    merchant_id: str
    key_id: str
    shared_secret: str

    def signer(self, port: int) -> Signer:
        return Signer(HTTPSignatureAuth(self.merchant_id, self.key_id, self.shared_secret), port)


def register_merchant(data_dir: Path, database_url: str | None, name: str = "bench") -> Merchant:
    """``opentms merchants create`` (the documented way), read back from its bundle."""
    out = data_dir / "credentials"
    done = subprocess.run(
        [str(OPENTMS), "merchants", "create", name, "--out", str(out)],
        env=server_env(data_dir, database_url),
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        raise RuntimeError(f"opentms merchants create failed: {done.stderr[-3000:]}")
    bundle = json.loads((out / f"{name}.json").read_text())
    signature = bundle["httpSignature"]
    return Merchant(bundle["merchantId"], signature["keyId"], signature["sharedSecret"])


class Signer:
    """Pre-signed raw HTTP/1.1 requests for one merchant and server."""

    def __init__(self, auth: HTTPSignatureAuth, port: int) -> None:
        self.auth = auth
        self.port = port
        self.base = f"http://127.0.0.1:{port}"

    def raw(self, method: str, path: str, body: dict[str, Any] | None = None) -> bytes:
        request = httpx.Request(method, self.base + path, json=body)
        signed = next(self.auth.auth_flow(request))
        head = f"{method} {path} HTTP/1.1\r\n" + "".join(
            f"{name}: {value}\r\n" for name, value in signed.headers.items()
        )
        return head.encode() + b"\r\n" + signed.content

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.base, auth=self.auth, timeout=30)


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    port: int
    log: Path

    def pids(self) -> list[int]:
        """The server's process tree: ``opentms serve`` and its workers."""
        parents: dict[int, int] = {}
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                with contextlib.suppress(OSError, IndexError):
                    parents[int(entry.name)] = int(_stat(int(entry.name))[1])
        tree = [self.process.pid]
        for pid in tree:
            tree += [child for child, parent in parents.items() if parent == pid]
        return tree

    def cpu_seconds(self) -> float:
        return cpu_seconds(self.pids())


def _stat(pid: int) -> list[str]:
    """Fields of /proc/<pid>/stat after the command name (state is [0], ppid [1])."""
    text = Path(f"/proc/{pid}/stat").read_text()
    return text[text.rindex(")") + 2 :].split()


def cpu_seconds(pids: Sequence[int]) -> float:
    """utime + stime of ``pids`` (each process alone, not its children)."""
    ticks = 0
    for pid in pids:
        with contextlib.suppress(OSError):
            fields = _stat(pid)
            ticks += int(fields[11]) + int(fields[12])
    return ticks / CLOCK_TICKS


def postgres_cpu_seconds() -> float:
    """CPU time of every PostgreSQL server process (the backends doing our SQL)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                if (entry / "comm").read_text().startswith("postgres"):
                    pids.append(int(entry.name))
    return cpu_seconds(pids)


@contextlib.contextmanager
def serve(data_dir: Path, database_url: str | None, workers: int = 1) -> Iterator[Server]:
    """``opentms serve --workers N`` on a free port, ready when every worker is."""
    port = free_port()
    log = data_dir / f"serve-{port}.log"
    command = [str(OPENTMS), "serve", "--port", str(port), "--workers", str(workers)]
    with log.open("wb") as sink:
        process = subprocess.Popen(
            command, env=server_env(data_dir, database_url), stdout=sink, stderr=sink
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


def _wait_ready(server: Server, workers: int) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"opentms serve exited: {server.log.read_text()[-2000:]}")
        started = server.log.read_text(errors="replace").count("Application startup complete")
        if started >= workers:
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"http://127.0.0.1:{server.port}/healthz").status_code == 200:
                    return
        time.sleep(0.2)
    raise RuntimeError("opentms serve did not become ready in 60 s")


@dataclass(frozen=True)
class WrkResult:
    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    errors: int  # non-2xx/3xx answers plus socket errors
    wrapped: int  # times a thread ran out of pre-signed requests and started again

    @property
    def rate(self) -> float:
        return self.requests / self.seconds


@dataclass(frozen=True)
class WrkSettings:
    threads: int = 2
    connections: int = 16
    seconds: int = 10


def run_wrk(requests: Sequence[bytes], port: int, settings: WrkSettings) -> WrkResult:
    """Replay ``requests`` with wrk: thread i sends the i-th slice, in order."""
    with tempfile.TemporaryDirectory(prefix="bench-wrk-") as tmp:
        for i in range(settings.threads):
            with open(f"{tmp}/requests-{i}.bin", "wb") as out:
                for raw in requests[i :: settings.threads]:
                    out.write(b"%d\n" % len(raw) + raw)
        command = ["wrk", f"-t{settings.threads}", f"-c{settings.connections}"]
        command += [f"-d{settings.seconds}s", "--timeout", "10s", "-s", str(LUA)]
        command += [f"http://127.0.0.1:{port}", "--", tmp]
        output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    line = next(x for x in output.splitlines() if x.startswith("BENCH "))
    data = json.loads(line.removeprefix("BENCH "))
    return WrkResult(
        requests=data["requests"],
        seconds=data["duration_us"] / 1e6,
        p50_ms=data["p50_us"] / 1000,
        p99_ms=data["p99_us"] / 1000,
        errors=data["errors"],
        wrapped=data["wrapped"],
    )


def median(values: Sequence[float]) -> float:
    return float(statistics.median(values))


def medians(runs: Sequence[dict[str, Any]], keys: Sequence[str]) -> dict[str, float]:
    """The median of each figure over the runs (each figure on its own)."""
    return {key: median([run[key] for run in runs]) for key in keys}


def write_result(name: str, data: dict[str, Any]) -> Path:
    """Store a benchmark's figures under results/ and refresh bench/README.md."""
    from bench.server import report

    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"{name}.json"
    document = {
        "date": time.strftime("%Y-%m-%d %H:%M %Z"),
        "commit": _commit(),
        "machine": machine(),
        **data,
    }
    path.write_text(json.dumps(document, indent=2) + "\n")
    report.update_readme()
    return path


def _commit() -> str:
    """The commit measured: BENCH_COMMIT (run_all.sh pins a snapshot), else
    HEAD, marked "+changes" when the work tree's src/ differs from it."""
    if os.environ.get("BENCH_COMMIT"):
        return os.environ["BENCH_COMMIT"]
    head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True)
    dirty = subprocess.run(["git", "diff", "--quiet", "HEAD", "--", "src"], cwd=ROOT).returncode
    return head.stdout.decode().strip() + ("+changes" if dirty else "")


def machine() -> dict[str, str]:
    """What the figures were measured on."""
    import platform
    import sqlite3

    model = next(
        (
            line.split(":", 1)[1].strip()
            for line in subprocess.run(["lscpu"], capture_output=True, text=True).stdout.split("\n")
            if line.startswith("Model name")
        ),
        "?",
    )
    memory = next(
        line.split()[1]
        for line in Path("/proc/meminfo").read_text().split("\n")
        if "MemTotal" in line
    )
    wrk = subprocess.run(["wrk", "-v"], capture_output=True, text=True).stdout.split("\n")[0]
    return {
        "cores": str(os.cpu_count()),
        "cpu": model,
        "memory": f"{int(memory) / 1024 / 1024:.1f} GiB",
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "postgresql": _postgres_version(),
        "wrk": wrk.split(" [")[0],
    }


def _postgres_version() -> str:
    try:
        engine = sqlalchemy.create_engine(
            POSTGRES_URL.replace("postgresql://", "postgresql+psycopg://")
        )
        with engine.connect() as conn:
            version = str(conn.execute(sqlalchemy.text("SHOW server_version")).scalar_one())
        engine.dispose()
        return version.split(" ")[0]
    except sqlalchemy.exc.OperationalError:
        return "not reachable"
