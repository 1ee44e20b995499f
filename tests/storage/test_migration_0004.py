"""Migration 0004 on a database written before it (issue 9, finding 5): the
card expiry kept in clear in ``network_tokens.details`` is sealed under the
merchant's data key, and a downgrade puts it back."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import orjson
import pytest
from sqlalchemy import Engine, text

from opentms.adapters.storage import migrate
from opentms.adapters.storage.database import make_engine
from opentms.crypto.keyring import Keyring
from opentms.crypto.keys import MasterKey
from opentms.domain.merchant import WrappedKeys

CARD = {"suffix": "1111", "expirationMonth": "07", "expirationYear": "2047"}
DETAILS = {
    "token_reference_id": "DNITHE0000000000000000000000001",
    "enrollment_id": "E1",
    "payment_account_reference": "V0010000000000000000000000001",
    "requestor_id": "40000000001",
    "card_art_revision": 0,
    "card": CARD,
    "metadata": {},
}


@pytest.fixture
def sqlite_engine(tmp_path: Path) -> Iterator[Engine]:
    engine = make_engine(f"sqlite:///{tmp_path / 'opentms.db'}")
    yield engine
    engine.dispose()


def _old_database(engine: Engine, keyring: Keyring) -> None:
    """A merchant and a network token as revision 0003 stored them."""
    migrate.upgrade(engine, "0003")
    wrapped = keyring.new_merchant_keys("m1")
    now = datetime.now(UTC).replace(tzinfo=None)
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO merchants (id, data_key_wrapped, fingerprint_key_wrapped,"
                " default_profile_id, created_at) VALUES ('m1', :dk, :fk, 'p1', :now)"
            ),
            {"dk": wrapped.data_key, "fk": wrapped.fingerprint_key, "now": now},
        )
        connection.execute(
            text(
                "INSERT INTO network_tokens (id, merchant_id, network, state, source,"
                " expiration_month, expiration_year, details, atc, version, created_at,"
                " updated_at) VALUES ('t1', 'm1', 'visa', 'ACTIVE', 'ONFILE', '11', '2029',"
                " :details, 3, 1, :now, :now)"
            ),
            {"details": orjson.dumps(DETAILS).decode(), "now": now},
        )


def _row(engine: Engine) -> tuple[dict[str, object], bytes | None]:
    with engine.connect() as connection:
        details, sealed = connection.execute(
            text("SELECT details, card_sealed FROM network_tokens WHERE id = 't1'")
        ).one()
    return orjson.loads(details), None if sealed is None else bytes(sealed)


def _check(engine: Engine) -> None:
    keyring = Keyring([MasterKey.generate()])
    _old_database(engine, keyring)

    # Sealing needs the master key: without it the upgrade changes nothing.
    with pytest.raises(RuntimeError, match="master key"):
        migrate.upgrade(engine)
    assert migrate.current_revision(engine) == "0003"

    migrate.upgrade(engine, keyring=lambda: keyring)
    assert migrate.current_revision(engine) == migrate.head_revision(engine)
    details, sealed = _row(engine)
    assert "card" not in details
    assert details["token_reference_id"] == DETAILS["token_reference_id"]
    assert sealed is not None
    assert b"2047" not in sealed
    with engine.begin() as connection:
        wrapped = connection.execute(
            text("SELECT data_key_wrapped, fingerprint_key_wrapped FROM merchants")
        ).one()
    keys = keyring.open("m1", WrappedKeys(bytes(wrapped[0]), bytes(wrapped[1])))
    assert orjson.loads(keys.unseal(sealed, "networkTokenCard:t1")) == CARD

    migrate.downgrade(engine, "0003", keyring=lambda: keyring)
    with engine.connect() as connection:
        (details,) = connection.execute(
            text("SELECT details FROM network_tokens WHERE id = 't1'")
        ).one()
    assert orjson.loads(details) == DETAILS


def test_migration_0004_seals_existing_card_expiry_on_sqlite(sqlite_engine: Engine) -> None:
    _check(sqlite_engine)


@pytest.mark.postgres
def test_migration_0004_seals_existing_card_expiry_on_postgres(postgres_engine: Engine) -> None:
    _check(postgres_engine)
