"""An open-loop, constant-rate load generator (wrk has no fixed rate and
wrk2 is not packaged by Debian).

Request i is due at ``start + i / rate`` whatever happened to earlier ones;
its latency runs from that due time to the last byte of its answer, so a
stalled server (or client) shows in the figures instead of slowing the
arrivals down (no coordinated omission). Requests are pre-signed raw bytes,
sent on a pool of keep-alive connections.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class RateResult:
    sent: int
    seconds: float  # from the first due time to the last answer
    p50_ms: float
    p99_ms: float
    max_ms: float
    errors: int  # answers other than 2xx

    @property
    def rate(self) -> float:
        return self.sent / self.seconds

    def figures(self) -> dict[str, float]:
        return {
            "rate": self.rate,
            "p50_ms": self.p50_ms,
            "p99_ms": self.p99_ms,
            "max_ms": self.max_ms,
            "errors": self.errors,
        }


def percentile(sorted_values: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile of already sorted values."""
    rank = max(1, math.ceil(fraction * len(sorted_values)))
    return sorted_values[rank - 1]


async def _read_answer(reader: asyncio.StreamReader) -> int:
    head = await reader.readuntil(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    if length:
        await reader.readexactly(length)
    return int(head[9:12])


Outcome = tuple[float, float, int]  # due time, done time, status
Queue = asyncio.Queue[tuple[float, bytes] | None]


async def _connection(port: int, queue: Queue, outcomes: list[Outcome]) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    while (item := await queue.get()) is not None:
        due, raw = item
        writer.write(raw)
        status = await _read_answer(reader)
        outcomes.append((due, time.perf_counter(), status))
    writer.close()
    await writer.wait_closed()


async def _run(port: int, requests: Sequence[bytes], rate: float, connections: int) -> RateResult:
    queue: Queue = asyncio.Queue()
    outcomes: list[Outcome] = []
    workers = [asyncio.create_task(_connection(port, queue, outcomes)) for _ in range(connections)]
    await asyncio.sleep(0.2)  # let every connection open before the clock starts
    start = time.perf_counter()
    for i, raw in enumerate(requests):
        due = start + i / rate
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        queue.put_nowait((due, raw))
    for _ in workers:
        queue.put_nowait(None)
    await asyncio.gather(*workers)
    latencies = sorted((done - due) * 1000 for due, done, _ in outcomes)
    return RateResult(
        sent=len(outcomes),
        seconds=max(done for _, done, _ in outcomes) - start,
        p50_ms=percentile(latencies, 0.50),
        p99_ms=percentile(latencies, 0.99),
        max_ms=latencies[-1],
        errors=sum(1 for *_, status in outcomes if not 200 <= status < 300),
    )


def fixed_rate(
    port: int, requests: Sequence[bytes], rate: float, connections: int = 32
) -> RateResult:
    """Send ``requests`` at ``rate`` per second; latency percentiles in ms."""
    return asyncio.run(_run(port, requests, rate, connections))
