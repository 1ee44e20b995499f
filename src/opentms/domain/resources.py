"""The vault's entities: instrument identifiers, payment instruments, customers
and shipping addresses.

Identity, ownership, relations, state and version live in typed fields. The
free-form TMS attributes (billing address, buyer information, ...) travel as
``attributes``: a JSON-shaped mapping already validated by the wire schema,
kept as the client sent it (wire names) because the vault only stores and
returns it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from opentms.domain.card import PAN, BankAccount, Brand
from opentms.domain.errors import PreconditionFailed

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


# One element of an If-Match list (RFC 9110 section 5.6.1: empty elements are
# allowed): an optional W/, then a quoted opaque tag or, as an extension, the
# tag without its quotes.
_IF_MATCH_ELEMENT = re.compile(r'[ \t]*(?:(W/)?(?:"([^"]*)"|([^\s",]+)))?[ \t]*(?:,|\Z)')


def check_if_match(if_match: str | None, version: int) -> None:
    """RFC 9110 ``If-Match`` against a resource at ``version``; raises
    :class:`PreconditionFailed` naming the current ETag when it fails.

    Absent or ``*`` always matches, else one of the listed entity tags must be
    the current one. The comparison is strong, as RFC 9110 section 13.1.1
    requires: a weak tag (``W/"3"``) never matches. An unquoted tag (``3``) is
    read as its quoted form (``"3"``): the syntax does not allow it, but some
    clients strip the quotes, and it can mean nothing else.
    """
    if if_match is None or if_match.strip() == "*":
        return
    tags = _entity_tags(if_match)
    if tags is not None and (False, str(version)) in tags:
        return
    if tags is None:
        hint = 'The header is not a list of entity tags such as "1", nor *.'
    elif any(weak for weak, _ in tags):
        hint = (
            'A weak tag (W/"...") never matches: If-Match compares entity tags '
            "strongly (RFC 9110, section 13.1.1); send the ETag as it was received."
        )
    else:
        hint = None
    raise PreconditionFailed(etag(version), hint)


def _entity_tags(header: str) -> list[tuple[bool, str]] | None:
    """(weak, opaque tag without quotes) for each element of an If-Match
    list; None when the header is not such a list."""
    tags: list[tuple[bool, str]] = []
    position = 0
    while position < len(header):
        element = _IF_MATCH_ELEMENT.match(header, position)
        if element is None:
            return None
        weak, quoted, bare = element.groups()
        tag = quoted if quoted is not None else bare
        if tag is not None:
            tags.append((weak is not None, tag))
        position = element.end()
    return tags
