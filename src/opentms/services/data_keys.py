"""A merchant's data-key rotation and its crypto-shredding (docs/security.md).

Rotation, in three steps, each a transaction of its own:

1. **Start**: a new data key is wrapped and becomes the current one; the old
   one moves to the front of the merchant's previous data keys, and the
   registry epoch moves, so every process seals with the new key from its
   next authentication on and still opens values sealed under the old ones.
2. **Re-seal**: every value of the merchant still under a previous key is
   opened and sealed again under the current one, in batches (each a
   transaction; a value a request rewrote meanwhile is left to it). Nothing
   stops serving meanwhile.
3. **Finish**: once no value names a previous key and the grace period has
   passed since the start (no request that loaded the old key before the
   start can still be writing with it), the previous keys are destroyed.

A rotation that stopped half way (a crash, an interrupt) is resumed by
running it again: the merchant's previous keys say one is under way.

The fingerprint key is not rotated: the same card must keep mapping to the
same instrument identifier, and a new fingerprint key would need every
fingerprint computed again from the unsealed cards with two keys looked up
meanwhile. It is wrapped under the master key like the data key (so a
master-key rotation re-wraps it) and destroyed only by shredding.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol

from opentms.domain.ports import Clock


class DataKeyError(Exception):
    """A rotation or shredding that cannot be done; the message says why and
    what to do."""


class UnknownMerchant(DataKeyError):
    pass


class MerchantShredded(DataKeyError):
    pass


class TooEarly(DataKeyError):
    """The previous data keys cannot be destroyed yet: requests that loaded
    them before the rotation started may still be writing."""

    def __init__(self, not_before: datetime) -> None:
        super().__init__(
            f"the previous data keys can be destroyed from {not_before.isoformat()} on "
            "(the grace period for requests that loaded them before the rotation)"
        )
        self.not_before = not_before


@dataclass(frozen=True)
class RotationStart:
    """The rotation under way: ``resumed`` when an earlier run had started it."""

    merchant_id: str
    started_at: datetime
    resumed: bool
    key_id: str  # the current data key's id (hex; not secret: every value names it)
    previous_keys: int


@dataclass(frozen=True)
class Batch:
    """One batch of one column: values sealed again, values a concurrent
    write changed first (left to it), and where the next batch starts
    (None: the column is done)."""

    resealed: int
    skipped: int
    next_after: str | None


@dataclass(frozen=True)
class ShredReport:
    """What a shredding cleared, per table (rows left as tombstones)."""

    merchant_id: str
    shredded_at: datetime
    rows: dict[str, int] = field(default_factory=dict)
    compacted: bool = False


class DataKeyStore(Protocol):
    """Where merchants' data keys and sealed values live
    (``adapters/storage/data_keys.py``)."""

    def columns(self) -> Sequence[str]:
        """The names of the sealed columns, in the order they are re-sealed."""
        ...

    def start_rotation(self, merchant_id: str, actor: str, now: datetime) -> RotationStart: ...

    def reseal_batch(
        self, merchant_id: str, column: str, after: str | None, limit: int
    ) -> Batch: ...

    def remaining(self, merchant_id: str) -> dict[str, int]:
        """Per column, the values of the merchant under a previous key."""
        ...

    def finish_rotation(self, merchant_id: str, actor: str, now: datetime, grace: timedelta) -> int:
        """Destroy the previous keys when nothing remains under them and the
        grace has passed (0), else the number of values still under them;
        raises :class:`TooEarly` within the grace."""
        ...

    def shred(self, merchant_id: str, actor: str, now: datetime) -> ShredReport: ...


@dataclass(frozen=True)
class RotationResult:
    merchant_id: str
    resumed: bool
    resealed: int
    finished: bool  # False: the previous keys wait for the grace to end (--no-wait)
    not_before: datetime | None = None


class DataKeyRotation:
    """Runs a rotation from start (or where it stopped) to its finish."""

    def __init__(
        self,
        store: DataKeyStore,
        clock: Clock,
        grace: timedelta,
        batch_size: int = 500,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._store = store
        self._clock = clock
        self._grace = grace
        self._batch_size = batch_size
        self._sleep = sleep

    def rotate(
        self,
        merchant_id: str,
        actor: str,
        progress: Callable[[str], None] = lambda _line: None,
        wait: bool = True,
    ) -> RotationResult:
        """Start (or resume) and complete the rotation of ``merchant_id``'s
        data key; ``wait``: sleep through what is left of the grace period
        rather than return with the previous keys kept."""
        start = self._store.start_rotation(merchant_id, actor, self._clock.now())
        if start.resumed:
            progress(
                f"resuming the rotation started at {start.started_at.isoformat()} "
                f"(current data key {start.key_id}, {start.previous_keys} previous)"
            )
        else:
            progress(f"new data key {start.key_id}: new writes are sealed under it")
        total = 0
        while True:
            total += self._reseal_all(merchant_id, progress)
            try:
                left = self._store.finish_rotation(
                    merchant_id, actor, self._clock.now(), self._grace
                )
            except TooEarly as early:
                if not wait:
                    return RotationResult(
                        merchant_id, start.resumed, total, False, early.not_before
                    )
                seconds = max((early.not_before - self._clock.now()).total_seconds(), 0.0)
                progress(
                    f"every value re-sealed; waiting {seconds:.0f} s (the grace period) "
                    "before destroying the previous data keys"
                )
                self._sleep(seconds + 0.01)
                continue
            if left == 0:
                progress("previous data keys destroyed: the rotation is complete")
                return RotationResult(merchant_id, start.resumed, total, True)
            # Requests that loaded the old key before the start wrote with it
            # meanwhile: one more pass moves those values too.
            progress(f"{left} values were written under a previous key meanwhile; again")

    def _reseal_all(self, merchant_id: str, progress: Callable[[str], None]) -> int:
        total = 0
        for column in self._store.columns():
            resealed = skipped = 0
            after: str | None = None
            while True:
                batch = self._store.reseal_batch(merchant_id, column, after, self._batch_size)
                resealed += batch.resealed
                skipped += batch.skipped
                if batch.next_after is None:
                    break
                after = batch.next_after
                progress(f"{column}: {resealed} re-sealed so far")
            if resealed or skipped:
                note = f" ({skipped} rewritten meanwhile)" if skipped else ""
                progress(f"{column}: {resealed} re-sealed{note}")
            total += resealed
        return total


class Shredding:
    """Destroys a merchant's keys for good (its rows stay, unreadable)."""

    def __init__(self, store: DataKeyStore, clock: Clock) -> None:
        self._store = store
        self._clock = clock

    def shred(self, merchant_id: str, actor: str) -> ShredReport:
        return self._store.shred(merchant_id, actor, self._clock.now())
