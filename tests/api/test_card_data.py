"""Card data (DESIGN.md decision 4): a PAN is never stored, logged or returned
in clear, whatever route carried it and however the request ended."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass, field

import httpx
import pytest
from starlette.applications import Starlette

from opentms.bootstrap import Database
from tests.api.factories import (
    CUSTOMERS,
    II,
    PI,
    customer_pis,
    json_of,
    make_customer,
    masked,
)
from tests.conftest import client_for
from tests.support import Merchant, make_pan, stored_bytes

# Loggers of the test's own HTTP client: they log the URLs the test sends.
CLIENT_LOGGERS = ("httpx", "httpcore")


@dataclass
class Recorder:
    """A signed client and every response it has received."""

    client: httpx.Client
    responses: list[httpx.Response] = field(default_factory=list)

    def keep(self, response: httpx.Response) -> None:
        response.read()
        self.responses.append(response)


@pytest.fixture
def recorder(app: Starlette, merchant: Merchant) -> Iterator[Recorder]:
    with client_for(app, merchant) as c:
        recorder = Recorder(c)
        c.event_hooks["response"] = [recorder.keep]
        yield recorder


def store_cards(client: httpx.Client) -> list[str]:
    """Every way a card reaches the vault, plus failures that carry one."""
    pans = [make_pan(), make_pan("555555"), make_pan("378282", 15), make_pan("601111")]
    visa, mastercard, amex, discover = pans
    ii = json_of(client.post(f"{II}?retrieveBinDetails=True", json={"card": {"number": visa}}), 201)
    json_of(client.post(II, json={"card": {"number": visa, "securityCode": "123"}}), 200)
    json_of(client.get(f"{II}/{ii['id']}?retrieveBinDetails=true"), 200)
    pi = json_of(
        client.post(
            f"{PI}?retrieveBinDetails=True",
            json={"instrumentIdentifier": {"card": {"number": mastercard}}},
        ),
        201,
    )
    json_of(client.get(f"{PI}/{pi['id']}?retrieveBinDetails=True"), 200)
    customer = make_customer(client)["id"]
    json_of(
        client.post(
            customer_pis(customer),
            json={"instrumentIdentifier": {"card": {"number": amex, "expirationMonth": "01"}}},
        ),
        201,
    )
    json_of(client.get(f"{CUSTOMERS}/{customer}"), 200)
    json_of(client.get(customer_pis(customer)), 200)
    json_of(client.get(f"{II}/{ii['id']}/paymentinstruments?retrieveBinDetails=True"), 200)
    # Failures that carry a card number: each must leave it out of the answer.
    assert (
        client.post(II, json={"card": {"number": discover, "expirationMonth": "13"}}).status_code
        == 400
    )
    assert client.post(II, json={"card": {"number": discover[:-1] + "x"}}).status_code == 400
    failing = discover[:-1] + str((int(discover[-1]) + 1) % 10)
    assert client.post(II, json={"card": {"number": failing}}).status_code == 400
    assert client.post(II, json={"card": {"number": visa + "0000"}}).status_code == 400
    assert client.patch(f"{II}/{ii['id']}", json={"card": {"number": discover}}).status_code == 400
    both = {"instrumentIdentifier": {"id": ii["id"], "card": {"number": discover}}}
    assert client.post(PI, json=both).status_code == 400
    return [*pans, failing, visa + "0000"]


def test_no_card_number_is_written_to_the_database_files(
    client: httpx.Client, database: Database
) -> None:
    pans = store_cards(client)
    bank_number = make_pan("9", 14)
    bank = {"bankAccount": {"number": bank_number, "routingNumber": "071923284"}}
    ii_id = json_of(client.post(II, json=bank), 201)["id"]
    everything = stored_bytes(database)
    # The files are the ones the vault writes to: the new token's id is there.
    assert ii_id.encode() in everything
    for pan in [*pans, bank_number]:
        assert pan.encode() not in everything, pan[:6]


def test_no_response_carries_a_card_number(recorder: Recorder) -> None:
    pans = store_cards(recorder.client)
    assert len(recorder.responses) >= 15
    for response in recorder.responses:
        for pan in pans:
            assert pan not in response.text, (response.request.url.path, response.status_code)
            for value in response.headers.values():
                assert pan not in value
    # The stored cards did come back, masked.
    shown = {number for response in recorder.responses for number in _card_numbers(response)}
    assert {masked(pan) for pan in pans[:3]} <= shown


def _card_numbers(response: httpx.Response) -> set[str]:
    found: set[str] = set()

    def walk(value: object) -> None:
        if isinstance(value, dict):
            card = value.get("card")
            if isinstance(card, dict) and isinstance(card.get("number"), str):
                found.add(card["number"])
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    if response.headers.get("content-type", "").startswith("application/json"):
        walk(response.json())
    return found


def test_no_card_number_is_logged(client: httpx.Client, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    pans = store_cards(client)
    records = [r for r in caplog.records if not r.name.startswith(CLIENT_LOGGERS)]
    assert any(r.name == "opentms.http" for r in records)
    for record in records:
        text = record.getMessage() + repr(record.__dict__)
        for pan in pans:
            assert pan not in text, record.name


URL_CASES = [
    pytest.param("GET", "/tms/v1/instrumentidentifiers/{pan}", id="id-route"),
    pytest.param("DELETE", "/tms/v1/paymentinstruments/{pan}", id="delete-route"),
    pytest.param("GET", "/tms/v1/instrumentidentifiers/{pan}/cards", id="unknown-route"),
    pytest.param("PUT", "/tms/v1/instrumentidentifiers/{pan}", id="wrong-method"),
]


@pytest.mark.parametrize(("method", "path"), URL_CASES)
def test_card_number_sent_in_a_url_is_not_echoed(
    client: httpx.Client, method: str, path: str
) -> None:
    """Integrators do send card numbers where ids belong (GET an identifier by
    its card); the 404/405 must not hand the number back."""
    pan = make_pan()
    response = client.request(method, path.format(pan=pan))
    assert response.status_code in (404, 405)
    assert pan not in response.text


@pytest.mark.parametrize(("method", "path"), URL_CASES)
def test_card_number_sent_in_a_url_is_not_logged(
    client: httpx.Client, caplog: pytest.LogCaptureFixture, method: str, path: str
) -> None:
    caplog.set_level(logging.DEBUG)
    pan = make_pan()
    client.request(method, path.format(pan=pan))
    records = [r for r in caplog.records if not r.name.startswith(CLIENT_LOGGERS)]
    assert any(r.name == "opentms.http" for r in records)
    for record in records:
        assert pan not in record.getMessage() + repr(record.__dict__), record.name
