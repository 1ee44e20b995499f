from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, inspect, text

from opentms.adapters.storage import migrate
from opentms.adapters.storage.database import make_engine
from opentms.adapters.storage.tables import metadata

VERSION_TABLE = "alembic_version"


def _drift(engine: Engine) -> list[object]:
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return list(compare_metadata(context, metadata))


def _tables(engine: Engine) -> set[str]:
    return set(inspect(engine).get_table_names())


def _check_round_trip(engine: Engine) -> None:
    expected = set(metadata.tables)
    assert expected == {
        "merchants",
        "profiles",
        "merchant_keys",
        "server_keys",
        "instrument_identifiers",
        "customers",
        "payment_instruments",
        "shipping_addresses",
        "network_tokens",
        "token_transactions",
        "used_tokens",
        "sandbox_state",
        "sandbox_journal",
        "sandbox_faults",
        "sandbox_snapshots",
        "webhook_subscriptions",
        "webhook_keys",
        "webhook_events",
        "webhook_notifications",
        "webhook_attempts",
        "registry_epoch",
        "master_key_versions",
        "audit_log",
        "audit_head",
    }
    assert migrate.current_revision(engine) is None
    head = migrate.head_revision(engine)
    assert head is not None

    migrate.upgrade(engine)
    assert migrate.current_revision(engine) == head
    assert _tables(engine) == expected | {VERSION_TABLE}
    assert _drift(engine) == []

    migrate.upgrade(engine)  # a second start finds nothing to do
    assert migrate.current_revision(engine) == head

    migrate.downgrade(engine, "base")
    assert migrate.current_revision(engine) is None
    assert _tables(engine) - {VERSION_TABLE} == set()

    migrate.upgrade(engine)
    assert migrate.current_revision(engine) == head
    assert _drift(engine) == []


def test_migrations_on_sqlite(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'opentms.db'}")
    try:
        assert _tables(engine) == set()
        _check_round_trip(engine)
    finally:
        engine.dispose()


def test_drift_check_detects_a_missing_index(tmp_path: Path) -> None:
    # The comparison used above is able to fail: drop an index the schema
    # declares and it must be reported.
    engine = make_engine(f"sqlite:///{tmp_path / 'opentms.db'}")
    try:
        migrate.upgrade(engine)
        with engine.begin() as connection:
            connection.execute(text("DROP INDEX ix_profiles_merchant_id"))
        drift = _drift(engine)
        assert len(drift) == 1
        assert "ix_profiles_merchant_id" in repr(drift[0])
    finally:
        engine.dispose()


@pytest.mark.postgres
def test_migrations_on_postgres(postgres_engine: Engine) -> None:
    with postgres_engine.connect() as connection:
        schema = connection.execute(text("SELECT current_schema()")).scalar_one()
    assert str(schema).startswith("opentms_test_")
    assert _tables(postgres_engine) == set()
    _check_round_trip(postgres_engine)
