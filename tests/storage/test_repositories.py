from __future__ import annotations

import secrets
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.exc import IntegrityError

from opentms.adapters.storage import migrate
from opentms.adapters.storage.database import SQLUnitOfWork, make_engine
from opentms.adapters.storage.merchants import SQLMerchantStore
from opentms.adapters.storage.tables import customers, instrument_identifiers, payment_instruments
from opentms.crypto.keyring import Keyring, MerchantKeys
from opentms.crypto.keys import MasterKey
from opentms.crypto.network_secrets import NetworkSecrets
from opentms.domain import ids
from opentms.domain.card import PAN, BankAccount
from opentms.domain.errors import DecryptionFailed, NotAvailable, NotFound, PreconditionFailed
from opentms.domain.merchant import MerchantRecord, Profile
from opentms.domain.resources import Customer, InstrumentIdentifier, PaymentInstrument

NOW = datetime(2026, 11, 24, 14, 54, 45, 829758, tzinfo=UTC)
PAN_A = "4622943127013705"
PAN_B = "5555555555554444"
ATTRIBUTES = {
    "type": "enrollable card",
    "processingInformation": {
        "authorizationOptions": {
            "initiator": {"merchantInitiatedTransaction": {"previousTransactionId": "Lovelace42"}}
        }
    },
}


@dataclass
class Vault:
    engine: Engine
    a: MerchantKeys
    b: MerchantKeys
    path: Path | None

    def uow(self, keys: MerchantKeys, readonly: bool = False) -> SQLUnitOfWork:
        secrets = NetworkSecrets(Keyring([MasterKey(bytes(32))]), bytes(range(32)))
        return SQLUnitOfWork(self.engine, secrets, keys, readonly)

    def raw(self, table: Any, resource_id: str) -> Any:
        with self.engine.connect() as connection:
            return connection.execute(select(table).where(table.c.id == resource_id)).one()


def _register(engine: Engine, keyring: Keyring, merchant_id: str) -> MerchantKeys:
    wrapped = keyring.new_merchant_keys(merchant_id)
    profile_id = ids.new_token_id()[:8] + "-0000-4000-8000-000000000000"
    SQLMerchantStore(engine).add_merchant(
        MerchantRecord(merchant_id, wrapped, profile_id),
        Profile(profile_id, merchant_id, "default", True),
        [],
        NOW,
    )
    return keyring.open(merchant_id, wrapped)


def _vault(engine: Engine, path: Path | None) -> Vault:
    migrate.upgrade(engine)
    keyring = Keyring([MasterKey(secrets.token_bytes(32))])
    return Vault(
        engine,
        _register(engine, keyring, "merchant_a"),
        _register(engine, keyring, "merchant_b"),
        path,
    )


@pytest.fixture
def sqlite_vault(tmp_path: Path) -> Iterator[Vault]:
    path = tmp_path / "vault.db"
    engine = make_engine(f"sqlite:///{path}")
    yield _vault(engine, path)
    engine.dispose()


@pytest.fixture(
    params=[
        pytest.param("sqlite", id="sqlite"),
        pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
    ]
)
def vault(request: pytest.FixtureRequest) -> Vault:
    if request.param == "sqlite":
        return request.getfixturevalue("sqlite_vault")  # type: ignore[no-any-return]
    return _vault(request.getfixturevalue("postgres_engine"), None)


def make_ii(
    keys: MerchantKeys, number: str = PAN_A, attributes: dict[str, Any] | None = None
) -> InstrumentIdentifier:
    return InstrumentIdentifier(
        id=ids.new_instrument_identifier_id(),
        merchant_id=keys.merchant_id,
        fingerprint=keys.fingerprint("card", number),
        instrument=PAN.parse(number),
        attributes=ATTRIBUTES if attributes is None else attributes,
        created_at=NOW,
    )


def store(vault: Vault, ii: InstrumentIdentifier, keys: MerchantKeys | None = None) -> bool:
    with vault.uow(keys or vault.a) as uow:
        added = uow.instrument_identifiers.add(ii)
        uow.commit()
    return added


def test_add_then_get_round_trip(vault: Vault) -> None:
    ii = make_ii(vault.a)
    assert store(vault, ii)
    with vault.uow(vault.a, readonly=True) as uow:
        fetched = uow.instrument_identifiers.get(ii.id)
    assert fetched == ii
    assert fetched.instrument.reveal() == PAN_A
    assert fetched.created_at == NOW
    assert fetched.created_at.utcoffset() == timedelta(0)
    assert fetched.version == 1
    assert fetched.state == "ACTIVE"


def test_bank_account_round_trip(vault: Vault) -> None:
    account = BankAccount.parse("987654321012", "071923284")
    ii = replace(
        make_ii(vault.a),
        instrument=account,
        fingerprint=vault.a.fingerprint("bank", "071923284:987654321012"),
    )
    assert store(vault, ii)
    with vault.uow(vault.a) as uow:
        fetched = uow.instrument_identifiers.get(ii.id)
    assert isinstance(fetched.instrument, BankAccount)
    assert fetched.instrument.reveal() == "987654321012"
    assert fetched.instrument.routing_number == "071923284"
    assert vault.raw(instrument_identifiers, ii.id).kind == "bank"


def test_sealed_columns_hold_no_plaintext(vault: Vault) -> None:
    ii = make_ii(vault.a)
    store(vault, ii)
    row = vault.raw(instrument_identifiers, ii.id)
    for column in (row.instrument_sealed, row.attributes_sealed):
        blob = bytes(column)
        assert blob[0] == 1
        assert blob[1:5] == vault.a.data_key.key_id
        assert PAN_A.encode() not in blob
        assert b"Lovelace42" not in blob
        assert b"enrollable" not in blob
    assert bytes(row.fingerprint) == vault.a.fingerprint("card", PAN_A)
    assert len(bytes(row.fingerprint)) == 32


def test_database_files_hold_no_card_number(sqlite_vault: Vault) -> None:
    vault = sqlite_vault
    assert vault.path is not None
    ii = make_ii(vault.a)
    store(vault, ii)
    with vault.uow(vault.a) as uow:
        uow.customers.add(
            Customer(ids.new_token_id(), "merchant_a", {"buyerInformation": {"email": PAN_B}}, NOW)
        )
        uow.commit()
    files = [p for p in vault.path.parent.iterdir() if p.name.startswith(vault.path.name)]
    assert vault.path in files
    content = b"".join(p.read_bytes() for p in files)
    assert ii.id.encode() in content  # the scan does see the data written
    for secret in (PAN_A, PAN_B, "Lovelace42"):
        assert secret.encode() not in content
        assert secret.encode("utf-16-le") not in content


def test_a_row_moved_to_another_id_does_not_open(vault: Vault) -> None:
    first, second = make_ii(vault.a), make_ii(vault.a, PAN_B)
    store(vault, first)
    store(vault, second)
    sealed = vault.raw(instrument_identifiers, first.id).instrument_sealed
    with vault.engine.begin() as connection:
        connection.execute(
            instrument_identifiers.update()
            .where(instrument_identifiers.c.id == second.id)
            .values(instrument_sealed=sealed)
        )
    with vault.uow(vault.a) as uow, pytest.raises(DecryptionFailed):
        uow.instrument_identifiers.get(second.id)


def test_same_card_twice_is_not_added_and_the_transaction_stays_usable(vault: Vault) -> None:
    first = make_ii(vault.a)
    assert store(vault, first)
    duplicate = make_ii(vault.a)
    other = make_ii(vault.a, PAN_B)
    with vault.uow(vault.a) as uow:
        assert uow.instrument_identifiers.add(duplicate) is False
        assert uow.instrument_identifiers.add(other) is True
        found = uow.instrument_identifiers.find_by_fingerprint(duplicate.fingerprint)
        assert found is not None
        assert found.id == first.id
        uow.commit()
    with vault.uow(vault.a) as uow:
        assert uow.instrument_identifiers.get(first.id) == first
        assert uow.instrument_identifiers.get(other.id) == other
        with pytest.raises(NotFound):
            uow.instrument_identifiers.get(duplicate.id)


def test_same_card_twice_in_one_transaction(vault: Vault) -> None:
    first, duplicate = make_ii(vault.a), make_ii(vault.a)
    with vault.uow(vault.a) as uow:
        assert uow.instrument_identifiers.add(first)
        assert not uow.instrument_identifiers.add(duplicate)
        uow.commit()
    with vault.uow(vault.a) as uow:
        assert uow.instrument_identifiers.get(first.id) == first


def test_uniqueness_is_per_merchant(vault: Vault) -> None:
    ii_a = make_ii(vault.a)
    # Even an identical fingerprint belongs to another merchant's namespace.
    ii_b = replace(make_ii(vault.b), fingerprint=ii_a.fingerprint)
    assert store(vault, ii_a)
    assert store(vault, ii_b, vault.b)


def test_an_id_collision_is_not_reported_as_the_same_card(vault: Vault) -> None:
    first = make_ii(vault.a)
    store(vault, first)
    clash = replace(make_ii(vault.a, PAN_B), id=first.id)
    with vault.uow(vault.a) as uow, pytest.raises(IntegrityError):
        uow.instrument_identifiers.add(clash)


def test_update_then_stale_version_is_refused(vault: Vault) -> None:
    ii = make_ii(vault.a)
    store(vault, ii)
    with vault.uow(vault.a) as uow:
        current = uow.instrument_identifiers.get(ii.id)
        updated = current.with_attributes({**ATTRIBUTES, "type": "enrollable token"})
        uow.instrument_identifiers.update(updated, current.version)
        uow.commit()
    with vault.uow(vault.a) as uow:
        stored_now = uow.instrument_identifiers.get(ii.id)
        assert stored_now.version == 2
        assert stored_now.attributes["type"] == "enrollable token"
        late = current.with_attributes({**ATTRIBUTES, "type": "late writer"})
        with pytest.raises(PreconditionFailed):
            uow.instrument_identifiers.update(late, current.version)
        # The refused write left the transaction usable and changed nothing.
        assert uow.instrument_identifiers.get(ii.id) == stored_now
        uow.commit()
    with vault.uow(vault.a) as uow:
        assert uow.instrument_identifiers.get(ii.id).attributes["type"] == "enrollable token"


def test_update_of_an_unknown_id_is_refused(vault: Vault) -> None:
    with vault.uow(vault.a) as uow, pytest.raises(PreconditionFailed):
        uow.instrument_identifiers.update(make_ii(vault.a), 1)


def test_removal_leaves_a_tombstone(vault: Vault) -> None:
    ii = make_ii(vault.a)
    store(vault, ii)
    later = NOW + timedelta(hours=1)
    with vault.uow(vault.a) as uow:
        uow.instrument_identifiers.remove(ii.id, later)
        uow.commit()
    with vault.uow(vault.a) as uow:
        with pytest.raises(NotAvailable):
            uow.instrument_identifiers.get(ii.id)
        assert uow.instrument_identifiers.find_by_fingerprint(ii.fingerprint) is None
        with pytest.raises(PreconditionFailed):
            uow.instrument_identifiers.update(ii.with_attributes({}), ii.version)
    row = vault.raw(instrument_identifiers, ii.id)
    assert row.instrument_sealed is None
    assert row.attributes_sealed is None
    assert row.fingerprint is None
    assert row.state == "CLOSED"
    assert row.deleted_at == later
    # The card can be stored again, under a new id.
    again = make_ii(vault.a)
    assert store(vault, again)
    with vault.uow(vault.a) as uow:
        assert uow.instrument_identifiers.get(again.id).instrument.reveal() == PAN_A


def test_another_merchant_sees_nothing(vault: Vault) -> None:
    ii = make_ii(vault.a)
    store(vault, ii)
    with vault.uow(vault.b) as uow:
        with pytest.raises(NotFound):
            uow.instrument_identifiers.get(ii.id)
        assert uow.instrument_identifiers.find_by_fingerprint(ii.fingerprint) is None
        with pytest.raises(PreconditionFailed):
            uow.instrument_identifiers.update(ii.with_attributes({}), ii.version)
        uow.instrument_identifiers.remove(ii.id, NOW)
        uow.commit()
    with vault.uow(vault.a) as uow:
        assert uow.instrument_identifiers.get(ii.id) == ii


def test_leaving_without_commit_rolls_back(vault: Vault) -> None:
    ii = make_ii(vault.a)
    customer = Customer(ids.new_token_id(), "merchant_a", {"objectInformation": {}}, NOW)
    with vault.uow(vault.a) as uow:
        assert uow.instrument_identifiers.add(ii)
        uow.customers.add(customer)
        assert uow.instrument_identifiers.get(ii.id) == ii
    with vault.uow(vault.a) as uow:
        with pytest.raises(NotFound):
            uow.instrument_identifiers.get(ii.id)
        with pytest.raises(NotFound):
            uow.customers.get(customer.id)
    with vault.engine.connect() as connection:
        assert connection.execute(select(instrument_identifiers)).all() == []


def test_an_exception_in_the_block_rolls_back(vault: Vault) -> None:
    ii = make_ii(vault.a)

    def add_then_fail() -> None:
        with vault.uow(vault.a) as uow:
            uow.instrument_identifiers.add(ii)
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        add_then_fail()
    with vault.uow(vault.a) as uow, pytest.raises(NotFound):
        uow.instrument_identifiers.get(ii.id)


def test_customer_and_payment_instrument_round_trip(vault: Vault) -> None:
    ii = make_ii(vault.a)
    store(vault, ii)
    customer = Customer(
        ids.new_token_id(), "merchant_a", {"buyerInformation": {"email": "ada@example.com"}}, NOW
    )
    pis = [
        PaymentInstrument(
            ids.new_token_id(),
            "merchant_a",
            ii.id,
            {"card": {"expirationMonth": "12", "expirationYear": "2031"}, "n": n},
            NOW + timedelta(seconds=n),
            customer_id=customer.id,
        )
        for n in range(3)
    ]
    with vault.uow(vault.a) as uow:
        uow.customers.add(customer)
        for pi in pis:
            uow.payment_instruments.add(pi)
        uow.customers.update(
            replace(customer, default_payment_instrument_id=pis[2].id), customer.version
        )
        uow.commit()
    with vault.uow(vault.a, readonly=True) as uow:
        fetched = uow.customers.get(customer.id)
        assert fetched.attributes == customer.attributes
        assert fetched.default_payment_instrument_id == pis[2].id
        assert fetched.version == 2
        assert uow.payment_instruments.get(pis[2].id) == replace(pis[2], is_default=True)
        assert uow.payment_instruments.get(pis[0].id) == pis[0]
        page = uow.payment_instruments.list_for_customer(customer.id, pis[2].id, 0, 10)
        assert [pi.id for pi in page.items] == [pis[2].id, pis[0].id, pis[1].id]
        assert page.total == 3
        assert uow.payment_instruments.count_for_instrument_identifier(ii.id) == 3
    with vault.uow(vault.b) as uow:
        with pytest.raises(NotFound):
            uow.customers.get(customer.id)
        with pytest.raises(NotFound):
            uow.payment_instruments.get(pis[0].id)
        assert uow.payment_instruments.count_for_instrument_identifier(ii.id) == 0
    for table, resource_id in ((customers, customer.id), (payment_instruments, pis[0].id)):
        blob = bytes(vault.raw(table, resource_id).attributes_sealed)
        assert b"ada@example.com" not in blob
        assert b"2031" not in blob


def test_customer_removal_leaves_a_tombstone(vault: Vault) -> None:
    customer = Customer(ids.new_token_id(), "merchant_a", {"objectInformation": {}}, NOW)
    with vault.uow(vault.a) as uow:
        uow.customers.add(customer)
        uow.commit()
    with vault.uow(vault.a) as uow:
        uow.customers.remove(customer.id, NOW)
        uow.commit()
    with vault.uow(vault.a) as uow, pytest.raises(NotAvailable):
        uow.customers.get(customer.id)
    assert vault.raw(customers, customer.id).attributes_sealed is None
