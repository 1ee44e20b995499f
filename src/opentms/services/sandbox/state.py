"""The sandbox's state controls (docs/sandbox.md, "Reset" and "Snapshots"):
wipe the vault, or save it under a name and put it back later."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from opentms.domain.ports import (
    Clock,
    ResetReport,
    ResetScope,
    SnapshotStore,
    SnapshotSummary,
    StateResetter,
)


@dataclass(frozen=True, slots=True)
class Restored:
    snapshot: SnapshotSummary
    restored_at: datetime


class StateControl:
    """Reset and snapshots. Both change merchants or the vault wholesale:
    the stores bump the shared generation in the same transaction (every
    process drops its cached merchants at its next request), and this process
    drops its own at once."""

    def __init__(
        self,
        resetter: StateResetter,
        snapshots: SnapshotStore,
        clock: Clock,
        forget_cached: Callable[[], None],
        restart_ids: Callable[[], None] = lambda: None,
    ) -> None:
        self._resetter = resetter
        self._restart_ids = restart_ids
        self._snapshots = snapshots
        # Real time: when a snapshot was saved or restored is the admin's
        # time, not the service clock that a snapshot itself moves.
        self._clock = clock
        self._forget_cached = forget_cached

    def reset(self, scope: ResetScope) -> ResetReport:
        report = self._resetter.reset(scope)
        self._forget_cached()
        if scope.include_merchants and scope.merchant_id is None:
            # Nothing drawn from the id stream is left (server keys are derived
            # by name, not drawn): a deterministic sandbox starts it again, so
            # the same requests get the same ids as on a fresh server. Any
            # other reset keeps ids that a restarted stream would give again.
            self._restart_ids()
        return report

    def save_snapshot(self, name: str) -> SnapshotSummary:
        return self._snapshots.save(name, self._clock.now())

    def list_snapshots(self) -> list[SnapshotSummary]:
        return self._snapshots.list()

    def get_snapshot(self, name: str) -> SnapshotSummary:
        return self._snapshots.get(name)

    def restore_snapshot(self, name: str) -> Restored:
        snapshot = self._snapshots.restore(name)
        self._forget_cached()
        return Restored(snapshot, self._clock.now())

    def delete_snapshot(self, name: str) -> None:
        self._snapshots.delete(name)
