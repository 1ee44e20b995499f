"""Measure only on a quiet machine: 2 cores are easily shared with a test
suite, and a run disturbed by foreign CPU load measures that load.

Before a run, wait until processes that are not ours use less than
``LIMIT`` of the machine; during it, count their CPU time again, and run it
once more when it was disturbed. "Ours": this process and its descendants
(the server, wrk), plus PostgreSQL's processes when the run uses PostgreSQL.
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from bench.server.harness import CLOCK_TICKS

LIMIT = 0.05  # of the whole machine's CPU (0.1 core on 2 cores)
# Seconds to wait for quiet before measuring anyway (the run records its foreign load).
MAX_WAIT = float(os.environ.get("BENCH_MAX_WAIT", "120"))
ATTEMPTS = 2
_T = TypeVar("_T")
_P = TypeVar("_P")


def _snapshot() -> dict[int, tuple[int, str, float]]:
    """pid → (parent pid, command name, CPU seconds) for every process."""
    table = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError, IndexError, ValueError):
                text = (entry / "stat").read_text()
                name = text[text.index("(") + 1 : text.rindex(")")]
                fields = text[text.rindex(")") + 2 :].split()
                cpu = (int(fields[11]) + int(fields[12])) / CLOCK_TICKS
                table[int(entry.name)] = (int(fields[1]), name, cpu)
    return table


def _ours(table: dict[int, tuple[int, str, float]], postgres: bool) -> set[int]:
    ours = {os.getpid()}
    for _ in range(8):  # descendants, a few generations deep
        ours |= {pid for pid, (parent, _, _) in table.items() if parent in ours}
    if postgres:
        ours |= {pid for pid, (_, name, _) in table.items() if name.startswith("postgres")}
    return ours


def foreign_share(
    before: dict[int, tuple[int, str, float]], seconds: float, postgres: bool
) -> float:
    """Share of the machine used by other processes since ``before``."""
    after = _snapshot()
    ours = _ours(after, postgres)
    foreign = sum(
        cpu - before[pid][2]
        for pid, (_, _, cpu) in after.items()
        if pid in before and pid not in ours
    )
    return foreign / (seconds * (os.cpu_count() or 1))


def wait_for_quiet(postgres: bool) -> float:
    """Seconds waited until a 2 s sample shows less than LIMIT of foreign load."""
    started = time.monotonic()
    while True:
        before = _snapshot()
        time.sleep(2)
        share = foreign_share(before, 2, postgres)
        waited = time.monotonic() - started
        if share < LIMIT or waited > MAX_WAIT:
            return waited
        print(f"  waiting: other processes use {share:.0%} of the machine", file=sys.stderr)
        time.sleep(10)


def measured(
    prepare: Callable[[], _P], run: Callable[[_P], _T], postgres: bool
) -> tuple[_T, float]:
    """``run(prepare())`` on a quiet machine (``prepare`` outside the window): its
    result and the foreign share during it, the least disturbed of ATTEMPTS."""
    best: tuple[_T, float] | None = None
    for _ in range(ATTEMPTS):
        prepared = prepare()
        wait_for_quiet(postgres)
        before, started = _snapshot(), time.monotonic()
        result = run(prepared)
        share = foreign_share(before, time.monotonic() - started, postgres)
        if best is None or share < best[1]:
            best = (result, share)
        if share < LIMIT:
            break
        print(f"  disturbed run ({share:.0%} foreign load): again", file=sys.stderr)
    assert best is not None
    return best
