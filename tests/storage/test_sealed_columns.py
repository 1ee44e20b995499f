"""The registries of sealed columns are complete: the merchant-level one
(adapters/storage/sealed_columns.py, what a data-key rotation re-seals) and the
master-level one (adapters/storage/master_keys.py, what a master-key rewrap
re-wraps). A column missing from both would keep values under a key that a
rotation then destroys."""

from __future__ import annotations

from opentms.adapters.storage.master_keys import SEALED_COLUMNS
from opentms.adapters.storage.sealed_columns import MERCHANT_SEALED
from opentms.adapters.storage.tables import metadata

MASTER_SEALED = {(c.table.name, c.column) for c in SEALED_COLUMNS}


def test_every_sealed_or_wrapped_column_is_registered() -> None:
    registered = {(c.table.name, c.name) for c in MERCHANT_SEALED} | MASTER_SEALED
    missing = [
        f"{table.name}.{column.name}"
        for table in metadata.sorted_tables
        for column in table.c
        if column.name.endswith(("_sealed", "_wrapped"))
        and (table.name, column.name) not in registered
    ]
    assert not missing, (
        f"{missing}: add them to sealed_columns.MERCHANT_SEALED (under the merchant's data "
        "key) or master_keys.SEALED_COLUMNS (under the master key)"
    )


def test_registered_columns_exist_and_are_listed_once() -> None:
    registered = [(c.table.name, c.name) for c in MERCHANT_SEALED]
    assert len(set(registered)) == len(registered)
    for column in MERCHANT_SEALED:
        assert "merchant_id" in column.table.c
        assert "id" in column.table.c
        assert column.column is column.table.c[column.name]
    for sealed in SEALED_COLUMNS:
        assert sealed.column in sealed.table.c
    assert not MASTER_SEALED & set(registered)
