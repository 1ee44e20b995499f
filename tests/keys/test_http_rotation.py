"""A server keeps answering across ``keys rotate``, ``rewrap`` and ``retire``:
what it stored before stays readable, what it stores after is sealed under
the new version (its keyring re-reads the versions), and a value tampered
with is refused without a server error."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner
from sqlalchemy import select, update

from opentms.adapters.http.app import create_app
from opentms.adapters.storage.tables import merchant_keys
from opentms.bootstrap import build_services
from opentms.cli import keys as keys_cli
from opentms.cli.main import main
from opentms.config import Settings
from tests.conftest import client_for
from tests.support import Merchant, backend_database_url


@pytest.fixture(autouse=True)
def no_settle_margin(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(keys_cli, "SETTLE_MARGIN_SECONDS", 0.0)


class Vault:
    def __init__(self, root: Path, url: str | None) -> None:
        self.settings = Settings(
            data_dir=root, database_url=url, mode="vault", key_refresh_seconds=0
        )
        self.environment = {
            "OPENTMS_DATA_DIR": str(root),
            "OPENTMS_MODE": "vault",
            "OPENTMS_KEY_REFRESH_SECONDS": "0",
            **({"OPENTMS_DATABASE_URL": url} if url else {}),
        }

    def keys(self, *args: str) -> str:
        result = CliRunner().invoke(main, ["keys", *args], env=self.environment)
        assert result.exit_code == 0, result.output
        return result.output

    def by_column(self, version: int) -> dict[str, int]:
        document: list[dict[str, Any]] = json.loads(self.keys("status", "--json"))
        return next(v["byColumn"] for v in document if v["version"] == version)


@pytest.fixture
def vault(tmp_path: Path) -> Iterator[Vault]:
    with backend_database_url("opentms_keys_http") as url:
        yield Vault(tmp_path, url)


def _customer_with_card(client: httpx.Client, number: str) -> str:
    customer = client.post("/tms/v2/customers", json={"buyerInformation": {}})
    assert customer.status_code == 201, customer.text
    customer_id: str = customer.json()["id"]
    card = {"expirationMonth": "12", "expirationYear": "2031", "type": "001"}
    body = {"card": card, "instrumentIdentifier": {"card": {"number": number}}}
    created = client.post(f"/tms/v2/customers/{customer_id}/payment-instruments", json=body)
    assert created.status_code == 201, created.text
    return customer_id


def _still_served(client: httpx.Client, customer_id: str) -> None:
    assert client.get(f"/tms/v2/customers/{customer_id}").status_code == 200
    instruments = client.get(f"/tms/v2/customers/{customer_id}/payment-instruments")
    assert instruments.status_code == 200
    body = {"paymentCredentialType": "CRYPTOGRAM"}
    credentials = client.post(f"/tms/v2/tokens/{customer_id}/payment-credentials", json=body)
    assert credentials.status_code == 201, credentials.text


def test_a_server_keeps_answering_across_a_rotation(vault: Vault) -> None:
    services = build_services(vault.settings)
    try:
        merchant = Merchant(services.merchants.register("m1"))
        with client_for(create_app(services), merchant) as client:
            before = _customer_with_card(client, "4111111111111111")
            vault.keys("rotate")
            _still_served(client, before)
            after = _customer_with_card(client, "4622943127013705")
            # The server sealed the new network token's key under version 2.
            assert vault.by_column(2).get("network_tokens.master_key_sealed") == 1
            vault.keys("rewrap")
            assert vault.by_column(1) == {}
            _still_served(client, before)
            vault.keys("retire", "1")
            for customer_id in (before, after):
                _still_served(client, customer_id)
            _customer_with_card(client, "4895370017256311")
    finally:
        services.close()


def test_a_tampered_shared_secret_is_an_authentication_failure(vault: Vault) -> None:
    services = build_services(vault.settings)
    try:
        merchant = Merchant(services.merchants.register("m1"))
        database_engine = services_engine(vault)
        with database_engine.begin() as conn:
            material = conn.execute(
                select(merchant_keys.c.material).where(merchant_keys.c.kind == "http_signature")
            ).scalar_one()
            tampered = bytes(material[:1]) + b"\xde\xad\xbe\xef" + bytes(material[5:])
            conn.execute(
                update(merchant_keys)
                .where(merchant_keys.c.kind == "http_signature")
                .values(material=tampered)
            )
        database_engine.dispose()
        services.merchants.forget_cached()
        with client_for(create_app(services), merchant) as client:
            answer = client.get("/tms/v2/customers/0000")
        assert answer.status_code == 401, answer.text
    finally:
        services.close()


def services_engine(vault: Vault) -> Any:
    from sqlalchemy import create_engine

    return create_engine(vault.settings.resolved_database_url)
