"""POST /opentms/v1/sandbox/reset: everything, merchants too, or one merchant;
idempotent; seen at once by every worker of a real server."""

from __future__ import annotations

import collections
import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from starlette.applications import Starlette

from opentms.adapters.http.app import create_app
from opentms.adapters.http.routes.sandbox.state import parse_reset
from opentms.adapters.storage.tables import server_keys
from opentms.bootstrap import Database, Services, build_services, open_database
from opentms.client import ASGIAppTransport
from opentms.domain.errors import InvalidFields
from opentms.domain.ports import ResetScope
from tests.api.tokens_support import new_merchant, signed_client
from tests.conftest import make_settings
from tests.sandbox.state_support import (
    Vault,
    add_fault,
    add_journal_entry,
    client,
    fault_count,
    fill,
    journal_merchants,
    merchant,
    served,
    statuses,
)
from tests.support import Merchant

VAULT_TABLES = {
    "token_transactions",
    "network_tokens",
    "payment_instruments",
    "shipping_addresses",
    "customers",
    "instrument_identifiers",
}
ALL = [200, 200, 200, 200, 200]
NONE = [404, 404, 404, 404, 404]
__all__ = ["client", "merchant"]  # fixtures


def reset(admin_client: httpx.Client, body: dict[str, Any]) -> dict[str, Any]:
    response = admin_client.post("/reset", json=body)
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()["reset"]
    return answer


def test_reset_empties_the_vault_and_keeps_the_merchant(
    admin_client: httpx.Client, client: httpx.Client, merchant: Merchant
) -> None:
    vault = fill(client, merchant)
    assert statuses(client, vault) == ALL
    answer = reset(admin_client, {})
    assert answer["merchantId"] is None
    assert answer["includeMerchants"] is False
    deleted = answer["deleted"]
    assert set(deleted) >= VAULT_TABLES
    assert {"merchants", "profiles", "merchant_keys"}.isdisjoint(deleted)
    assert all(deleted[table] >= 1 for table in VAULT_TABLES), deleted
    assert statuses(client, vault) == NONE
    # The merchant authenticates right after, and stores again.
    assert client.post("/tms/v2/customers", json={}).status_code == 201


def test_reset_is_idempotent(
    admin_client: httpx.Client, client: httpx.Client, merchant: Merchant
) -> None:
    fill(client, merchant)
    reset(admin_client, {})
    again = reset(admin_client, {})
    assert set(again["deleted"].values()) == {0}


def test_reset_clears_journal_faults_and_clock(
    admin_client: httpx.Client, sandbox_database: Database
) -> None:
    engine = sandbox_database.engine
    add_journal_entry(engine, "someone")
    add_fault(engine)
    admin_client.post("/clock", json={"advance": "P30D"}).raise_for_status()
    deleted = reset(admin_client, {})["deleted"]
    assert deleted["sandbox_journal"] >= 1
    assert deleted["sandbox_faults"] == 1
    assert journal_merchants(engine) == []
    assert fault_count(engine) == 0
    assert admin_client.get("/clock").json()["offsetSeconds"] == 0.0


def test_a_reset_keeps_the_servers_keys_and_can_remove_merchants(
    admin_client: httpx.Client,
    client: httpx.Client,
    merchant: Merchant,
    sandbox_database: Database,
) -> None:
    fill(client, merchant)
    keys_before = _server_key_count(sandbox_database)
    answer = reset(admin_client, {"includeMerchants": True})
    assert answer["includeMerchants"] is True
    assert answer["deleted"]["merchants"] >= 1
    assert answer["deleted"]["merchant_keys"] >= 1
    assert answer["deleted"]["profiles"] >= 1
    response = client.post("/tms/v2/customers", json={})
    assert response.status_code == 401, response.text
    assert _server_key_count(sandbox_database) == keys_before


def _server_key_count(database: Database) -> int:
    with database.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(server_keys)).scalar_one())


def test_a_merchants_reset_leaves_the_others_data(
    admin_client: httpx.Client,
    sandbox_app: Starlette,
    sandbox_services: Services,
    sandbox_database: Database,
) -> None:
    reset(admin_client, {})
    first, second = (new_merchant(sandbox_services, name) for name in ("first", "second"))
    with signed_client(sandbox_app, first) as one, signed_client(sandbox_app, second) as two:
        vaults: dict[str, tuple[httpx.Client, Vault]] = {
            first.id: (one, fill(one, first)),
            second.id: (two, fill(two, second)),
        }
        for merchant_id in vaults:
            add_journal_entry(sandbox_database.engine, merchant_id)
        # The requests that filled the vaults are in the journal too.
        journalled = collections.Counter(journal_merchants(sandbox_database.engine))
        assert journalled[first.id] > 1
        answer = reset(admin_client, {"merchantId": first.id})
        assert answer["merchantId"] == first.id
        assert answer["deleted"]["network_tokens"] >= 1
        assert answer["deleted"]["token_transactions"] == 1
        assert answer["deleted"]["sandbox_journal"] == journalled[first.id]
        remaining = collections.Counter(journal_merchants(sandbox_database.engine))
        assert remaining == {second.id: journalled[second.id]}
        assert statuses(*vaults[first.id]) == NONE
        assert statuses(*vaults[second.id]) == ALL
        # The merchant itself stays.
        assert one.post("/tms/v2/customers", json={}).status_code == 201


def test_an_unknown_merchant_is_a_404_that_deletes_nothing(
    admin_client: httpx.Client, client: httpx.Client, merchant: Merchant
) -> None:
    vault = fill(client, merchant)
    response = admin_client.post("/reset", json={"merchantId": "nobody_here"})
    assert response.status_code == 404
    assert response.json()["errors"][0]["type"] == "notFound"
    assert statuses(client, vault) == ALL


@pytest.mark.parametrize(
    "body",
    [
        {"includeMerchants": "yes"},
        {"includeMerchants": None},
        {"merchantId": ""},
        {"merchantId": 7},
        {"merchantId": "m" * 65},
        {"merchantId": "a\u0000b"},
        {"merchantId": "m\n"},
        {"merchantId": "m", "includeMerchants": True},
        {"everything": True},
        [],
    ],
    ids=str,
)
def test_a_bad_reset_is_a_400_that_deletes_nothing(
    admin_client: httpx.Client, client: httpx.Client, merchant: Merchant, body: Any
) -> None:
    vault = fill(client, merchant)
    response = admin_client.post("/reset", json=body)
    assert response.status_code == 400, response.text
    assert response.json()["errors"][0]["details"]
    assert statuses(client, vault) == ALL


def test_reset_needs_the_admin_token(sandbox_app: Starlette, merchant: Merchant) -> None:
    with signed_client(sandbox_app, merchant) as signed:
        response = signed.post("/opentms/v1/sandbox/reset", json={})
    assert response.status_code == 401


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=70),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner),
    max_leaves=5,
)


@settings(max_examples=300, deadline=None)
@given(
    st.dictionaries(
        st.sampled_from(["includeMerchants", "merchantId", "name", ""]) | st.text(max_size=8),
        _json,
        max_size=3,
    )
)
def test_the_reset_parser_answers_a_scope_or_a_400(body: dict[str, Any]) -> None:
    try:
        scope = parse_reset(body)
    except InvalidFields as exc:
        details = exc.details
        scope = None
    if scope is None:
        assert details
        return
    assert set(body) <= {"includeMerchants", "merchantId"}
    assert scope == ResetScope(
        merchant_id=body.get("merchantId"), include_merchants=body.get("includeMerchants", False)
    )


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=40) | _json.map(lambda value: json.dumps(value).encode()))
def test_any_reset_body_is_answered_without_a_server_error(
    sandbox_app: Starlette, admin_token: str, body: bytes
) -> None:
    if b"includeMerchants" in body:
        return  # Would wipe the merchants of the other tests of this module.
    with httpx.Client(
        transport=ASGIAppTransport(sandbox_app),
        base_url="http://testserver/opentms/v1/sandbox",
        headers={"authorization": f"Bearer {admin_token}", "content-type": "application/json"},
    ) as admin:
        response = admin.post("/reset", content=body)
    assert response.status_code in (200, 400, 404), response.text


# Another process ---------------------------------------------------------------


def test_a_reset_is_seen_at_once_by_every_worker(tmp_path: Path) -> None:
    with served(tmp_path) as (url, token, database):
        _reset_through_a_server(url, token, database)


def _reset_through_a_server(url: str, token: str, database: Database) -> None:
    services = build_services(database.settings, database=database)
    merchant = Merchant(services.merchants.register("workers_merchant"))
    with (
        httpx.Client(base_url=url, auth=merchant.signature_auth(), timeout=30) as client,
        httpx.Client(
            base_url=f"{url}/opentms/v1/sandbox",
            headers={"authorization": f"Bearer {token}"},
            timeout=30,
        ) as admin,
    ):
        vault = fill(client, merchant)
        # New connections each time, so that both workers answer.
        for _ in range(10):
            with httpx.Client(base_url=url, auth=merchant.signature_auth(), timeout=30) as fresh:
                assert statuses(fresh, vault) == ALL
        assert admin.post("/reset", json={}).status_code == 200
        for _ in range(20):
            with httpx.Client(base_url=url, auth=merchant.signature_auth(), timeout=30) as fresh:
                assert statuses(fresh, vault) == NONE
        assert admin.post("/reset", json={"includeMerchants": True}).status_code == 200
        for _ in range(20):
            with httpx.Client(base_url=url, auth=merchant.signature_auth(), timeout=30) as fresh:
                assert fresh.post("/tms/v2/customers", json={}).status_code == 401


def test_a_reset_leaves_every_pooled_connection_with_its_checks(
    admin_client: httpx.Client, client: httpx.Client, merchant: Merchant, sandbox_database: Database
) -> None:
    """SQLite resets run without foreign-key checks and secure delete
    (database.wholesale_transaction); the connection goes back to the pool
    with both as they were."""
    engine = sandbox_database.engine
    if engine.dialect.name != "sqlite":
        pytest.skip("SQLite connection settings")
    with engine.connect() as conn:
        secure_delete = conn.exec_driver_sql("PRAGMA secure_delete").scalar_one()
    fill(client, merchant)
    reset(admin_client, {})
    # Read transactions (BEGIN DEFERRED), so that the four can be open at once.
    connections = [engine.connect().execution_options(opentms_readonly=True) for _ in range(4)]
    try:
        for conn in connections:
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar_one() == 1
            assert conn.exec_driver_sql("PRAGMA secure_delete").scalar_one() == secure_delete
    finally:
        for conn in connections:
            conn.close()


def test_a_vault_has_no_reset_and_no_snapshots(tmp_path: Path) -> None:
    database = open_database(make_settings(tmp_path, mode="vault"))
    services = build_services(database.settings, database=database)
    try:
        assert services.sandbox is None
        with httpx.Client(
            transport=ASGIAppTransport(create_app(services)),
            base_url="http://testserver/opentms/v1/sandbox",
            headers={"authorization": "Bearer any-token-at-all-0123456789"},
        ) as admin:
            assert admin.post("/reset", json={}).status_code == 404
            assert admin.post("/snapshots", json={"name": "x"}).status_code == 404
            assert admin.get("/snapshots").status_code == 404
            assert admin.post("/snapshots/x/restore").status_code == 404
    finally:
        services.close()
