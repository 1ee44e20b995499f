"""The service clock of a sandbox: real time plus an offset that an admin
moves (docs/sandbox.md, "Clock"). Token expiry, life-cycle dates and
credential timestamps follow it; authentication keeps real time, since the
SDKs sign with theirs."""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime, timedelta

from opentms.domain.ports import Clock, SandboxState, SandboxStateStore

# The state read at the start of the request being handled (SandboxControls.
# begin_request): the clock reads its offset here, not once per call.
current_state: ContextVar[SandboxState | None] = ContextVar("opentms_sandbox_state", default=None)


class ServiceClock:
    """A :class:`~opentms.domain.ports.Clock`: ``real`` moved by the offset
    of the shared state (as read at the start of the current request, or read
    now outside a request)."""

    def __init__(self, store: SandboxStateStore, real: Clock) -> None:
        self._store = store
        self._real = real

    def now(self) -> datetime:
        state = current_state.get()
        if state is None:
            state = self._store.read()
        return self._real.now() + state.clock_offset

    def real_now(self) -> datetime:
        return self._real.now()


@dataclass(frozen=True, slots=True)
class ClockReading:
    now: datetime
    real_now: datetime
    offset: timedelta


# How far the clock may be moved from real time: token expiry years are four digits.
MAX_OFFSET = timedelta(days=366 * 50)


class ClockOutOfRange(ValueError):
    """A move that would take the service clock more than MAX_OFFSET from real time."""


class ClockControl:
    """What the admin API does with the clock: read, advance, set, go back to real time."""

    def __init__(self, store: SandboxStateStore, clock: ServiceClock) -> None:
        self._store = store
        self._clock = clock

    def read(self) -> ClockReading:
        offset = self._store.read().clock_offset
        real = self._clock.real_now()
        return ClockReading(real + offset, real, offset)

    def advance(self, by: timedelta) -> ClockReading:
        return self._set_offset(self._store.read().clock_offset + by)

    def set(self, moment: datetime) -> ClockReading:
        return self._set_offset(moment - self._clock.real_now())

    def reset(self) -> ClockReading:
        return self._set_offset(timedelta(0))

    def _set_offset(self, offset: timedelta) -> ClockReading:
        if abs(offset) > MAX_OFFSET:
            raise ClockOutOfRange(
                f"The service clock may be at most {MAX_OFFSET.days} days from real time."
            )
        state = self._store.set_clock_offset(offset)
        real = self._clock.real_now()
        return ClockReading(real + state.clock_offset, real, state.clock_offset)
