"""Sandbox mode's controls (docs/sandbox.md): what the admin API under
``/opentms/v1/sandbox/`` drives. A vault has none of them: its
:class:`~opentms.services.container.Services` hold ``sandbox=None``."""

from __future__ import annotations

from collections.abc import Callable
from contextvars import Token
from dataclasses import dataclass, field

from opentms.domain.ports import RandomSource, SandboxState, SandboxStateStore
from opentms.services.sandbox.clock import ClockControl, current_state
from opentms.services.sandbox.faults import FaultControl
from opentms.services.sandbox.journal import RequestJournal
from opentms.services.sandbox.seed import SeedService
from opentms.services.sandbox.state import StateControl


@dataclass
class SandboxControls:
    """The sandbox's controls, and the per-request step every TMS request
    takes through :meth:`begin_request`."""

    admin_token: str
    state_store: SandboxStateStore
    clock: ClockControl
    # Called when another process (or this one) changed merchants or the vault
    # wholesale: drops this process's caches of them.
    forget_cached: Callable[[], None]
    # Seed files (docs/sandbox.md "Seed files").
    seed: SeedService
    # Where ids and generated keys come from; deterministic with --deterministic.
    # A reset may call its restart() to replay the stream from the beginning.
    randomness: RandomSource
    # Reset and snapshots (docs/sandbox.md, "Reset" and "Snapshots").
    state: StateControl
    # Fault and latency rules, tried before every authenticated TMS request.
    faults: FaultControl
    # Every TMS request, masked (docs/sandbox.md, "Request journal").
    journal: RequestJournal
    # Whether ids, token numbers and generated keys are reproducible (--deterministic).
    deterministic: bool = False
    _seen_generation: int | None = field(default=None, repr=False)

    def begin_request(self) -> Token[SandboxState | None]:
        """Read the shared state once for the request about to run: the
        service clock reads its offset from it, and a new generation drops
        this process's caches. Give the token to :meth:`end_request`."""
        state = self.state_store.read()
        if state.generation != self._seen_generation:
            if self._seen_generation is not None:
                self.forget_cached()
            self._seen_generation = state.generation
        return current_state.set(state)

    def end_request(self, token: Token[SandboxState | None]) -> None:
        current_state.reset(token)
