"""The master key's versions in the database, and the values sealed under them.

``master_key_versions`` records every version a provider has held (so
``opentms keys status`` can show a retired one, and when each was made);
:class:`MasterKeyAdmin` counts, re-wraps and retires over the master-level
sealed columns. A re-wrap moves values in small batches, each its own
transaction, with compare-and-swap updates: a value a request changed
meanwhile is left to it (and looked at again by the next pass), so nothing
a concurrent writer stores is lost, and a crash loses at most one batch's
work, which the next run redoes (only values not under the newest version
are touched).
"""

from __future__ import annotations

import contextlib
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Engine, Table, and_, func, select, update
from sqlalchemy.exc import IntegrityError

from opentms.adapters.storage import audit
from opentms.adapters.storage.merchants import (
    bump_registry_epoch,
    previous_data_keys,
    store_previous_data_keys,
)
from opentms.adapters.storage.tables import (
    master_key_versions,
    merchant_keys,
    merchants,
    network_tokens,
    server_keys,
)
from opentms.crypto.envelope import sealed_key_id
from opentms.crypto.keyring import Keyring
from opentms.crypto.providers import KeyVersion
from opentms.domain.audit import AuditEntry
from opentms.domain.errors import DecryptionFailed


@dataclass(frozen=True)
class VersionRecord:
    version: int
    key_id: bytes
    provider: str
    created_at: datetime
    retired_at: datetime | None


@dataclass(frozen=True)
class SealedColumn:
    """A column sealed under the master key, and the context each row's value
    is bound to. ``listed``: the column holds a JSON list of sealed values
    (merchants.previous_data_keys)."""

    name: str
    table: Table
    key: str
    column: str
    context: Callable[[Any], str]
    where: ColumnElement[bool] | None = None
    listed: bool = False
    merchant_rows: bool = False


# A shredded merchant's wrapped keys are empty: nothing to count or re-wrap.
_NOT_SHREDDED = merchants.c.shredded_at.is_(None)

SEALED_COLUMNS = (
    SealedColumn(
        "merchants.data_key_wrapped",
        merchants,
        "id",
        "data_key_wrapped",
        lambda row: f"data-key\x00{row.id}",
        merchant_rows=True,
        where=_NOT_SHREDDED,
    ),
    SealedColumn(
        "merchants.fingerprint_key_wrapped",
        merchants,
        "id",
        "fingerprint_key_wrapped",
        lambda row: f"fingerprint-key\x00{row.id}",
        merchant_rows=True,
        where=_NOT_SHREDDED,
    ),
    SealedColumn(
        "merchants.previous_data_keys",
        merchants,
        "id",
        "previous_data_keys",
        lambda row: f"data-key\x00{row.id}",
        listed=True,
        merchant_rows=True,
        where=_NOT_SHREDDED,
    ),
    SealedColumn(
        "merchant_keys.material",
        merchant_keys,
        "key_id",
        "material",
        lambda row: f"shared-secret\x00{row.key_id}",
        where=merchant_keys.c.kind == "http_signature",
        merchant_rows=True,
    ),
    SealedColumn(
        "server_keys.secret_sealed",
        server_keys,
        "name",
        "secret_sealed",
        lambda row: f"server-key\x00{row.name}",
    ),
    SealedColumn(
        "network_tokens.master_key_sealed",
        network_tokens,
        "id",
        "master_key_sealed",
        lambda row: f"token-key\x00{row.id}",
    ),
)


@dataclass(frozen=True)
class BatchResult:
    """One re-wrap batch: the last key it read (None: the column is done),
    the values it re-sealed, and those a concurrent writer changed first."""

    last: str | None
    rewrapped: int
    raced: int
    unreadable: int = 0


class RetireRefused(Exception):
    """``opentms keys retire`` may not retire this version (the message says why)."""


class MasterKeyAdmin:
    """The operations of ``opentms keys`` over a database and its keyring."""

    def __init__(self, engine: Engine, keyring: Keyring) -> None:
        self._engine = engine
        self._keyring = keyring

    @property
    def keyring(self) -> Keyring:
        return self._keyring

    def record(self, versions: Sequence[KeyVersion] | None = None) -> None:
        """Record the provider's versions the table lacks (an install from
        before versions existed gets its v1 here)."""
        versions = self._keyring.versions() if versions is None else versions
        # IntegrityError: another process recorded them first.
        with contextlib.suppress(IntegrityError):
            self._record(versions)

    def _record(self, versions: Sequence[KeyVersion]) -> None:
        with self._engine.begin() as conn:
            known = {
                (row.version, bytes(row.key_id))
                for row in conn.execute(select(master_key_versions))
            }
            numbers = {number for number, _ in known}
            ids = {key_id for _, key_id in known}
            now = datetime.now(UTC)
            for version in versions:
                if version.version not in numbers and version.key_id not in ids:
                    conn.execute(
                        master_key_versions.insert().values(
                            version=version.version,
                            key_id=version.key_id,
                            provider=self._keyring.provider.name,
                            created_at=now,
                        )
                    )

    def records(self) -> list[VersionRecord]:
        with self._engine.connect() as conn:
            rows = conn.execute(select(master_key_versions).order_by(master_key_versions.c.version))
            return [
                VersionRecord(
                    row.version, bytes(row.key_id), row.provider, row.created_at, row.retired_at
                )
                for row in rows
            ]

    def counts(self) -> dict[bytes, Counter[str]]:
        """For each key id, how many values of each sealed column it wraps."""
        found: dict[bytes, Counter[str]] = {}
        with self._engine.connect() as conn:
            for sealed in SEALED_COLUMNS:
                column = sealed.table.c[sealed.column]
                if sealed.listed:
                    query = select(column).where(column.is_not(None))
                    for (text,) in conn.execute(_filtered(query, sealed)):
                        for item in previous_data_keys(text):
                            found.setdefault(sealed_key_id(item), Counter())[sealed.name] += 1
                    continue
                key_id = func.substr(column, 2, 4)
                query = select(key_id, func.count()).where(column.is_not(None)).group_by(key_id)
                for key, count in conn.execute(_filtered(query, sealed)):
                    found.setdefault(bytes(key), Counter())[sealed.name] += count
        return found

    def rotate(self, actor: str) -> KeyVersion:
        version = self._keyring.provider.rotate()
        self._keyring.refresh()
        self.record()
        with self._engine.begin() as conn:
            audit.append(
                conn,
                [_entry(actor, "keys.rotate", version, provider=self._keyring.provider.name)],
            )
        return version

    def rewrap_batch(
        self, sealed: SealedColumn, after: str | None, size: int, actor: str
    ) -> BatchResult:
        """Re-seal under the newest version up to ``size`` values of ``sealed``
        past the row ``after``, in one transaction."""
        table, column = sealed.table, sealed.table.c[sealed.column]
        key = table.c[sealed.key]
        newest = self._keyring.newest
        query = select(table).where(column.is_not(None)).order_by(key).limit(size)
        if after is not None:
            query = query.where(key > after)
        if not sealed.listed:
            query = query.where(func.substr(column, 2, 4) != newest.key_id)
        # Read and re-seal outside the write transaction: it holds the
        # database's write lock (SQLite) only for the updates, which compare
        # and swap, so a value changed in between is left as it is.
        with self._engine.connect() as conn:
            rows = conn.execute(_filtered(query, sealed)).all()
        changes = []
        unreadable = 0
        for row in rows:
            old = getattr(row, sealed.column)
            try:
                new = self._resealed(sealed, row, old)
            except DecryptionFailed:
                # Tampered with, or under a version no provider holds:
                # reported, left as it is (never re-sealed as garbage).
                unreadable += 1
                continue
            if new is not None:
                changes.append((row._mapping[sealed.key], old, new))
        rewrapped = raced = 0
        if changes:
            with self._engine.begin() as conn:
                for row_key, old, new in changes:
                    changed = conn.execute(
                        update(table)
                        .where(_filtered_clause(sealed, and_(key == row_key)))
                        .where(column == old)
                        .values({sealed.column: new})
                    ).rowcount
                    if changed:
                        rewrapped += 1
                    else:
                        raced += 1
                if rewrapped:
                    if sealed.merchant_rows:
                        bump_registry_epoch(conn)
                    audit.append(
                        conn,
                        [
                            _entry(
                                actor,
                                "keys.rewrap",
                                newest,
                                column=sealed.name,
                                values=rewrapped,
                            )
                        ],
                    )
        last = rows[-1]._mapping[sealed.key] if len(rows) == size else None
        return BatchResult(last, rewrapped, raced, unreadable)

    def _resealed(self, sealed: SealedColumn, row: Any, old: Any) -> Any:
        context = sealed.context(row)
        if not sealed.listed:
            return self._keyring.reseal(bytes(old), context)
        items = previous_data_keys(old)
        moved = [self._keyring.reseal(item, context) for item in items]
        if all(item is None for item in moved):
            return None
        return store_previous_data_keys(
            tuple(new if new is not None else item for new, item in zip(moved, items, strict=True))
        )

    def retire(self, number: int, actor: str, settle: timedelta) -> VersionRecord:
        """Destroy version ``number``'s material and mark it retired: refused
        while it is the newest, while a newer version is younger than
        ``settle`` (a server may still seal with it), or while any value is
        sealed under it."""
        self._keyring.refresh()
        self.record()
        records = {r.version: r for r in self.records()}
        record = records.get(number)
        if record is None:
            raise RetireRefused(f"There is no master key version {number}.")
        if record.retired_at is not None:
            raise RetireRefused(
                f"Version {number} was retired at {record.retired_at:%Y-%m-%d %H:%M:%S}Z."
            )
        live = [r for r in records.values() if r.retired_at is None]
        newest = max(live, key=lambda r: r.version)
        if newest.version == number:
            raise RetireRefused(
                f"Version {number} is the newest: it seals new values. "
                "Rotate first (`opentms keys rotate`), then rewrap."
            )
        age = datetime.now(UTC) - newest.created_at
        if age < settle:
            wait = (settle - age).total_seconds()
            raise RetireRefused(
                f"Version {newest.version} is {age.total_seconds():.0f} s old: a server may still "
                f"seal with version {number} until it re-reads the versions. "
                f"Run `opentms keys rewrap` again, then retire in {wait:.0f} s."
            )
        remaining = sum(self.counts().get(record.key_id, Counter()).values())
        if remaining:
            raise RetireRefused(
                f"{remaining} value(s) are still sealed under version {number}: run "
                "`opentms keys rewrap`, check `opentms keys status`, then retire."
            )
        provider = self._keyring.provider
        held = next((v for v in provider.versions() if v.version == number), None)
        now = datetime.now(UTC)
        with self._engine.begin() as conn:
            conn.execute(
                update(master_key_versions)
                .where(master_key_versions.c.version == number)
                .values(retired_at=now)
            )
            audit.append(
                conn,
                [
                    _entry(
                        actor,
                        "keys.retire",
                        KeyVersion(number, record.key_id),
                        provider=provider.name,
                        destroyed=held is not None,
                    )
                ],
            )
            if held is not None:
                # Inside the transaction: if the provider refuses (the env
                # provider, an HSM error), nothing is recorded as retired.
                provider.retire(held)
        self._keyring.refresh()
        return VersionRecord(number, record.key_id, record.provider, record.created_at, now)


def sealed_columns() -> Iterator[SealedColumn]:
    yield from SEALED_COLUMNS


def _filtered(query: Any, sealed: SealedColumn) -> Any:
    return query if sealed.where is None else query.where(sealed.where)


def _filtered_clause(sealed: SealedColumn, clause: ColumnElement[bool]) -> ColumnElement[bool]:
    return clause if sealed.where is None else and_(clause, sealed.where)


def _entry(actor: str, action: str, version: KeyVersion, **details: str | int | bool) -> AuditEntry:
    return AuditEntry(
        at=datetime.now(UTC),
        actor=actor,
        action=action,
        resource_type="masterKey",
        resource_ids=(f"v{version.version}",),
        details={"keyId": version.key_id.hex(), **details},
    )
