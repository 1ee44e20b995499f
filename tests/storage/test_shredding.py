"""Crypto-shredding (``opentms merchants delete M --shred``) proven the hard
way: with the master key file in hand, every raw row of every table is read
and every sealed value of the shredded merchant is tried with every key the
master key reaches; none opens, and no card number, BIN-and-last-four run or
expiry is anywhere in the stored bytes. On the suite's backend."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from opentms.adapters.keys.local import load_or_create_master_keys
from opentms.adapters.storage.sealed_columns import MERCHANT_SEALED
from opentms.adapters.storage.tables import (
    instrument_identifiers,
    merchant_keys,
    metadata,
    network_tokens,
    server_keys,
    webhook_notifications,
    webhook_subscriptions,
)
from opentms.cli.main import main
from opentms.crypto.envelope import sealed_key_id, unseal
from opentms.crypto.keyring import Keyring, MerchantKeys
from opentms.crypto.keys import DataKey, SymmetricKey
from opentms.domain.errors import DecryptionFailed
from opentms.domain.merchant import WrappedKeys
from opentms.services.merchants import AlreadyRegistered
from tests.storage.vault_support import (
    Vault,
    merchant_row,
    open_vault,
    populate,
    read_back,
    sealed_values,
)
from tests.support import stored_bytes
from tests.webhooks.api.conftest import Receiver, create_webhook
from tests.webhooks.api.conftest import receiver as receiver  # the fixture

EXPIRY = ("12", "2031")  # every card of tests.api.factories


@pytest.fixture
def vault(tmp_path: Path) -> Iterator[Vault]:
    with open_vault(tmp_path, webhook_allowed_destinations="127.0.0.1") as opened:
        yield opened


def cli(vault: Vault, *args: str, stdin: str | None = None) -> Any:
    settings = vault.database.settings
    env = {"OPENTMS_MODE": "vault"}
    if settings.database_url:
        env["OPENTMS_DATABASE_URL"] = settings.database_url
    return CliRunner().invoke(
        main, [*args, f"--data-dir={settings.data_dir}"], input=stdin, env=env
    )


def keys_of(vault: Vault, merchant_id: str) -> MerchantKeys:
    row = merchant_row(vault.database, merchant_id)
    wrapped = WrappedKeys(bytes(row.data_key_wrapped), bytes(row.fingerprint_key_wrapped))
    return vault.database.keyring.open(merchant_id, wrapped)


def reachable_keys(vault: Vault) -> list[SymmetricKey]:
    """Every key the master key file opens, read afresh from the file and the
    raw rows: the master keys, every 32-byte server secret, and every data and
    fingerprint key still wrapped in the merchants table."""
    masters = load_or_create_master_keys(vault.database.settings.resolved_master_key_file)
    keyring = Keyring(masters)
    keys: list[SymmetricKey] = list(masters)
    with vault.database.engine.connect() as conn:
        for row in conn.execute(select(server_keys)):
            secret = keyring.unseal(bytes(row.secret_sealed), f"server-key\x00{row.name}")
            if len(secret) == 32:
                keys.append(DataKey(secret))
        for row in conn.execute(select(metadata.tables["merchants"])):
            for column, purpose in (
                ("data_key_wrapped", "data-key"),
                ("fingerprint_key_wrapped", "fingerprint-key"),
            ):
                wrapped = getattr(row, column)
                if wrapped:  # a shredded merchant's are empty
                    key = keyring.unseal(bytes(wrapped), f"{purpose}\x00{row.id}")
                    keys.append(DataKey(key))
            assert row.previous_data_keys is None
    return keys


def every_envelope(vault: Vault) -> Iterator[tuple[str, bytes]]:
    """Every byte value of every row of every table that could be a sealed value."""
    with vault.database.engine.connect() as conn:
        for table in metadata.sorted_tables:
            for row in conn.execute(select(table)):
                for column, value in row._mapping.items():
                    if isinstance(value, bytes | memoryview) and bytes(value)[:1] == b"\x01":
                        yield f"{table.name}.{column}", bytes(value)


def test_nothing_of_a_shredded_merchant_can_be_decrypted(vault: Vault, receiver: Receiver) -> None:
    merchant, other = vault.register("shred_m"), vault.register("shred_n")
    with vault.client(merchant) as client, vault.client(other) as other_client:
        create_webhook(client, receiver.url)  # before the cards: their events queue
        held = populate(client, merchant, cards=3)
        other_held = populate(other_client, other)
        keys = keys_of(vault, merchant.id)
        wrapped_before = bytes(merchant_row(vault.database, merchant.id).data_key_wrapped)
        values = sealed_values(vault.database, merchant.id)
        # The proof below can see a readable value: before, every one opens.
        assert {c for c, _ in values} == {str(c) for c in MERCHANT_SEALED}
        contexts = {str(c): c.context for c in MERCHANT_SEALED}
        for (column, row_id), value in values.items():
            keys.unseal(value, contexts[column](row_id))
        with vault.database.engine.connect() as conn:
            assert (
                conn.execute(
                    select(webhook_notifications.c.status).where(
                        webhook_notifications.c.merchant_id == merchant.id
                    )
                )
                .scalars()
                .all()
            )

        done = cli(vault, "merchants", "delete", merchant.id, "--shred", "--yes")
        assert done.exit_code == 0, done.output
        assert f"{merchant.id} shredded" in done.output

        # Its credentials are refused at once; the other merchant works.
        assert client.get(held.paths[0]).status_code == 401
        read_back(other_client, other_held)

    # A dispatcher's round neither sends nor fails over M's notifications:
    # they ended with the shredding, and nothing of M can be signed.
    dispatcher = vault.services.dispatcher
    assert dispatcher is not None
    attempts_before = len(receiver.posts())
    dispatcher.run_once()
    assert len(receiver.posts()) == attempts_before

    # The tombstone: the rows are there, their values unreadable.
    assert sealed_values(vault.database, merchant.id).keys() == values.keys()
    row = merchant_row(vault.database, merchant.id)
    assert row.shredded_at is not None
    assert (bytes(row.data_key_wrapped), bytes(row.fingerprint_key_wrapped)) == (b"", b"")
    reachable = reachable_keys(vault)
    reachable_ids = {key.key_id for key in reachable}
    assert keys.data_key.key_id not in reachable_ids
    for (column, row_id), value in sealed_values(vault.database, merchant.id).items():
        assert sealed_key_id(value) not in reachable_ids
        context = f"{merchant.id}\x00{contexts[column](row_id)}".encode()
        for key in reachable:
            with pytest.raises(DecryptionFailed):
                unseal([key], value, context)
    # Whatever else is sealed in the database, none of it opens to anything of M.
    opened = 0
    for _where, value in every_envelope(vault):
        for key in reachable:
            if sealed_key_id(value) == key.key_id:
                opened += 1
    assert opened  # the other merchant's values and the server's keys do
    with vault.database.engine.connect() as conn:
        assert not conn.execute(
            select(merchant_keys).where(merchant_keys.c.merchant_id == merchant.id)
        ).all()
        tokens = conn.execute(
            select(network_tokens).where(network_tokens.c.merchant_id == merchant.id)
        ).all()
        assert tokens
        for token in tokens:
            assert token.number_index is None
            assert token.master_key_sealed is None
            assert token.expiration_year is None
            assert token.details == "{}"
        for ii in conn.execute(
            select(instrument_identifiers).where(
                instrument_identifiers.c.merchant_id == merchant.id
            )
        ):
            assert ii.network_index is None
            assert ii.fingerprint is None
        assert set(
            conn.execute(
                select(webhook_subscriptions.c.status).where(
                    webhook_subscriptions.c.merchant_id == merchant.id
                )
            ).scalars()
        ) == {"INACTIVE"}
        assert set(
            conn.execute(
                select(webhook_notifications.c.status).where(
                    webhook_notifications.c.merchant_id == merchant.id
                )
            ).scalars()
        ) <= {"FAILED", "DELIVERED"}

    # No card of M in clear anywhere (the SQLite files, their log included).
    raw = stored_bytes(vault.database)
    for pan in held.pans:
        for run in (pan, pan[:6] + pan[-4:], pan[:6] + "X" * (len(pan) - 10) + pan[-4:]):
            assert run.encode() not in raw
    assert b'"expirationYear":"2031"' not in raw
    assert f"{EXPIRY[0]}/{EXPIRY[1][2:]}".encode() not in raw
    if vault.database.settings.database_url is None:
        # Not even a stale page or log frame keeps the wrapped key.
        assert wrapped_before not in raw


def test_a_shredded_merchant_cannot_be_registered_again_and_is_listed_so(vault: Vault) -> None:
    merchant = vault.register("shred_again")
    assert cli(vault, "merchants", "delete", merchant.id, "--shred", "--yes").exit_code == 0
    with pytest.raises(AlreadyRegistered, match="was shredded"):
        vault.services.merchants.register(merchant.id)
    listed = cli(vault, "merchants", "list", "--json")
    assert listed.exit_code == 0, listed.output
    entry = next(m for m in json.loads(listed.output) if m["merchantId"] == merchant.id)
    assert entry["shreddedAt"]
    assert entry["keyIds"] == []
    table = cli(vault, "merchants", "list")
    assert f"{merchant.id} (shredded)" in table.output
    again = cli(vault, "merchants", "delete", merchant.id, "--shred", "--yes")
    assert again.exit_code == 1
    assert "was shredded" in again.output
    rotate = cli(vault, "merchants", "rotate-data-key", merchant.id)
    assert rotate.exit_code == 1
    assert "was shredded" in rotate.output


def test_delete_without_shred_is_refused_and_shredding_asks_first(vault: Vault) -> None:
    merchant = vault.register("shred_ask")
    plain = cli(vault, "merchants", "delete", merchant.id)
    assert plain.exit_code == 2
    assert "only by crypto-shredding" in plain.output
    declined = cli(vault, "merchants", "delete", merchant.id, "--shred", stdin="n\n")
    assert declined.exit_code == 1
    no_stdin = cli(vault, "merchants", "delete", merchant.id, "--shred")
    assert no_stdin.exit_code == 1
    assert merchant_row(vault.database, merchant.id).shredded_at is None
    unknown = cli(vault, "merchants", "delete", "nobody", "--shred", "--yes")
    assert unknown.exit_code == 1
    assert "No merchant 'nobody'" in unknown.output
