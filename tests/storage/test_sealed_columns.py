"""The registry of merchant-sealed columns (adapters/storage/sealed_columns.py)
is complete: a data-key rotation that missed a column would leave its values
under a key it then destroys."""

from __future__ import annotations

from opentms.adapters.storage.sealed_columns import MASTER_SEALED, MERCHANT_SEALED
from opentms.adapters.storage.tables import metadata


def test_every_sealed_column_of_a_merchants_table_is_registered() -> None:
    registered = {(c.table.name, c.name) for c in MERCHANT_SEALED}
    missing = [
        f"{table.name}.{column.name}"
        for table in metadata.sorted_tables
        if "merchant_id" in table.c
        for column in table.c
        if column.name.endswith("_sealed")
        and (table.name, column.name) not in registered | MASTER_SEALED
    ]
    assert not missing, (
        f"{missing}: add them to MERCHANT_SEALED (under the merchant's data key) "
        "or MASTER_SEALED (under the master key)"
    )


def test_registered_columns_exist_and_are_listed_once() -> None:
    registered = [(c.table.name, c.name) for c in MERCHANT_SEALED]
    assert len(set(registered)) == len(registered)
    for column in MERCHANT_SEALED:
        assert "merchant_id" in column.table.c
        assert "id" in column.table.c
        assert column.column is column.table.c[column.name]
    assert not MASTER_SEALED & set(registered)
