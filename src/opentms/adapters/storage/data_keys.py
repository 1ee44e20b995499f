"""Data-key rotation and crypto-shredding over SQL (services/data_keys.py).

Which values a rotation moves is read from the values themselves: a sealed
value names its key in bytes 2 to 5 (``crypto.envelope``), which SQL's
``substr`` compares on SQLite and PostgreSQL alike, so a pass reads only the
rows still under a previous key. Each value is written back with a
compare-and-swap (``WHERE id = ? AND col = <the old bytes>``): a request
that rewrote it meanwhile wins, and its value is looked at again.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, delete, func, select, update

from opentms.adapters.storage import audit
from opentms.adapters.storage.database import _gates, _Transaction
from opentms.adapters.storage.merchants import (
    bump_registry_epoch,
    previous_data_keys,
    store_previous_data_keys,
)
from opentms.adapters.storage.sealed_columns import MERCHANT_SEALED, SealedColumn
from opentms.adapters.storage.tables import (
    instrument_identifiers,
    merchant_keys,
    merchants,
    network_tokens,
    webhook_notifications,
    webhook_subscriptions,
)
from opentms.crypto.keyring import Keyring, MerchantKeys
from opentms.crypto.keys import DataKey
from opentms.domain.audit import AuditEntry
from opentms.domain.merchant import WrappedKeys
from opentms.domain.webhooks import NotificationStatus, SubscriptionStatus
from opentms.services.data_keys import (
    Batch,
    MerchantShredded,
    RotationStart,
    ShredReport,
    TooEarly,
    UnknownMerchant,
)

_COLUMNS = {str(column): column for column in MERCHANT_SEALED}
_WAITING = (
    NotificationStatus.PENDING.value,
    NotificationStatus.RETRY.value,
    NotificationStatus.HELD.value,
)


class _Write(_Transaction):
    """One write transaction (behind SQLite's write gate), rolled back unless
    committed."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def __enter__(self) -> Connection:
        return self._open(self._engine)


def _key_id(column: SealedColumn) -> Any:
    """The key id a sealed value names, in SQL (bytes 2 to 5)."""
    return func.substr(column.column, 2, 4)


class SQLDataKeys:
    """:class:`~opentms.services.data_keys.DataKeyStore` of one engine."""

    def __init__(self, engine: Engine, keyring: Keyring) -> None:
        self._engine = engine
        self._keyring = keyring

    def columns(self) -> Sequence[str]:
        return list(_COLUMNS)

    # Rotation -----------------------------------------------------------------

    def start_rotation(self, merchant_id: str, actor: str, now: datetime) -> RotationStart:
        transaction = _Write(self._engine)
        with transaction as conn:
            row = _locked_merchant(conn, merchant_id)
            previous = previous_data_keys(row.previous_data_keys)
            if previous:
                # One rotation at a time: this one resumes it.
                keys = self._keyring.open(merchant_id, _wrapped(row))
                return RotationStart(
                    merchant_id,
                    row.data_key_rotated_at,
                    True,
                    keys.data_key.key_id.hex(),
                    len(previous),
                )
            data_key = DataKey.generate()
            conn.execute(
                update(merchants)
                .where(merchants.c.id == merchant_id)
                .values(
                    data_key_wrapped=self._keyring.wrap_data_key(merchant_id, data_key),
                    previous_data_keys=store_previous_data_keys((bytes(row.data_key_wrapped),)),
                    data_key_rotated_at=now,
                )
            )
            bump_registry_epoch(conn)
            key_id = data_key.key_id.hex()
            audit.append(
                conn,
                [
                    AuditEntry(
                        now,
                        actor,
                        "merchant.rotateDataKey",
                        "merchant",
                        (merchant_id,),
                        details={"phase": "start", "dataKeyId": key_id},
                    )
                ],
            )
            transaction.commit()
        return RotationStart(merchant_id, now, False, key_id, 1)

    def reseal_batch(self, merchant_id: str, column: str, after: str | None, limit: int) -> Batch:
        sealed = _COLUMNS[column]
        table, value = sealed.table, sealed.column
        transaction = _Write(self._engine)
        with transaction as conn:
            keys = self._current_keys(conn, merchant_id)
            query = (
                select(table.c.id, value)
                .where(
                    table.c.merchant_id == merchant_id,
                    value.is_not(None),
                    _key_id(sealed) != keys.data_key.key_id,
                )
                .order_by(table.c.id)
                .limit(limit)
                # PostgreSQL: the batch locks its rows up front and passes over
                # those a request holds, so it never waits for a row while
                # holding others (no deadlock with a request that locks several);
                # a row passed over is counted at the finish and taken again.
                .with_for_update(skip_locked=True)
            )
            if after is not None:
                query = query.where(table.c.id > after)
            rows = conn.execute(query).all()
            resealed = skipped = 0
            for row_id, old in rows:
                old = bytes(old)
                context = sealed.context(row_id)
                new = keys.seal(keys.unseal(old, context), context)
                changed = conn.execute(
                    update(table)
                    .where(table.c.id == row_id, table.c.merchant_id == merchant_id, value == old)
                    .values({sealed.name: new})
                ).rowcount
                if changed == 1:
                    resealed += 1
                else:
                    skipped += 1
            transaction.commit()
        next_after = rows[-1][0] if len(rows) == limit else None
        return Batch(resealed, skipped, next_after)

    def remaining(self, merchant_id: str) -> dict[str, int]:
        with self._engine.connect() as conn:
            keys = self._current_keys(conn, merchant_id)
            return _remaining(conn, merchant_id, keys.data_key.key_id)

    def finish_rotation(self, merchant_id: str, actor: str, now: datetime, grace: timedelta) -> int:
        transaction = _Write(self._engine)
        with transaction as conn:
            row = _locked_merchant(conn, merchant_id)
            if not previous_data_keys(row.previous_data_keys):
                return 0  # finished by an earlier run
            not_before = row.data_key_rotated_at + grace
            if now < not_before:
                raise TooEarly(not_before)
            keys = self._keyring.open(merchant_id, _wrapped(row))
            left = sum(_remaining(conn, merchant_id, keys.data_key.key_id).values())
            if left:
                return left
            conn.execute(
                update(merchants)
                .where(merchants.c.id == merchant_id)
                .values(previous_data_keys=None)
            )
            bump_registry_epoch(conn)
            audit.append(
                conn,
                [
                    AuditEntry(
                        now,
                        actor,
                        "merchant.rotateDataKey",
                        "merchant",
                        (merchant_id,),
                        details={
                            "phase": "finish",
                            "dataKeyId": keys.data_key.key_id.hex(),
                            "destroyed": len(keys.previous_data_keys),
                        },
                    )
                ],
            )
            transaction.commit()
        return 0

    def _current_keys(self, conn: Connection, merchant_id: str) -> MerchantKeys:
        row = conn.execute(select(merchants).where(merchants.c.id == merchant_id)).first()
        _check_usable(row, merchant_id)
        assert row is not None  # noqa: S101 - _check_usable raised otherwise
        return self._keyring.open(merchant_id, _wrapped(row))

    # Shredding ------------------------------------------------------------------

    def shred(self, merchant_id: str, actor: str, now: datetime) -> ShredReport:
        """Destroy the merchant's keys and everything a master-key holder
        could still use to recognise its cards, in one transaction."""
        counts: dict[str, int] = {}
        transaction = _Write(self._engine)
        with transaction as conn:
            _locked_merchant(conn, merchant_id)
            conn.execute(
                update(merchants)
                .where(merchants.c.id == merchant_id)
                .values(
                    # Empty, not NULL: the columns stay NOT NULL (migration 0007).
                    data_key_wrapped=b"",
                    fingerprint_key_wrapped=b"",
                    previous_data_keys=None,
                    data_key_rotated_at=None,
                    shredded_at=now,
                )
            )
            # Credentials: the shared secrets are sealed under the master key.
            counts["merchant_keys"] = conn.execute(
                delete(merchant_keys).where(merchant_keys.c.merchant_id == merchant_id)
            ).rowcount
            # Under server-level keys (the master key, the network index key):
            # a master-key holder could open or match these, so they go too.
            # The fingerprints are keyed by the destroyed fingerprint key, but
            # they would still tell which rows held the same card.
            counts["instrument_identifiers"] = conn.execute(
                update(instrument_identifiers)
                .where(instrument_identifiers.c.merchant_id == merchant_id)
                .values(network_index=None, fingerprint=None)
            ).rowcount
            # The token's own expiry and the network's references (PAR) are
            # tied to the card at the network: cleared with the rest.
            counts["network_tokens"] = conn.execute(
                update(network_tokens)
                .where(network_tokens.c.merchant_id == merchant_id)
                .values(
                    number_index=None,
                    master_key_sealed=None,
                    expiration_month=None,
                    expiration_year=None,
                    details="{}",
                )
            ).rowcount
            counts["webhook_subscriptions"] = conn.execute(
                update(webhook_subscriptions)
                .where(webhook_subscriptions.c.merchant_id == merchant_id)
                .values(status=SubscriptionStatus.INACTIVE.value, updated_at=now)
            ).rowcount
            # Nothing of M can be signed any more: its waiting notifications
            # end now rather than fail at every dispatcher's round.
            counts["webhook_notifications"] = conn.execute(
                update(webhook_notifications)
                .where(
                    webhook_notifications.c.merchant_id == merchant_id,
                    webhook_notifications.c.status.in_(_WAITING),
                )
                .values(
                    status=NotificationStatus.FAILED.value,
                    claimed_by=None,
                    claimed_until=None,
                    updated_at=now,
                )
            ).rowcount
            bump_registry_epoch(conn)
            audit.append(
                conn,
                [
                    AuditEntry(
                        now,
                        actor,
                        "merchant.shred",
                        "merchant",
                        (merchant_id,),
                        details={_camel(table): n for table, n in sorted(counts.items())},
                    )
                ],
            )
            transaction.commit()
        return ShredReport(merchant_id, now, counts, self._compact())

    def _compact(self) -> bool:
        """SQLite: rebuild the file and empty the write-ahead log, so that no
        page or log frame keeps the destroyed keys' bytes (with secure delete
        on, freed space is zeroed). Whether that was done: False when other
        connections kept it from finishing (the shredding stands; the CLI
        says what is left to do), and on PostgreSQL, whose dead row versions
        stay until VACUUM FULL (docs/security.md)."""
        if self._engine.dialect.name != "sqlite":
            return False
        gate = _gates.get(self._engine)
        if gate is not None:
            gate.acquire()
        raw: Any = self._engine.raw_connection()
        try:
            connection = raw.driver_connection
            connection.execute("PRAGMA secure_delete=ON")
            connection.execute("VACUUM")
            busy, _log, _moved = connection.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        except sqlite3.OperationalError:
            return False  # busy beyond the busy timeout
        finally:
            raw.close()
            if gate is not None:
                gate.release()
        return not busy


def _camel(table: str) -> str:
    """``webhook_subscriptions`` -> ``webhookSubscriptions`` (audit details' style)."""
    first, *rest = table.split("_")
    return first + "".join(word.title() for word in rest)


def _remaining(conn: Connection, merchant_id: str, current: bytes) -> dict[str, int]:
    counts = {}
    for name, sealed in _COLUMNS.items():
        table = sealed.table
        counts[name] = int(
            conn.execute(
                select(func.count())
                .select_from(table)
                .where(
                    table.c.merchant_id == merchant_id,
                    sealed.column.is_not(None),
                    _key_id(sealed) != current,
                )
            ).scalar_one()
        )
    return counts


def _locked_merchant(conn: Connection, merchant_id: str) -> Any:
    """The merchant's row, locked until the transaction ends (PostgreSQL;
    SQLite's write transaction already excludes every other writer)."""
    row = conn.execute(
        select(merchants).where(merchants.c.id == merchant_id).with_for_update()
    ).first()
    _check_usable(row, merchant_id)
    return row


def _check_usable(row: Any, merchant_id: str) -> None:
    if row is None:
        raise UnknownMerchant(f"No merchant {merchant_id!r} is registered.")
    if row.shredded_at is not None:
        raise MerchantShredded(
            f"Merchant {merchant_id!r} was shredded at {row.shredded_at.isoformat()}: "
            "its keys are destroyed."
        )


def _wrapped(row: Any) -> WrappedKeys:
    return WrappedKeys(
        bytes(row.data_key_wrapped),
        bytes(row.fingerprint_key_wrapped),
        previous_data_keys(row.previous_data_keys),
    )
