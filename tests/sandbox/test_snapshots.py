"""/opentms/v1/sandbox/snapshots: save, list, read, restore and delete named
snapshots; a restore is atomic and a restored token's ATC goes on."""

from __future__ import annotations

import threading
import zlib
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from starlette.applications import Starlette

from opentms.adapters.http.routes.sandbox.state import (
    SNAPSHOT_NAME,
    parse_snapshot_body,
    parse_snapshot_name,
)
from opentms.adapters.storage.sandbox_snapshots import SNAPSHOT_TABLES
from opentms.adapters.storage.tables import sandbox_snapshots
from opentms.bootstrap import Database, build_services
from opentms.client import ASGIAppTransport
from opentms.domain.errors import InvalidFields
from tests.api.factories import (
    CUSTOMERS,
    customer_addresses,
    make_customer,
    make_customer_payment_instrument,
    make_shipping_address,
)
from tests.api.tokens_support import (
    VISA,
    approved,
    authorize,
    create_ii,
    issue,
    signed_client,
    token_id_of,
)
from tests.sandbox.state_support import client, fill, merchant, served, view
from tests.support import Merchant, make_pan

__all__ = ["client", "merchant"]  # fixtures


@pytest.fixture(autouse=True)
def no_snapshots(admin_client: httpx.Client) -> None:
    for snapshot in admin_client.get("/snapshots").json()["snapshots"]:
        admin_client.delete(f"/snapshots/{snapshot['name']}").raise_for_status()


def save(admin_client: httpx.Client, name: str) -> dict[str, Any]:
    response = admin_client.post("/snapshots", json={"name": name})
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def restore(admin_client: httpx.Client, name: str) -> dict[str, Any]:
    response = admin_client.post(f"/snapshots/{name}/restore")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_a_snapshot_round_trip_brings_back_the_same_resources(
    admin_client: httpx.Client, client: httpx.Client, merchant: Merchant
) -> None:
    vault = fill(client, merchant)
    before = view(client, vault)
    saved = save(admin_client, "round-trip")
    assert saved["name"] == "round-trip"
    assert saved["counts"]["network_tokens"] >= 1
    assert saved["counts"]["customers"] >= 1
    assert set(saved["counts"]) == {str(table.name) for table in SNAPSHOT_TABLES}
    # Change and delete things, and add a customer.
    customer = f"{CUSTOMERS}/{vault.customer_id}"
    patch = {"buyerInformation": {"email": "changed@example.com"}}
    assert client.patch(customer, json=patch).status_code == 200
    address = f"{customer_addresses(vault.customer_id)}/{vault.shipping_address_id}"
    assert client.delete(address).status_code == 204
    added = make_customer(client)["id"]
    assert view(client, vault) != before

    restored = restore(admin_client, "round-trip")
    assert restored["name"] == "round-trip"
    assert restored["counts"] == saved["counts"]
    assert "restoredAt" in restored
    assert view(client, vault) == before
    assert client.get(f"{CUSTOMERS}/{added}").status_code == 404


def test_a_restored_tokens_atc_goes_on_and_its_cryptograms_verify(
    admin_client: httpx.Client, client: httpx.Client, merchant: Merchant
) -> None:
    token_id = token_id_of(create_ii(client, VISA.new_pan()))
    first = issue(client, merchant, token_id)["tokenizedCard"]
    assert authorize(client, first, eci=VISA.eci) == approved(VISA, 1)
    save(admin_client, "atc")
    for atc in (2, 3):
        later = issue(client, merchant, token_id)["tokenizedCard"]
        assert authorize(client, later, eci=VISA.eci) == approved(VISA, atc)
    restore(admin_client, "atc")
    # The snapshot had issued ATC 1: the next credentials take ATC 2 again,
    # and the network verifies the new cryptogram.
    again = issue(client, merchant, token_id)["tokenizedCard"]
    assert again["number"] == first["number"]
    assert authorize(client, again, eci=VISA.eci) == approved(VISA, 2)


def test_a_restore_puts_back_the_clock_offset(admin_client: httpx.Client) -> None:
    admin_client.post("/clock", json={"advance": "P10D"}).raise_for_status()
    save(admin_client, "clock")
    admin_client.delete("/clock").raise_for_status()
    restore(admin_client, "clock")
    assert admin_client.get("/clock").json()["offsetSeconds"] == 10 * 86_400
    admin_client.delete("/clock").raise_for_status()


def test_a_restore_brings_back_a_merchant_reset_removed(
    admin_client: httpx.Client, client: httpx.Client, merchant: Merchant
) -> None:
    vault = fill(client, merchant)
    before = view(client, vault)
    save(admin_client, "merchants")
    admin_client.post("/reset", json={"includeMerchants": True}).raise_for_status()
    assert client.get(vault.paths()[0]).status_code == 401
    restore(admin_client, "merchants")
    assert view(client, vault) == before


def test_snapshots_are_listed_read_and_deleted(admin_client: httpx.Client) -> None:
    first, second = save(admin_client, "first"), save(admin_client, "second.v2")
    listed = admin_client.get("/snapshots").json()["snapshots"]
    assert [s["name"] for s in listed] == ["first", "second.v2"]
    assert admin_client.get("/snapshots/first").json() == first
    assert admin_client.get("/snapshots/second.v2").json() == second
    assert admin_client.delete("/snapshots/first").status_code == 204
    assert admin_client.get("/snapshots/first").status_code == 404
    assert [s["name"] for s in admin_client.get("/snapshots").json()["snapshots"]] == ["second.v2"]


def test_an_existing_name_is_a_409(admin_client: httpx.Client) -> None:
    saved = save(admin_client, "taken")
    response = admin_client.post("/snapshots", json={"name": "taken"})
    assert response.status_code == 409
    assert response.json()["errors"][0]["type"] == "conflict"
    assert admin_client.get("/snapshots/taken").json() == saved


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/snapshots/missing"),
        ("POST", "/snapshots/missing/restore"),
        ("DELETE", "/snapshots/missing"),
    ],
)
def test_an_unknown_name_is_a_404(admin_client: httpx.Client, method: str, path: str) -> None:
    response = admin_client.request(method, path)
    assert response.status_code == 404
    assert response.json()["errors"][0]["type"] == "notFound"


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"name": ""},
        {"name": "x" * 65},
        {"name": "with space"},
        {"name": "slash/name"},
        {"name": "caf\u00e9"},
        {"name": "line\n"},
        {"name": 7},
        {"name": "ok", "extra": 1},
    ],
    ids=str,
)
def test_a_bad_name_is_a_400(admin_client: httpx.Client, body: dict[str, Any]) -> None:
    response = admin_client.post("/snapshots", json=body)
    assert response.status_code == 400, response.text
    assert response.json()["errors"][0]["details"]
    assert admin_client.get("/snapshots").json()["snapshots"] == []


@pytest.mark.parametrize("name", ["x" * 65, "with%20space", "caf%C3%A9", "a%0A"])
@pytest.mark.parametrize("action", ["GET", "DELETE", "RESTORE"])
def test_a_bad_name_in_the_path_is_a_400(
    admin_client: httpx.Client, name: str, action: str
) -> None:
    path = f"/snapshots/{name}" + ("/restore" if action == "RESTORE" else "")
    method = "POST" if action == "RESTORE" else action
    response = admin_client.request(method, path)
    assert response.status_code == 400, response.text
    assert response.json()["errors"][0]["details"] == [{"name": "name", "location": "path"}]


def test_a_snapshot_holds_no_card_data_in_clear(
    admin_client: httpx.Client, client: httpx.Client, sandbox_database: Database
) -> None:
    pan = make_pan("411111")
    create_ii(client, pan)
    save(admin_client, "sealed")
    with sandbox_database.engine.connect() as conn:
        payload = conn.execute(
            select(sandbox_snapshots.c.payload).where(sandbox_snapshots.c.name == "sealed")
        ).scalar_one()
    text = zlib.decompress(payload)
    assert pan.encode() not in text
    assert pan[-4:].encode() + b'"' not in text


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=80))
def test_the_name_parser_takes_exactly_the_documented_names(name: str) -> None:
    valid = SNAPSHOT_NAME.fullmatch(name) is not None
    assert valid == (
        0 < len(name) <= 64 and all(c.isascii() and (c.isalnum() or c in "._-") for c in name)
    )
    for parse in (parse_snapshot_name, lambda value: parse_snapshot_body({"name": value})):
        try:
            parsed: str | None = parse(name)
        except InvalidFields:
            parsed = None
        assert parsed == (name if valid else None)


_values = st.none() | st.booleans() | st.integers() | st.text(max_size=70) | st.lists(st.none())


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.sampled_from(["name", "names", ""]) | st.text(max_size=6), _values))
def test_the_body_parser_answers_a_name_or_a_400(body: dict[str, Any]) -> None:
    try:
        name: str | None = parse_snapshot_body(body)
    except InvalidFields as exc:
        assert exc.details  # noqa: PT017 - the 400 names a field
        name = None
    if name is not None:
        assert set(body) == {"name"}
        assert name == body["name"]


# Atomicity ---------------------------------------------------------------------


def _seen(response: httpx.Response) -> tuple[object, ...]:
    """What a customer answer shows of both states: the e-mail, the embedded
    default payment instrument's id and the default address's first name."""
    assert response.status_code == 200, response.text
    body = response.json()
    embedded = body.get("_embedded", {})
    return (
        body["buyerInformation"]["email"],
        embedded.get("defaultPaymentInstrument", {}).get("id"),
        embedded.get("defaultShippingAddress", {}).get("shipTo", {}).get("firstName"),
    )


def test_a_request_during_restores_sees_one_state_or_the_other(
    admin_client: httpx.Client, sandbox_app: Starlette, merchant: Merchant, client: httpx.Client
) -> None:
    customer = make_customer(client, buyerInformation={"email": "a@example.com"})["id"]
    path = f"{CUSTOMERS}/{customer}"
    first_pi = make_customer_payment_instrument(client, customer)["id"]
    address = make_shipping_address(client, customer)["id"]
    client.patch(path, json={"defaultPaymentInstrument": {"id": first_pi}}).raise_for_status()
    state_a = _seen(client.get(path))
    save(admin_client, "state-a")
    second_pi = make_customer_payment_instrument(client, customer)["id"]
    patch = {"buyerInformation": {"email": "b@example.com"}}
    client.patch(path, json={**patch, "defaultPaymentInstrument": {"id": second_pi}})
    address_path = f"{customer_addresses(customer)}/{address}"
    client.patch(address_path, json={"shipTo": {"firstName": "Bea"}}).raise_for_status()
    state_b = _seen(client.get(path))
    save(admin_client, "state-b")
    # The two states differ in each of the three parts, each read from its own table.
    assert all(a != b for a, b in zip(state_a, state_b, strict=True)), (state_a, state_b)
    assert None not in state_a + state_b

    done = threading.Event()
    seen: list[tuple[object, ...]] = []
    failures: list[str] = []

    def read() -> None:
        with signed_client(sandbox_app, merchant) as reader:
            while not done.is_set():
                response = reader.get(path)
                if response.status_code != 200:
                    failures.append(f"{response.status_code} {response.text}")
                    continue
                seen.append(_seen(response))

    writes: list[int] = []

    def write() -> None:
        # Writes go on during restores too; each is answered, none is an error.
        with signed_client(sandbox_app, merchant) as writer:
            while not done.is_set():
                writes.append(writer.post(CUSTOMERS, json={}).status_code)

    readers = [threading.Thread(target=read) for _ in range(3)]
    readers.append(threading.Thread(target=write))
    for thread in readers:
        thread.start()
    try:
        for round_ in range(40):
            restore(admin_client, "state-a" if round_ % 2 == 0 else "state-b")
    finally:
        done.set()
        for thread in readers:
            thread.join()
    assert failures == []
    assert seen
    assert set(seen) <= {state_a, state_b}, set(seen) - {state_a, state_b}
    assert writes
    assert set(writes) == {201}, writes


# Another process ---------------------------------------------------------------


def test_a_restore_is_seen_at_once_by_every_worker(tmp_path: Path) -> None:
    with served(tmp_path) as (url, token, database):
        services = build_services(database.settings, database=database)
        merchant = Merchant(services.merchants.register("workers_snapshots"))
        admin = httpx.Client(
            base_url=f"{url}/opentms/v1/sandbox",
            headers={"authorization": f"Bearer {token}"},
            timeout=30,
        )
        with admin, httpx.Client(base_url=url, auth=merchant.signature_auth()) as client:
            vault = fill(client, merchant)
            before = view(client, vault)
            save(admin, "workers")
            admin.post("/reset", json={"includeMerchants": True}).raise_for_status()
            # New connections each time, so that both workers answer.
            for _ in range(10):
                with httpx.Client(base_url=url, auth=merchant.signature_auth()) as fresh:
                    assert fresh.get(vault.paths()[0]).status_code == 401
            restore(admin, "workers")
            for _ in range(10):
                with httpx.Client(base_url=url, auth=merchant.signature_auth()) as fresh:
                    assert view(fresh, vault) == before


@settings(max_examples=100, deadline=None)
@given(st.text(min_size=1, max_size=70))
def test_any_name_in_the_path_is_a_400_or_a_404(
    sandbox_app: Starlette, admin_token: str, name: str
) -> None:
    if name in (".", ".."):
        return  # A client resolves these path segments itself.
    with httpx.Client(
        transport=ASGIAppTransport(sandbox_app),
        base_url="http://testserver/opentms/v1/sandbox",
        headers={"authorization": f"Bearer {admin_token}"},
    ) as admin:
        response = admin.get("/snapshots/" + quote(name, safe=""))
    if "/" in name:
        # The server decodes the path before routing: another route, or none.
        assert response.status_code in (400, 404, 405), (name, response.text)
    else:
        valid = SNAPSHOT_NAME.fullmatch(name) is not None
        assert response.status_code == (404 if valid else 400), (name, response.text)
