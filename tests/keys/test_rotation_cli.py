"""``opentms keys rotate / rewrap / status / retire`` end to end, on the
test backend (SQLite, or PostgreSQL in its pass) and with SoftHSM2."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from pydantic import SecretStr
from sqlalchemy import select, update

from opentms.adapters.storage.master_keys import MasterKeyAdmin
from opentms.adapters.storage.merchants import store_previous_data_keys
from opentms.adapters.storage.tables import audit_log, merchants, registry_epoch
from opentms.bootstrap import Database, build_services, open_database
from opentms.cli import keys as keys_cli
from opentms.cli.main import main
from opentms.config import Settings
from opentms.crypto.envelope import sealed_key_id
from opentms.crypto.keyring import Keyring
from opentms.crypto.keys import DataKey
from tests.keys.conftest import SoftHSM
from tests.support import backend_database_url

CARD = b"4111111111111111"


@dataclass
class Install:
    """A vault with merchants, and what their keys sealed before any rotation."""

    settings: Settings
    environment: dict[str, str]
    sealed: dict[str, bytes]  # merchant id -> CARD sealed under its data key

    def database(self) -> Database:
        return open_database(self.settings)

    def keys(self, *args: str) -> Result:
        return CliRunner().invoke(main, ["keys", *args], env=self.environment)

    def status(self) -> list[dict[str, Any]]:
        result = self.keys("status", "--json")
        assert result.exit_code == 0, result.output
        document: list[dict[str, Any]] = json.loads(result.output)
        return document

    def values(self, version: int) -> int:
        return sum(v["values"] for v in self.status() if v["version"] == version)

    def check_readable(self) -> None:
        """A fresh process opens every merchant's keys and what they sealed."""
        database = self.database()
        try:
            keyring = database.keyring
            for merchant_id, sealed in self.sealed.items():
                keys = _merchant_keys(database, keyring, merchant_id)
                assert keys.unseal(sealed, "test") == CARD
        finally:
            database.close()


def _merchant_keys(database: Database, keyring: Keyring, merchant_id: str) -> Any:
    from opentms.adapters.storage.merchants import SQLMerchantStore

    record = SQLMerchantStore(database.engine).find_merchant(merchant_id)
    assert record is not None
    return keyring.open(merchant_id, record.wrapped_keys)


@pytest.fixture(autouse=True)
def no_settle_margin(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests retire right after a rotation (the refresh interval is 0 here)."""
    monkeypatch.setattr(keys_cli, "SETTLE_MARGIN_SECONDS", 0.0)


def _install(root: Path, url: str | None, extra: dict[str, str], merchants_count: int) -> Install:
    environment = {
        "OPENTMS_DATA_DIR": str(root),
        "OPENTMS_KEY_REFRESH_SECONDS": "0",
        "OPENTMS_MODE": "vault",
        **extra,
    }
    if url:
        environment["OPENTMS_DATABASE_URL"] = url
    given: dict[str, Any] = {
        name.removeprefix("OPENTMS_").lower(): value
        for name, value in extra.items()
        if name.startswith("OPENTMS_")
    }
    settings = Settings(
        data_dir=root, database_url=url, key_refresh_seconds=0, mode="vault", **given
    )
    services = build_services(settings)
    sealed = {}
    try:
        for n in range(merchants_count):
            services.merchants.register(f"m{n}")
    finally:
        services.close()
    database = open_database(settings)
    try:
        for n in range(merchants_count):
            sealed[f"m{n}"] = _merchant_keys(database, database.keyring, f"m{n}").seal(CARD, "test")
        # One merchant in the middle of a data-key rotation: an earlier data key too.
        old = database.keyring.wrap_data_key("m0", DataKey.generate())
        with database.engine.begin() as conn:
            conn.execute(
                update(merchants)
                .where(merchants.c.id == "m0")
                .values(previous_data_keys=store_previous_data_keys((old,)))
            )
    finally:
        database.close()
    return Install(settings, environment, sealed)


@pytest.fixture
def install(tmp_path: Path) -> Iterator[Install]:
    with backend_database_url("opentms_keys") as url:
        yield _install(tmp_path, url, {}, 5)


def test_rotate_rewrap_status_retire(install: Install) -> None:
    database = install.database()
    with database.engine.connect() as conn:
        epoch = conn.execute(select(registry_epoch.c.epoch)).scalar_one()
    database.close()
    (v1,) = install.status()
    assert (v1["version"], v1["state"], v1["provider"]) == (1, "newest", "file")
    before = v1["values"]
    assert v1["byColumn"]["merchants.previous_data_keys"] == 1

    result = install.keys("rotate")
    assert result.exit_code == 0, result.output
    assert "master key version 2" in result.output

    refused = install.keys("retire", "1")
    assert refused.exit_code == 1
    assert f"{before} value(s) are still sealed under version 1" in refused.output

    result = install.keys("rewrap", "--batch", "2")
    assert result.exit_code == 0, result.output
    assert f"rewrap done: {before} value(s) re-wrapped to v2" in result.output
    assert install.values(1) == 0
    assert install.values(2) == before

    refused = install.keys("retire", "2")
    assert refused.exit_code == 1
    assert "is the newest" in refused.output

    result = install.keys("retire", "1")
    assert result.exit_code == 0, result.output
    states = {v["version"]: v["state"] for v in install.status()}
    assert states == {1: "retired", 2: "newest"}
    key_file = (install.settings.data_dir / "master.key").read_text()
    assert not any(line.startswith("v1:") for line in key_file.splitlines())
    install.check_readable()

    database = install.database()
    with database.engine.connect() as conn:
        actions = list(conn.execute(select(audit_log.c.action, audit_log.c.details)))
        assert conn.execute(select(registry_epoch.c.epoch)).scalar_one() > epoch
    database.close()
    # The vault's audit log also holds the merchants' registrations.
    names = [action for action, _ in actions if action.startswith("keys.")]
    assert names[0] == "keys.rotate"
    assert names[-1] == "keys.retire"
    assert "keys.rewrap" in names
    # No entry holds key material: only ids and counts.
    assert all("keyId" in (details or "") for action, details in actions if action in names)


def test_a_shredded_merchant_holds_no_version_back(install: Install) -> None:
    """A shredded merchant's wrapped keys are empty: status counts nothing of
    them, rewrap has nothing of them to open, and retire is not refused."""
    shredded = CliRunner().invoke(
        main, ["merchants", "delete", "m1", "--shred", "--yes"], env=install.environment
    )
    assert shredded.exit_code == 0, shredded.output
    (v1,) = install.status()
    assert v1["byColumn"]["merchants.data_key_wrapped"] == 4
    assert install.keys("rotate").exit_code == 0
    result = install.keys("rewrap")
    assert result.exit_code == 0, result.output
    assert install.values(1) == 0
    retired = install.keys("retire", "1")
    assert retired.exit_code == 0, retired.output
    del install.sealed["m1"]
    install.check_readable()


def test_a_second_rewrap_has_nothing_to_do(install: Install) -> None:
    assert install.keys("rotate").exit_code == 0
    assert install.keys("rewrap").exit_code == 0
    again = install.keys("rewrap")
    assert again.exit_code == 0
    assert "rewrap done: 0 value(s)" in again.output


def test_rewrap_resumes_after_an_interruption(
    install: Install, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert install.keys("rotate").exit_code == 0
    before = install.values(1)
    real = MasterKeyAdmin.rewrap_batch
    calls = 0

    def crashing(self: MasterKeyAdmin, *args: Any, **kwargs: Any) -> Any:
        nonlocal calls
        calls += 1
        if calls == 3:
            raise RuntimeError("the machine went away")
        return real(self, *args, **kwargs)

    monkeypatch.setattr(MasterKeyAdmin, "rewrap_batch", crashing)
    crashed = install.keys("rewrap", "--batch", "1")
    assert crashed.exit_code != 0
    left = install.values(1)
    assert 0 < left < before  # two batches committed, the third did not
    monkeypatch.setattr(MasterKeyAdmin, "rewrap_batch", real)

    result = install.keys("rewrap", "--batch", "1")
    assert result.exit_code == 0, result.output
    assert f"rewrap done: {left} value(s)" in result.output
    assert install.values(1) == 0
    install.check_readable()


def test_a_writer_racing_the_rewrap_loses_nothing(
    install: Install, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A server that has not re-read the versions yet replaces m1's wrapped
    data key (under the old version) between the rewrap's read and its
    update: the update does not overwrite it, and the next pass moves it."""
    stale_database = install.database()
    stale = Keyring(stale_database.keyring.provider, refresh_seconds=3600)
    assert install.keys("rotate").exit_code == 0
    replacement = DataKey.generate()
    real = Keyring.reseal
    raced = threading.Event()

    def reseal(self: Keyring, sealed: bytes, context: str) -> bytes | None:
        if context == "data-key\x00m1" and not raced.is_set():
            raced.set()
            with stale_database.engine.begin() as conn:
                conn.execute(
                    update(merchants)
                    .where(merchants.c.id == "m1")
                    .values(data_key_wrapped=stale.wrap_data_key("m1", replacement))
                )
        return real(self, sealed, context)

    monkeypatch.setattr(Keyring, "reseal", reseal)
    result = install.keys("rewrap")
    stale_database.close()
    assert result.exit_code == 0, result.output
    assert "1 changed meanwhile" in result.output
    assert raced.is_set()
    assert install.values(1) == 0
    database = install.database()
    try:
        keys = _merchant_keys(database, database.keyring, "m1")
        assert keys.data_key.reveal() == replacement.reveal()
    finally:
        database.close()


def test_concurrent_registrations_during_rewrap_are_all_kept(install: Install) -> None:
    """Merchants registered by a server still sealing under the old version
    while the rewrap runs: every one opens, and a second rewrap moves them."""
    services = build_services(install.settings)
    services.merchants._keyring = Keyring(
        services.merchants._keyring.provider,
        refresh_seconds=3600,
    )
    assert install.keys("rotate").exit_code == 0
    done = threading.Event()
    registered: list[str] = []

    def writer() -> None:
        n = 0
        while not done.is_set() and n < 40:
            services.merchants.register(f"late{n}")
            registered.append(f"late{n}")
            n += 1

    thread = threading.Thread(target=writer)
    thread.start()
    first = install.keys("rewrap", "--batch", "3")
    done.set()
    thread.join()
    services.close()
    assert first.exit_code == 0, first.output
    assert install.keys("rewrap").exit_code == 0
    assert install.values(1) == 0
    database = install.database()
    try:
        for merchant_id in registered:
            keys = _merchant_keys(database, database.keyring, merchant_id)
            assert sealed_key_id(keys.seal(CARD, "x"))  # opened
    finally:
        database.close()
    install.check_readable()


def test_a_tampered_wrapped_key_is_reported_not_rewrapped(install: Install) -> None:
    database = install.database()
    with database.engine.begin() as conn:
        wrapped = conn.execute(
            select(merchants.c.data_key_wrapped).where(merchants.c.id == "m2")
        ).scalar_one()
        tampered = bytes(wrapped[:-1]) + bytes([wrapped[-1] ^ 1])
        conn.execute(
            update(merchants).where(merchants.c.id == "m2").values(data_key_wrapped=tampered)
        )
    database.close()
    assert install.keys("rotate").exit_code == 0
    result = install.keys("rewrap")
    assert result.exit_code == 1
    assert "1 value(s) could not be opened" in result.output
    refused = install.keys("retire", "1")
    assert refused.exit_code == 1
    assert "1 value(s) are still sealed under version 1" in refused.output


def test_env_provider_rotation_is_the_operators(tmp_path: Path) -> None:
    import base64
    import secrets

    first = base64.b64encode(secrets.token_bytes(32)).decode()
    second = base64.b64encode(secrets.token_bytes(32)).decode()
    with backend_database_url("opentms_keys") as url:
        env = {"OPENTMS_KEY_PROVIDER": "env", "OPENTMS_MASTER_KEYS": f"v1:{first}"}
        install = _install(tmp_path, url, env, 2)
        refused = install.keys("rotate")
        assert refused.exit_code == 1
        assert "Append ',v2:'" in refused.output
        both = f"v1:{first},v2:{second}"
        install.environment["OPENTMS_MASTER_KEYS"] = both
        install.settings = install.settings.model_copy(update={"master_keys": SecretStr(both)})
        assert install.keys("rewrap").exit_code == 0
        refused = install.keys("retire", "1")
        assert refused.exit_code == 1
        assert "Remove v1 from OPENTMS_MASTER_KEYS" in refused.output
        only = f"v2:{second}"
        install.environment["OPENTMS_MASTER_KEYS"] = only
        install.settings = install.settings.model_copy(update={"master_keys": SecretStr(only)})
        result = install.keys("retire", "1")
        assert result.exit_code == 0, result.output
        assert {v["version"]: v["state"] for v in install.status()} == {1: "retired", 2: "newest"}
        install.check_readable()


def test_pkcs11_rotation_end_to_end(softhsm: SoftHSM, tmp_path: Path) -> None:

    with backend_database_url("opentms_keys") as url:
        env = {k: v for k, v in softhsm.environment().items() if k.startswith("OPENTMS_")}
        install = _install(tmp_path, url, env, 3)
        install.settings = install.settings.model_copy(
            update={"pkcs11_pin": SecretStr(softhsm.pin)}
        )
        assert install.keys("rotate").exit_code == 0
        result = install.keys("rewrap")
        assert result.exit_code == 0, result.output
        result = install.keys("retire", "1")
        assert result.exit_code == 0, result.output
        status = install.status()
        assert [(v["version"], v["state"], v["provider"]) for v in status] == [
            (1, "retired", "pkcs11"),
            (2, "newest", "pkcs11"),
        ]
        install.check_readable()
