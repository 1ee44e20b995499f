"""Ports of the sandbox's state controls (docs/sandbox.md, "Reset" and
"Snapshots"): wiping the vault, and saving and restoring it under a name.

Both change many tables at once; an implementation does it in one
transaction that every process sees whole or not at all, and makes every
process drop what it cached of merchants (the state's generation)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol


@dataclass(frozen=True, slots=True)
class ResetScope:
    """What a reset wipes. ``merchant_id``: that merchant's vault data and
    journal entries only. Else every merchant's vault data, the journal, the
    fault rules and the clock offset, plus merchants, profiles and their keys
    when ``include_merchants``."""

    merchant_id: str | None = None
    include_merchants: bool = False


@dataclass(frozen=True, slots=True)
class ResetReport:
    scope: ResetScope
    # Rows deleted, by table (every table the scope covers, zeros included).
    deleted: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class SnapshotSummary:
    """A saved snapshot: its name, when it was saved and its rows by table."""

    name: str
    created_at: datetime
    counts: dict[str, int]


class StateResetter(Protocol):
    def reset(self, scope: ResetScope) -> ResetReport:
        """Delete what ``scope`` covers in one transaction; raises
        :class:`~opentms.domain.errors.NotFound` for an unknown merchant.
        Idempotent: a second reset deletes nothing more."""
        ...


class SnapshotStore(Protocol):
    """Named snapshots of the vault, its merchants and the clock offset."""

    def save(self, name: str, at: datetime) -> SnapshotSummary:
        """Save the state under ``name``; :class:`~opentms.domain.errors.Conflict`
        if a snapshot has that name."""
        ...

    def list(self) -> list[SnapshotSummary]:
        """Every snapshot, oldest first."""
        ...

    def get(self, name: str) -> SnapshotSummary:
        """:class:`~opentms.domain.errors.NotFound` for an unknown name."""
        ...

    def restore(self, name: str) -> SnapshotSummary:
        """Put the state back as saved, in one transaction."""
        ...

    def delete(self, name: str) -> None: ...
