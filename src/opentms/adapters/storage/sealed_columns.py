"""Every column sealed under a merchant's data key, with its sealing context.

The one list a data-key rotation re-seals (``data_keys.py``) and a shredding
leaves as unreadable ciphertext; the repositories seal with the same context
functions, so the two cannot disagree. ``tests/storage/test_sealed_columns.py``
fails when a sealed or wrapped column is in neither this list nor the
master key's (``master_keys.SEALED_COLUMNS``, which a master-key rewrap
re-wraps).

A context here is the per-column part: :class:`~opentms.crypto.keyring.
MerchantKeys` prefixes it with the merchant id.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import Column, Table

from opentms.adapters.storage.tables import (
    customers,
    instrument_identifiers,
    network_tokens,
    payment_instruments,
    shipping_addresses,
    webhook_keys,
)


def attributes_context(label: str, resource_id: str) -> str:
    """A resource's sealed attributes (``MerchantScopedTable`` labels)."""
    return f"{label}:{resource_id}"


def instrument_context(ii_id: str) -> str:
    """An instrument identifier's card or bank account number."""
    return f"instrumentIdentifier:{ii_id}:instrument"


def token_number_context(token_id: str) -> str:
    """A network token's number."""
    return f"networkToken:{token_id}"


def token_card_context(token_id: str) -> str:
    """The card behind a network token (migration 0004 wrote the same string)."""
    return f"networkTokenCard:{token_id}"


def webhook_key_context(key_id: str) -> str:
    """A webhook signing key's secret."""
    return f"webhookKey:{key_id}"


@dataclass(frozen=True)
class SealedColumn:
    """A column of a merchant's table sealed under its data key; rows are
    found by ``id`` and owned by ``merchant_id``."""

    table: Table
    name: str
    context: Callable[[str], str]

    @property
    def column(self) -> Column[bytes]:
        return self.table.c[self.name]

    def __str__(self) -> str:
        return f"{self.table.name}.{self.name}"


def _attributes(table: Table, label: str) -> SealedColumn:
    return SealedColumn(
        table, "attributes_sealed", lambda resource_id: attributes_context(label, resource_id)
    )


MERCHANT_SEALED: tuple[SealedColumn, ...] = (
    SealedColumn(instrument_identifiers, "instrument_sealed", instrument_context),
    _attributes(instrument_identifiers, "instrumentIdentifier"),
    _attributes(payment_instruments, "paymentInstrument"),
    _attributes(customers, "customer"),
    _attributes(shipping_addresses, "shippingAddress"),
    SealedColumn(network_tokens, "number_sealed", token_number_context),
    SealedColumn(network_tokens, "card_sealed", token_card_context),
    SealedColumn(webhook_keys, "key_sealed", webhook_key_context),
)
