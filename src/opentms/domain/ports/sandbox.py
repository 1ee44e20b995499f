"""Ports of sandbox mode (docs/sandbox.md): the state every process reads at
the start of each request."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Protocol


@dataclass(frozen=True, slots=True)
class SandboxState:
    """``generation`` changes whenever a reset, restore or seed changed
    merchants or the vault (a process then drops what it cached of them);
    ``clock_offset`` is how far the service clock is from real time."""

    generation: int
    clock_offset: timedelta


class SandboxStateStore(Protocol):
    """The one state row, shared by every process over the database."""

    def read(self) -> SandboxState: ...

    def set_clock_offset(self, offset: timedelta) -> SandboxState:
        """Move the service clock; every process sees it at its next request."""
        ...

    def bump_generation(self) -> SandboxState: ...
