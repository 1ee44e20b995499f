"""A merchant's data-key rotation (services/data_keys.py), in process, on the
suite's backend: every value moves to the new key, reads work before, during
and after, the same card keeps its instrument identifier, a crash resumes,
the old key is kept through the grace period, and other merchants are left
alone."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from opentms.adapters.storage.sealed_columns import MERCHANT_SEALED
from opentms.adapters.storage.tables import audit_log
from opentms.bootstrap import data_key_store
from opentms.cli.main import main
from opentms.crypto.keyring import Keyring
from opentms.domain.audit import cli_actor
from opentms.domain.merchant import WrappedKeys
from opentms.services.data_keys import DataKeyRotation, TooEarly
from opentms.services.tenancy import SystemClock
from tests.storage.vault_support import (
    Vault,
    key_ids,
    merchant_row,
    open_vault,
    populate,
    read_back,
    sealed_values,
)
from tests.support import Merchant

ACTOR = cli_actor("test")


@pytest.fixture
def vault(tmp_path: Path) -> Iterator[Vault]:
    with open_vault(tmp_path) as opened:
        yield opened


def current_key_id(vault: Vault, merchant_id: str) -> bytes:
    row = merchant_row(vault.database, merchant_id)
    keyring: Keyring = vault.database.keyring
    wrapped = WrappedKeys(bytes(row.data_key_wrapped), bytes(row.fingerprint_key_wrapped))
    return keyring.open(merchant_id, wrapped).data_key.key_id


def rotation(vault: Vault, grace: timedelta = timedelta(0), batch: int = 500) -> DataKeyRotation:
    return DataKeyRotation(data_key_store(vault.database), SystemClock(), grace, batch)


def test_every_value_moves_to_the_new_key_and_reads_throughout(vault: Vault) -> None:
    merchant, other = vault.register("dk_m"), vault.register("dk_n")
    with vault.client(merchant) as client, vault.client(other) as other_client:
        held = populate(client, merchant, cards=3)
        other_held = populate(other_client, other)
        other_before = sealed_values(vault.database, other.id)
        old_key = current_key_id(vault, merchant.id)
        assert key_ids(vault.database, merchant.id) == {old_key}
        store = data_key_store(vault.database)

        started = store.start_rotation(merchant.id, ACTOR, SystemClock().now())
        assert not started.resumed
        new_key = current_key_id(vault, merchant.id)
        assert new_key != old_key
        read_back(client, held)  # nothing re-sealed yet: old values open
        # Half way: one batch of one column.
        first = store.columns()[0]
        batch = store.reseal_batch(merchant.id, first, None, 2)
        assert batch.resealed == 2
        assert key_ids(vault.database, merchant.id) == {old_key, new_key}
        read_back(client, held)
        assert sum(store.remaining(merchant.id).values()) > 0

        result = rotation(vault).rotate(merchant.id, ACTOR)
        assert result.resumed
        assert result.finished
        read_back(client, held)
        read_back(other_client, other_held)

    assert key_ids(vault.database, merchant.id) == {new_key}
    assert merchant_row(vault.database, merchant.id).previous_data_keys is None
    assert sum(store.remaining(merchant.id).values()) == 0
    # The other merchant's values are the very same bytes.
    assert sealed_values(vault.database, other.id) == other_before


def test_a_rotation_that_failed_half_way_resumes(
    vault: Vault, monkeypatch: pytest.MonkeyPatch
) -> None:
    merchant = vault.register("dk_crash")
    with vault.client(merchant) as client:
        held = populate(client, merchant, cards=4)
        old_key = current_key_id(vault, merchant.id)
        store = data_key_store(vault.database)
        real = store.reseal_batch
        calls = 0

        def failing(*args: object, **kwargs: object) -> object:
            nonlocal calls
            calls += 1
            if calls == 3:
                raise RuntimeError("the process died here")
            return real(*args, **kwargs)  # type: ignore[arg-type]

        monkeypatch.setattr(store, "reseal_batch", failing)
        interrupted = DataKeyRotation(store, SystemClock(), timedelta(0), 1)
        with pytest.raises(RuntimeError):
            interrupted.rotate(merchant.id, ACTOR)
        new_key = current_key_id(vault, merchant.id)
        assert key_ids(vault.database, merchant.id) == {old_key, new_key}
        read_back(client, held)

        lines: list[str] = []
        result = rotation(vault, batch=1).rotate(merchant.id, ACTOR, lines.append)
        assert result.resumed
        assert result.finished
        assert any(line.startswith("resuming") for line in lines)
        # The second run went on with the key the first one made.
        assert current_key_id(vault, merchant.id) == new_key
        assert key_ids(vault.database, merchant.id) == {new_key}
        read_back(client, held)


def test_the_previous_key_is_kept_through_the_grace_period(vault: Vault) -> None:
    merchant = vault.register("dk_grace")
    with vault.client(merchant) as client:
        held = populate(client, merchant)
        store = data_key_store(vault.database)
        early = rotation(vault, grace=timedelta(hours=1)).rotate(merchant.id, ACTOR, wait=False)
        assert not early.finished
        assert early.not_before is not None
        # Every value moved, yet the old key stays until the grace ends.
        assert len(key_ids(vault.database, merchant.id)) == 1
        assert merchant_row(vault.database, merchant.id).previous_data_keys is not None
        with pytest.raises(TooEarly):
            store.finish_rotation(merchant.id, ACTOR, SystemClock().now(), timedelta(hours=1))
        read_back(client, held)

        done = rotation(vault).rotate(merchant.id, ACTOR)
        assert done.resumed
        assert done.finished
        assert merchant_row(vault.database, merchant.id).previous_data_keys is None
        read_back(client, held)


def test_a_value_written_with_the_old_key_during_the_grace_is_moved_too(vault: Vault) -> None:
    """A request that loaded the keys before the rotation started writes
    with the old key: the finish counts it and one more pass moves it."""
    merchant = vault.register("dk_late")
    with vault.client(merchant) as client:
        held = populate(client, merchant)
        before = merchant_row(vault.database, merchant.id)
        old_keys = vault.database.keyring.open(
            merchant.id,
            WrappedKeys(bytes(before.data_key_wrapped), bytes(before.fingerprint_key_wrapped)),
        )
        store = data_key_store(vault.database)
        assert (
            not rotation(vault, grace=timedelta(hours=1))
            .rotate(merchant.id, ACTOR, wait=False)
            .finished
        )
        # The late writer: a value sealed under the old key, as a request
        # holding it would have written it.
        (column, row_id), _ = next(iter(sealed_values(vault.database, merchant.id).items()))
        sealed = next(c for c in MERCHANT_SEALED if str(c) == column)
        plaintext_keys = vault.database.keyring.open(
            merchant.id,
            WrappedKeys(
                bytes(merchant_row(vault.database, merchant.id).data_key_wrapped),
                bytes(before.fingerprint_key_wrapped),
            ),
        )
        value = sealed_values(vault.database, merchant.id)[(column, row_id)]
        rewritten = old_keys.seal(
            plaintext_keys.unseal(value, sealed.context(row_id)), sealed.context(row_id)
        )
        with vault.database.engine.begin() as conn:
            conn.execute(
                sealed.table.update()
                .where(sealed.table.c.id == row_id)
                .values({sealed.name: rewritten})
            )
        assert store.remaining(merchant.id)[column] == 1

        lines: list[str] = []
        assert rotation(vault).rotate(merchant.id, ACTOR, lines.append).finished
        assert any("1 re-sealed" in line for line in lines)
        assert key_ids(vault.database, merchant.id) == {plaintext_keys.data_key.key_id}
        read_back(client, held)


def test_the_audit_log_records_the_start_and_the_finish(vault: Vault) -> None:
    merchant: Merchant = vault.register("dk_audit")
    assert rotation(vault).rotate(merchant.id, ACTOR).finished
    with vault.database.engine.connect() as conn:
        rows = conn.execute(
            select(audit_log.c.action, audit_log.c.actor, audit_log.c.details)
            .where(audit_log.c.action == "merchant.rotateDataKey")
            .order_by(audit_log.c.seq)
        ).all()
    assert [row.actor for row in rows] == [ACTOR, ACTOR]
    assert '"phase":"start"' in rows[0].details
    assert '"phase":"finish"' in rows[1].details


def test_the_command_stops_within_the_grace_and_resumes_when_run_again(vault: Vault) -> None:
    merchant = vault.register("dk_cli")
    settings = vault.database.settings
    env = {"OPENTMS_MODE": "vault"}
    if settings.database_url:
        env["OPENTMS_DATABASE_URL"] = settings.database_url

    def run(*options: str) -> Any:
        arguments = ["merchants", "rotate-data-key", merchant.id, *options]
        return CliRunner().invoke(main, [*arguments, f"--data-dir={settings.data_dir}"], env=env)

    with vault.client(merchant) as client:
        held = populate(client, merchant)
        first = run("--grace-seconds=3600", "--no-wait")
        assert first.exit_code == 0, first.output
        assert "new data key" in first.output
        assert "run the command again after that to destroy it" in first.output
        second = run("--grace-seconds=0")
        assert second.exit_code == 0, second.output
        assert "resuming the rotation started at" in second.output
        assert "data key rotated" in second.output
        assert merchant_row(vault.database, merchant.id).previous_data_keys is None
        read_back(client, held)
    unknown = CliRunner().invoke(
        main,
        ["merchants", "rotate-data-key", "nobody", f"--data-dir={settings.data_dir}"],
        env=env,
    )
    assert unknown.exit_code == 1
    assert "No merchant 'nobody' is registered" in unknown.output
