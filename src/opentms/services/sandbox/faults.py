"""Fault and latency rules of a sandbox (docs/sandbox.md, "Faults and
latency"): which rule, if any, a TMS request meets, and what it does.

Rules are stored in the database (:class:`~opentms.domain.ports.FaultStore`)
and read once per authenticated TMS request: every process sees a new rule
at once, and a rule's ``times`` are counted there, atomically.
"""

from __future__ import annotations

import functools
import re
import uuid
from collections.abc import Callable, Sequence
from random import SystemRandom

from opentms.domain.ports import Clock, Fault, FaultRule, FaultStore


@functools.lru_cache(maxsize=256)
def compile_glob(pattern: str) -> re.Pattern[str]:
    """``*`` is any run of characters (``/`` included, as in fnmatch), ``?``
    one character; every other character stands for itself."""
    parts = []
    for char in pattern:
        if char == "*":
            parts.append(".*")
        elif char == "?":
            parts.append(".")
        else:
            parts.append(re.escape(char))
    return re.compile("".join(parts), re.DOTALL)


def glob_matches(pattern: str, path: str) -> bool:
    return compile_glob(pattern).fullmatch(path) is not None


def matches(rule: FaultRule, method: str, path: str, merchant_id: str) -> bool:
    """Whether a request of ``merchant_id`` meets the rule (its method is
    compared without regard to case; stored rules hold it upper-case)."""
    return (
        (rule.method is None or rule.method == method.upper())
        and (rule.merchant_id is None or rule.merchant_id == merchant_id)
        and (rule.path is None or glob_matches(rule.path, path))
    )


class FaultControl:
    """What the admin API does with fault rules, and which rule fires for a
    TMS request (:meth:`pick`)."""

    def __init__(
        self, store: FaultStore, clock: Clock, draw: Callable[[], float] | None = None
    ) -> None:
        self._store = store
        self._clock = clock
        # A number in [0, 1) per probability drawn; injectable for tests.
        self._draw = draw or SystemRandom().random

    def add(self, rule: FaultRule) -> Fault:
        return self._store.add(uuid.uuid4().hex, rule, self._clock.now())

    def list(self) -> Sequence[Fault]:
        return self._store.list()

    def get(self, fault_id: str) -> Fault | None:
        return self._store.get(fault_id)

    def remove(self, fault_id: str) -> bool:
        return self._store.remove(fault_id)

    def clear(self) -> int:
        return self._store.clear()

    def pick(self, method: str, path: str, merchant_id: str) -> Fault | None:
        """The first rule, in creation order, that matches the request and
        fires. The probability is drawn before a time is taken, so a miss
        leaves the rule's ``remaining`` as it was; a rule used up meanwhile
        by another process is passed over."""
        for fault in self._store.list():
            rule = fault.rule
            if fault.remaining == 0 or not matches(rule, method, path, merchant_id):
                continue
            if rule.probability < 1.0 and not self._draw() < rule.probability:
                continue
            if self._store.claim(fault.id):
                return fault
        return None

    def delay_seconds(self, rule: FaultRule) -> float:
        """How long the rule waits this time: ``delay_ms``, or uniformly
        between it and ``delay_max_ms``."""
        low = rule.delay_ms
        high = rule.delay_max_ms if rule.delay_max_ms is not None else low
        return (low + (high - low) * self._draw()) / 1000
