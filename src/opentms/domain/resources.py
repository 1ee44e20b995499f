"""The vault's entities: instrument identifiers, payment instruments, customers
and shipping addresses.

Identity, ownership, relations, state and version live in typed fields. The
free-form TMS attributes (billing address, buyer information, ...) travel as
``attributes``: a JSON-shaped mapping already validated by the wire schema,
kept as the client sent it (wire names) because the vault only stores and
returns it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from opentms.domain.card import PAN, BankAccount, Brand

JSON = Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class InstrumentIdentifier:
    id: str
    merchant_id: str
    fingerprint: bytes
    instrument: PAN | BankAccount
    attributes: JSON
    created_at: datetime
    state: str = "ACTIVE"
    version: int = 1

    @property
    def brand(self) -> Brand:
        if isinstance(self.instrument, PAN):
            return self.instrument.brand
        return Brand.UNKNOWN

    def with_attributes(self, attributes: JSON) -> InstrumentIdentifier:
        return replace(self, attributes=attributes, version=self.version + 1)


@dataclass(frozen=True, slots=True)
class PaymentInstrument:
    id: str
    merchant_id: str
    instrument_identifier_id: str
    attributes: JSON
    created_at: datetime
    customer_id: str | None = None
    is_default: bool = False
    state: str = "ACTIVE"
    version: int = 1


@dataclass(frozen=True, slots=True)
class Customer:
    id: str
    merchant_id: str
    attributes: JSON
    created_at: datetime
    default_payment_instrument_id: str | None = None
    default_shipping_address_id: str | None = None
    version: int = 1


@dataclass(frozen=True, slots=True)
class ShippingAddress:
    id: str
    merchant_id: str
    customer_id: str
    attributes: JSON
    created_at: datetime
    is_default: bool = False
    version: int = 1


@dataclass(frozen=True, slots=True)
class Page:
    """One page of a list: ``offset``/``limit`` as asked, ``total`` overall."""

    offset: int
    limit: int
    total: int
    items: tuple[Any, ...] = field(default_factory=tuple)


def merge_attributes(current: JSON, patch: JSON) -> dict[str, Any]:
    """TMS PATCH semantics: objects merge recursively, anything else replaces,
    and ``null`` removes the field."""
    merged: dict[str, Any] = dict(current)
    for key, value in patch.items():
        if value is None:
            merged.pop(key, None)
        elif isinstance(value, Mapping):
            existing = merged.get(key)
            merged[key] = merge_attributes(existing if isinstance(existing, Mapping) else {}, value)
        else:
            merged[key] = value
    return merged


def etag(version: int) -> str:
    """The ``ETag`` of a resource at ``version``."""
    return f'"{version}"'


def if_match_allows(if_match: str | None, version: int) -> bool:
    """RFC 9110 ``If-Match``: absent or ``*`` always matches, else one of the
    listed entity tags must be the current one. The comparison is strong, as
    RFC 9110 §13.1.1 requires: a weak tag (``W/"3"``) never matches."""
    if if_match is None or if_match.strip() == "*":
        return True
    current = etag(version)
    return any(candidate.strip() == current for candidate in if_match.split(","))
