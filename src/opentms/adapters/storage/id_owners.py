"""Which merchant a fixed id of a seed file belongs to, across merchants
(:class:`~opentms.domain.ports.IdOwners`)."""

from __future__ import annotations

from collections.abc import Collection, Mapping

from sqlalchemy import Engine, Table, select

from opentms.adapters.storage.tables import (
    customers,
    instrument_identifiers,
    payment_instruments,
    profiles,
    shipping_addresses,
)
from opentms.domain.ports.seed import IdKind

_TABLES: dict[IdKind, Table] = {
    "profiles": profiles,
    "instrumentIdentifiers": instrument_identifiers,
    "customers": customers,
    "shippingAddresses": shipping_addresses,
    "paymentInstruments": payment_instruments,
}
# Ids asked about in one statement, at most.
_CHUNK = 500


class SQLIdOwners:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def owners(self, kind: IdKind, ids: Collection[str]) -> Mapping[str, str]:
        table = _TABLES[kind]
        wanted = sorted(set(ids))
        found: dict[str, str] = {}
        with self._engine.connect().execution_options(opentms_readonly=True) as conn:
            for start in range(0, len(wanted), _CHUNK):
                chunk = wanted[start : start + _CHUNK]
                query = select(table.c.id, table.c.merchant_id).where(table.c.id.in_(chunk))
                found.update({row.id: row.merchant_id for row in conn.execute(query)})
        return found
