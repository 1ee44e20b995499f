"""Ports of the sandbox's fault rules (docs/sandbox.md, "Faults and latency"):
rules that make TMS requests fail or wait, shared by every server process."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Protocol


class ConnectionFault(StrEnum):
    """What a rule does to the connection instead of answering."""

    RESET = "reset"  # a TCP RST: the client sees ECONNRESET
    EMPTY = "empty"  # closed without a byte of response


@dataclass(frozen=True, slots=True)
class FaultRule:
    """What a rule matches (None matches anything) and what it does.

    ``path`` is a glob over the request path (``*`` any run of characters,
    ``/`` included; ``?`` one character). A rule answers ``status`` with a
    TMS error body, or drops the connection, or neither (latency only); it
    waits ``delay_ms`` first (uniformly between ``delay_ms`` and
    ``delay_max_ms`` when that is set). It fires at most ``times`` times in
    all (None: without end), each matching request with ``probability``.
    """

    method: str | None = None
    path: str | None = None
    merchant_id: str | None = None
    status: int | None = None
    reason: str | None = None
    message: str | None = None
    connection: ConnectionFault | None = None
    delay_ms: int = 0
    delay_max_ms: int | None = None
    times: int | None = None
    probability: float = 1.0


@dataclass(frozen=True, slots=True)
class Fault:
    """A stored rule: its id, how often it fired and how often it still may
    (``remaining`` None: without end)."""

    id: str
    rule: FaultRule
    hits: int
    remaining: int | None
    created_at: datetime


class FaultStore(Protocol):
    """The rules, in creation order, over the database every process shares."""

    def add(self, fault_id: str, rule: FaultRule, now: datetime) -> Fault:
        """Store a rule after every existing one."""
        ...

    def list(self) -> Sequence[Fault]:
        """Every rule, in creation order (one query: this runs per request)."""
        ...

    def get(self, fault_id: str) -> Fault | None: ...

    def remove(self, fault_id: str) -> bool:
        """Delete a rule; False if there was none with this id."""
        ...

    def clear(self) -> int:
        """Delete every rule; how many there were."""
        ...

    def claim(self, fault_id: str) -> bool:
        """Count one firing of the rule, atomically across processes: add one
        to ``hits`` and take one from ``remaining`` unless it is used up
        (0) or the rule is gone; whether it may fire."""
        ...
