"""From a token id to what payment credentials need, in one query.

A customer leads to its default payment instrument, that to its instrument
identifier, that to its newest network token. Asked one table at a time this
took four queries; joined it takes one (the payment-credentials hot path).
"""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy import Connection, RowMapping, Select, and_, bindparam, select

from opentms.adapters.storage.network_tokens import SQLNetworkTokenRepository
from opentms.adapters.storage.repositories import (
    SQLInstrumentIdentifierRepository,
    SQLPaymentInstrumentRepository,
)
from opentms.adapters.storage.tables import (
    customers,
    instrument_identifiers,
    network_tokens,
    payment_instruments,
)
from opentms.domain.errors import FieldError, InvalidFields, NotAvailable
from opentms.domain.ports import Chain

_ii = instrument_identifiers.alias("i")
_pi = payment_instruments.alias("p")
_tk = network_tokens.alias("t")
_newest_token = (
    select(network_tokens.c.id)
    .where(network_tokens.c.instrument_identifier_id == _ii.c.id)
    .order_by(network_tokens.c.created_at.desc(), network_tokens.c.id.desc())
    .limit(1)
    .scalar_subquery()
)


def _labelled(table: Any, prefix: str) -> list[Any]:
    return [column.label(prefix + column.name) for column in table.c]


def _chain(start: Any, *joins: tuple[Any, Any]) -> Select[Any]:
    tables = [start, *(table for table, _ in joins)]
    columns = [*_labelled(_ii, "i_"), *_labelled(_tk, "t_")]
    if _pi in tables:
        columns += _labelled(_pi, "p_")
    if start is customers:
        columns += [
            customers.c.deleted_at.label("c_deleted_at"),
            customers.c.default_payment_instrument_id.label("c_default"),
        ]
    source = start
    for table, condition in joins:
        source = source.outerjoin(table, condition)
    return select(*columns).select_from(source)


_TOKEN_JOIN = (_tk, _tk.c.id == _newest_token)
_BY_CUSTOMER = _chain(
    customers,
    (_pi, _pi.c.id == customers.c.default_payment_instrument_id),
    (_ii, _ii.c.id == _pi.c.instrument_identifier_id),
    _TOKEN_JOIN,
).where(customers.c.id == bindparam("id"), customers.c.merchant_id == bindparam("merchant"))
_BY_PAYMENT_INSTRUMENT = _chain(
    _pi, (_ii, _ii.c.id == _pi.c.instrument_identifier_id), _TOKEN_JOIN
).where(_pi.c.id == bindparam("id"), _pi.c.merchant_id == bindparam("merchant"))
_BY_INSTRUMENT_IDENTIFIER = _chain(_ii, _TOKEN_JOIN).where(
    _ii.c.id == bindparam("id"), _ii.c.merchant_id == bindparam("merchant")
)
_BY_TOKEN = _chain(_tk, (_ii, _ii.c.id == _tk.c.instrument_identifier_id)).where(
    and_(_tk.c.id == bindparam("id"), _tk.c.merchant_id == bindparam("merchant"))
)
_QUERIES = {
    "customer": _BY_CUSTOMER,
    "paymentInstrument": _BY_PAYMENT_INSTRUMENT,
    "instrumentIdentifier": _BY_INSTRUMENT_IDENTIFIER,
    "tokenizedCard": _BY_TOKEN,
}


class _Columns:
    """One table's columns out of a joined row, by their unprefixed names."""

    def __init__(self, row: RowMapping, prefix: str, **extra: Any) -> None:
        self._row = row
        self._prefix = prefix
        self._extra = extra

    def __getattr__(self, name: str) -> Any:
        if name in self._extra:
            return self._extra[name]
        return self._row[self._prefix + name]


class SQLCredentialChain:
    def __init__(
        self,
        conn: Connection,
        merchant_id: str,
        instrument_identifiers: SQLInstrumentIdentifierRepository,
        payment_instruments: SQLPaymentInstrumentRepository,
        network_tokens: SQLNetworkTokenRepository,
    ) -> None:
        self._conn = conn
        self._merchant_id = merchant_id
        self._iis = instrument_identifiers
        self._pis = payment_instruments
        self._tokens = network_tokens

    def resolve(self, kind: str, token_id: str) -> Chain | None:
        """The chain starting at ``token_id`` read as a ``kind`` of token, or
        None when no such token exists (another merchant's ids do not)."""
        row = self._conn.execute(
            _QUERIES[kind], {"id": token_id, "merchant": self._merchant_id}
        ).first()
        if row is None:
            return None
        columns = row._mapping
        if kind == "customer":
            if columns["c_deleted_at"] is not None:
                raise NotAvailable()
            if columns["c_default"] is None:
                raise InvalidFields(
                    "The customer has no default payment instrument.",
                    (FieldError("tokenId", "path"),),
                )
        pi = None
        if columns.get("p_id") is not None:
            if columns["p_deleted_at"] is not None:
                raise NotAvailable()
            pi = self._pis._to_domain(
                cast(Any, _Columns(columns, "p_", is_default=kind == "customer"))
            )
        ii = None
        if columns["i_id"] is not None:
            if columns["i_deleted_at"] is not None:
                raise NotAvailable()
            ii = self._iis._to_domain(cast(Any, _Columns(columns, "i_")))
        token = None
        if columns["t_id"] is not None:
            token = self._tokens._to_domain(cast(Any, _Columns(columns, "t_")))
        return Chain(pi, ii, token)
