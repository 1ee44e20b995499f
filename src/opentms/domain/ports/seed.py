"""The port seed files need besides the vault's: ids are unique across all
merchants, which a merchant's own unit of work cannot see."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Literal, Protocol

# The kinds of rows a seed file may give fixed ids.
IdKind = Literal[
    "profiles", "instrumentIdentifiers", "customers", "shippingAddresses", "paymentInstruments"
]


class IdOwners(Protocol):
    def owners(self, kind: IdKind, ids: Collection[str]) -> Mapping[str, str]:
        """``{id: merchant id}`` of the ``ids`` stored as ``kind`` (deleted
        ones included), whichever merchant they belong to."""
        ...
