"""SQL repositories: explicit row <-> domain mapping, every query scoped to one
merchant, attributes and card numbers sealed under the merchant's data key."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import Connection, Row, Table, and_, bindparam, func, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError

from opentms.adapters.storage.sealed_columns import attributes_context, instrument_context
from opentms.adapters.storage.tables import (
    customers,
    instrument_identifiers,
    payment_instruments,
)
from opentms.crypto.keyring import MerchantKeys
from opentms.crypto.network_secrets import NetworkSecrets
from opentms.domain.card import PAN, BankAccount
from opentms.domain.errors import NotAvailable, NotFound, PreconditionFailed
from opentms.domain.resources import (
    JSON,
    InstrumentIdentifier,
    Page,
    PaymentInstrument,
)

_CONFLICT = ["merchant_id", "fingerprint"]
_II_INSERTS = {
    "sqlite": sqlite_insert(instrument_identifiers)
    .on_conflict_do_nothing(index_elements=_CONFLICT)
    .returning(instrument_identifiers.c.id),
    "postgresql": postgresql_insert(instrument_identifiers)
    .on_conflict_do_nothing(index_elements=_CONFLICT)
    .returning(instrument_identifiers.c.id),
}
_BY_FINGERPRINT = select(instrument_identifiers).where(
    instrument_identifiers.c.merchant_id == bindparam("merchant_id"),
    instrument_identifiers.c.fingerprint == bindparam("fingerprint"),
)


def _readonly(conn: Connection) -> bool:
    return bool(conn.get_execution_options().get("opentms_readonly"))


class MerchantScopedTable:
    """Shared plumbing: one table, one merchant, sealed attributes, versions
    and tombstones (a deleted row keeps its id, loses its data, answers 410)."""

    table: Table
    label: str
    default_column = ""
    _by_id: dict[tuple[bool, bool], Any]

    def __init_subclass__(cls) -> None:
        cls._by_id = {}

    def __init__(self, conn: Connection, keys: MerchantKeys) -> None:
        self._conn = conn
        self._keys = keys

    def _seal(self, resource_id: str, attributes: JSON) -> bytes:
        return self._keys.seal(
            orjson.dumps(attributes), attributes_context(self.label, resource_id)
        )

    def _unseal(self, resource_id: str, sealed: bytes) -> dict[str, Any]:
        value: dict[str, Any] = orjson.loads(
            self._keys.unseal(sealed, attributes_context(self.label, resource_id))
        )
        return value

    def _row(self, resource_id: str, with_default: bool = False) -> Row[Any]:
        locked = not _readonly(self._conn)
        key = (locked, with_default)
        query = self._by_id.get(key)
        if query is None:
            # Built once per table and shape, then executed with parameters:
            # building SQLAlchemy statements per call was a third of the time
            # of a payment-credentials request (profiled).
            columns = (self._is_default(),) if with_default else ()
            query = select(self.table, *columns).where(
                self.table.c.id == bindparam("id"),
                self.table.c.merchant_id == bindparam("merchant_id"),
            )
            if locked:
                # Lock the row for the rest of the transaction: concurrent writers
                # of one customer (a new default, a deletion) queue instead of
                # failing each other's version checks. SQLite ignores this.
                query = query.with_for_update(of=self.table)
            self._by_id[key] = query
        row = self._conn.execute(
            query, {"id": resource_id, "merchant_id": self._keys.merchant_id}
        ).first()
        if row is None:
            raise NotFound()
        if row.deleted_at is not None:
            raise NotAvailable()
        return row

    def _update(self, resource_id: str, expected_version: int, values: Mapping[str, Any]) -> None:
        # Optimistic concurrency: the WHERE on version makes the database, not
        # this process, decide which of two concurrent writers wins.
        result = self._conn.execute(
            update(self.table)
            .where(
                self.table.c.id == resource_id,
                self.table.c.merchant_id == self._keys.merchant_id,
                self.table.c.version == expected_version,
                self.table.c.deleted_at.is_(None),
            )
            .values(**values, version=self.table.c.version + 1)
        )
        if result.rowcount != 1:
            raise PreconditionFailed()

    def _tombstone(self, resource_id: str, now: datetime, **extra: Any) -> None:
        self._conn.execute(
            update(self.table)
            .where(
                self.table.c.id == resource_id,
                self.table.c.merchant_id == self._keys.merchant_id,
            )
            .values(attributes_sealed=None, deleted_at=now, updated_at=now, **extra)
        )

    def _live(self) -> Any:
        return and_(
            self.table.c.merchant_id == self._keys.merchant_id,
            self.table.c.deleted_at.is_(None),
        )

    def _count(self, where: Any) -> int:
        query = select(func.count()).select_from(self.table).where(self._live(), where)
        return int(self._conn.execute(query).scalar_one())

    def _is_default(self) -> Any:
        """Rows of child tables are their customer's default when the customer
        row names them (the one source of truth for defaults)."""
        column = customers.c[self.default_column]
        return select(customers.c.id).where(column == self.table.c.id).exists().label("is_default")

    def _list(self, where: Any, default_id: str | None, offset: int, limit: int) -> Page:
        """A page in creation order, the customer's default first."""
        total = self._count(where)
        order: list[Any] = [self.table.c.created_at, self.table.c.id]
        if default_id is not None:
            order.insert(0, self.table.c.id != default_id)
        rows = self._conn.execute(
            select(self.table, self._is_default())
            .where(self._live(), where)
            .order_by(*order)
            .offset(offset)
            .limit(limit)
        ).all()
        return Page(offset, limit, total, tuple(self._to_domain(row) for row in rows))

    def _to_domain(self, row: Row[Any]) -> Any:
        raise NotImplementedError


class SQLInstrumentIdentifierRepository(MerchantScopedTable):
    table = instrument_identifiers
    label = "instrumentIdentifier"

    def __init__(
        self, conn: Connection, keys: MerchantKeys, secrets: NetworkSecrets | None = None
    ) -> None:
        super().__init__(conn, keys)
        self._secrets = secrets

    def add(self, ii: InstrumentIdentifier) -> bool:
        kind = "card" if isinstance(ii.instrument, PAN) else "bank"
        # INSERT ... ON CONFLICT DO NOTHING on the unique (merchant, fingerprint):
        # when another request stored the card first the database says so with
        # a row count of 0, and the transaction stays usable.
        statement = _II_INSERTS.get(self._conn.dialect.name)
        if statement is None:  # pragma: no cover - SQLite and PostgreSQL have one
            return self._add_with_savepoint(ii, kind)
        inserted = self._conn.execute(statement, self._row_values(ii, kind)).first()
        return inserted is not None

    def _row_values(self, ii: InstrumentIdentifier, kind: str) -> dict[str, Any]:
        return {
            "id": ii.id,
            "merchant_id": ii.merchant_id,
            "kind": kind,
            "fingerprint": ii.fingerprint,
            "network_index": self._network_index(ii.instrument),
            "instrument_sealed": self._seal_instrument(ii.id, ii.instrument),
            "attributes_sealed": self._seal(ii.id, ii.attributes),
            "state": ii.state,
            "version": ii.version,
            "created_at": ii.created_at,
            "updated_at": ii.created_at,
        }

    def _add_with_savepoint(self, ii: InstrumentIdentifier, kind: str) -> bool:
        try:
            with self._conn.begin_nested():
                self._conn.execute(self.table.insert(), self._row_values(ii, kind))
        except IntegrityError:
            if self.find_by_fingerprint(ii.fingerprint) is None:
                raise
            return False
        return True

    def get(self, ii_id: str) -> InstrumentIdentifier:
        return self._to_domain(self._row(ii_id))

    def find_by_fingerprint(self, fingerprint: bytes) -> InstrumentIdentifier | None:
        row = self._conn.execute(
            _BY_FINGERPRINT, {"merchant_id": self._keys.merchant_id, "fingerprint": fingerprint}
        ).first()
        return None if row is None else self._to_domain(row)

    def update(self, ii: InstrumentIdentifier, expected_version: int) -> None:
        self._update(
            ii.id,
            expected_version,
            {"attributes_sealed": self._seal(ii.id, ii.attributes), "state": ii.state},
        )

    def remove(self, ii_id: str, now: datetime) -> None:
        self._tombstone(
            ii_id,
            now,
            fingerprint=None,
            network_index=None,
            instrument_sealed=None,
            state="CLOSED",
        )

    def _network_index(self, instrument: PAN | BankAccount) -> bytes | None:
        if self._secrets is None or not isinstance(instrument, PAN):
            return None
        return self._secrets.index(instrument.reveal())

    def _seal_instrument(self, ii_id: str, instrument: PAN | BankAccount) -> bytes:
        if isinstance(instrument, PAN):
            plaintext = instrument.reveal()
        else:
            plaintext = f"{instrument.routing_number}:{instrument.reveal()}"
        return self._keys.seal(plaintext.encode(), instrument_context(ii_id))

    def _to_domain(self, row: Row[Any]) -> InstrumentIdentifier:
        plaintext = self._keys.unseal(row.instrument_sealed, instrument_context(row.id)).decode()
        instrument: PAN | BankAccount
        if row.kind == "card":
            instrument = PAN(plaintext)
        else:
            routing, number = plaintext.split(":", 1)
            instrument = BankAccount(number, routing)
        return InstrumentIdentifier(
            id=row.id,
            merchant_id=row.merchant_id,
            fingerprint=row.fingerprint,
            instrument=instrument,
            attributes=self._unseal(row.id, row.attributes_sealed),
            created_at=row.created_at,
            state=row.state,
            version=row.version,
        )


class SQLPaymentInstrumentRepository(MerchantScopedTable):
    table = payment_instruments
    label = "paymentInstrument"
    default_column = "default_payment_instrument_id"

    def add(self, pi: PaymentInstrument) -> None:
        self._conn.execute(
            self.table.insert(),
            {
                "id": pi.id,
                "merchant_id": pi.merchant_id,
                "customer_id": pi.customer_id,
                "instrument_identifier_id": pi.instrument_identifier_id,
                "attributes_sealed": self._seal(pi.id, pi.attributes),
                "state": pi.state,
                "version": pi.version,
                "created_at": pi.created_at,
                "updated_at": pi.created_at,
            },
        )

    def get(self, pi_id: str) -> PaymentInstrument:
        return self._to_domain(self._row(pi_id, with_default=True))

    def update(self, pi: PaymentInstrument, expected_version: int) -> None:
        self._update(
            pi.id,
            expected_version,
            {
                "attributes_sealed": self._seal(pi.id, pi.attributes),
                "instrument_identifier_id": pi.instrument_identifier_id,
                "state": pi.state,
            },
        )

    def remove(self, pi_id: str, now: datetime) -> None:
        self._tombstone(pi_id, now, state="CLOSED")

    def count_for_instrument_identifier(self, ii_id: str) -> int:
        return self._count(self.table.c.instrument_identifier_id == ii_id)

    def list_for_instrument_identifier(self, ii_id: str, offset: int, limit: int) -> Page:
        where = self.table.c.instrument_identifier_id == ii_id
        return self._list(where, None, offset, limit)

    def list_for_customer(
        self, customer_id: str, default_id: str | None, offset: int, limit: int
    ) -> Page:
        return self._list(self.table.c.customer_id == customer_id, default_id, offset, limit)

    def ids_for_customer(self, customer_id: str) -> Sequence[tuple[str, str]]:
        rows = self._conn.execute(
            select(self.table.c.id, self.table.c.instrument_identifier_id).where(
                self._live(), self.table.c.customer_id == customer_id
            )
        ).all()
        return [(row.id, row.instrument_identifier_id) for row in rows]

    def _to_domain(self, row: Row[Any]) -> PaymentInstrument:
        return PaymentInstrument(
            id=row.id,
            merchant_id=row.merchant_id,
            instrument_identifier_id=row.instrument_identifier_id,
            attributes=self._unseal(row.id, row.attributes_sealed),
            created_at=row.created_at,
            customer_id=row.customer_id,
            is_default=bool(row.is_default),
            state=row.state,
            version=row.version,
        )
