"""kill -9 of a real ``opentms serve`` (SQLite) in the middle of a write load,
five times over the same data directory.

A pool of writer threads creates customers and instrument identifiers and asks
for payment credentials on a few Visa customer tokens; at a random moment the
server gets SIGKILL. Then, with the server down, the database must pass
``PRAGMA integrity_check`` (and ``foreign_key_check``); after a restart every
write that had been answered 2xx must be there (GET → 200), and the ATCs of all
credentials answered 2xx must be distinct per token, with the first ATC issued
after the restart above every one of them. Figures: requests sent, answered
2xx, failures, data lost (must be 0), ATCs reused (must be 0).

CI runs five short rounds; ``OPENTMS_TEST_SLOW=1`` adds five long ones with
more writers (docs/robustness.md).
"""

from __future__ import annotations

import random
import sqlite3
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from tests.robustness.support import (
    CUSTOMERS,
    EXPIRY,
    II,
    BundleMerchant,
    Server,
    client,
    create_visa_customer,
    credentials_path,
    environment,
    open_credentials,
    register_merchant,
    report,
    start_server,
)
from tests.support import make_pan, postgresql_backend

ROUNDS = 5
VISA_TOKENS = 4
SEED = 20261124


@dataclass
class Ledger:
    """What the writers sent and what they were answered, for all rounds."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    sent: int = 0
    answered_2xx: int = 0
    refused: int = 0
    failures: Counter[str] = field(default_factory=Counter)
    writes: list[str] = field(default_factory=list)  # paths of resources answered 2xx
    atcs: dict[str, list[int]] = field(default_factory=dict)  # token → ATCs answered 2xx

    def record(
        self, outcome: str, path: str | None = None, atc: tuple[str, int] | None = None
    ) -> None:
        with self.lock:
            if outcome == "ConnectError":  # the server is down: nothing was sent
                self.refused += 1
                return
            self.sent += 1
            if outcome != "2xx":
                self.failures[outcome] += 1
                return
            self.answered_2xx += 1
            if path is not None:
                self.writes.append(path)
            if atc is not None:
                self.atcs.setdefault(atc[0], []).append(atc[1])


def write_once(
    http: httpx.Client,
    merchant: BundleMerchant,
    tokens: list[str],
    rng: random.Random,
    ledger: Ledger,
) -> None:
    """One write of a random kind, recorded in ``ledger``."""
    choice = rng.random()
    if choice < 0.4:
        response = http.post(CUSTOMERS, json={"buyerInformation": {"merchantCustomerID": "crash"}})
        if response.status_code == 201:
            ledger.record("2xx", f"{CUSTOMERS}/{response.json()['id']}")
            return
    elif choice < 0.7:
        response = http.post(II, json={"card": {"number": make_pan(), **EXPIRY}})
        if response.status_code in (200, 201):
            ledger.record("2xx", f"{II}/{response.json()['id']}")
            return
    else:
        token = rng.choice(tokens)
        response = http.post(credentials_path(token), json={})
        if response.status_code == 201:
            tokenized = open_credentials(response, merchant)["tokenizedCard"]
            ledger.record("2xx", atc=(token, int(tokenized["applicationTransactionCounter"])))
            return
    ledger.record(f"http {response.status_code}")


def writer(
    server: Server,
    merchant: BundleMerchant,
    tokens: list[str],
    seed: int,
    killed: threading.Event,
    ledger: Ledger,
) -> None:
    rng = random.Random(seed)  # noqa: S311 - test data, not secrets
    with client(server, merchant) as http:
        http.timeout = httpx.Timeout(10.0)
        while not killed.is_set():
            try:
                write_once(http, merchant, tokens, rng, ledger)
            except httpx.TransportError as exc:
                ledger.record(type(exc).__name__)


def integrity(database: Path) -> tuple[str, int]:
    """``PRAGMA integrity_check`` and the number of foreign-key violations,
    with the server down (the WAL left by the crash is recovered here)."""
    with sqlite3.connect(database) as connection:
        check = ", ".join(row[0] for row in connection.execute("PRAGMA integrity_check"))
        violations = len(connection.execute("PRAGMA foreign_key_check").fetchall())
    connection.close()
    return check, violations


def missing_writes(server: Server, merchant: BundleMerchant, paths: list[str]) -> list[str]:
    with client(server, merchant) as http:
        return [path for path in paths if http.get(path).status_code != 200]


def run_crash_rounds(
    root: Path, workers: int, load_seconds: tuple[float, float], title: str
) -> None:
    env = environment(data_dir=str(root / "data"))
    merchant = register_merchant(env, "crash_a", root / "bundles")
    database = root / "data" / "opentms.db"
    server = start_server(root / "server.log", env)
    rng = random.Random(SEED)  # noqa: S311 - test data, not secrets
    ledger = Ledger()
    lost: list[str] = []
    reused: list[str] = []
    stale: list[str] = []
    checks: list[tuple[str, int]] = []
    try:
        with client(server, merchant) as http:
            tokens = [create_visa_customer(http, make_pan()) for _ in range(VISA_TOKENS)]
        for round_number in range(ROUNDS):
            killed = threading.Event()
            threads = [
                threading.Thread(
                    target=writer,
                    args=(server, merchant, tokens, SEED + 100 * round_number + i, killed, ledger),
                    name=f"writer-{i}",
                )
                for i in range(workers)
            ]
            for thread in threads:
                thread.start()
            time.sleep(rng.uniform(*load_seconds))
            server.kill9()
            killed.set()
            for thread in threads:
                thread.join(timeout=60)
            assert not any(thread.is_alive() for thread in threads)

            checks.append(integrity(database))
            server = start_server(root / "server.log", env)
            lost += missing_writes(server, merchant, ledger.writes)
            with client(server, merchant) as http:
                for token in tokens:
                    earlier = ledger.atcs.get(token, [])
                    tokenized = open_credentials(
                        http.post(credentials_path(token), json={}), merchant
                    )
                    atc = int(tokenized["tokenizedCard"]["applicationTransactionCounter"])
                    if earlier and atc <= max(earlier):
                        stale.append(f"round {round_number}: {token} ATC {atc} <= {max(earlier)}")
                    ledger.atcs.setdefault(token, []).append(atc)
        for token, atcs in ledger.atcs.items():
            reused += [f"{token} ATC {atc}" for atc, n in Counter(atcs).items() if n > 1]
    finally:
        server.stop()
    report(
        title,
        rounds=ROUNDS,
        workers=workers,
        requests_sent=ledger.sent,
        answered_2xx=ledger.answered_2xx,
        failures=sum(ledger.failures.values()),
        failure_kinds=dict(ledger.failures),
        refused_while_down=ledger.refused,
        writes_checked=len(ledger.writes),
        credentials_2xx=sum(len(atcs) for atcs in ledger.atcs.values()),
        data_lost=len(lost),
        atcs_reused=len(reused),
        integrity=sorted({check for check, _ in checks}),
        foreign_key_violations=sum(violations for _, violations in checks),
    )
    assert all(check == "ok" for check, _ in checks), checks
    assert all(violations == 0 for _, violations in checks), checks
    assert not lost, f"answered 2xx but gone after the restart: {lost[:10]}"
    assert not reused, f"ATCs issued twice: {reused[:10]}"
    assert not stale, stale
    assert ledger.answered_2xx > 0
    # Every failure is the crash's: a connection refused, reset or cut, never an HTTP error.
    assert not [kind for kind in ledger.failures if kind.startswith("http")], ledger.failures


skip_in_postgresql_pass = pytest.mark.skipif(
    postgresql_backend(), reason="SQLite by design; it ran in the suite's SQLite pass"
)


@skip_in_postgresql_pass
def test_kill_9_during_writes(tmp_path: Path) -> None:
    run_crash_rounds(tmp_path, workers=6, load_seconds=(0.5, 2.0), title="kill -9 (CI)")


@skip_in_postgresql_pass
@pytest.mark.slow
def test_kill_9_during_long_writes(tmp_path: Path) -> None:
    run_crash_rounds(tmp_path, workers=16, load_seconds=(5.0, 20.0), title="kill -9 (long)")
