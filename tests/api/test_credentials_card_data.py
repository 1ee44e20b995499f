"""Card data of network tokens (DESIGN.md decisions 4 and 5): after payment
credentials for several cards, neither the cards, nor the clear token
numbers, nor any cryptogram or security code issued is in the database files,
the logs, or a response outside the JWE."""

from __future__ import annotations

import base64
import contextlib
import json
import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from starlette.applications import Starlette

from opentms.adapters.storage.tables import metadata
from opentms.bootstrap import Database, Services
from tests.api.factories import JSON, json_of
from tests.api.tokens_support import (
    AMEX,
    DISCOVER,
    MASTERCARD,
    NETWORKS,
    PASSKEY,
    SIMULATIONS,
    TOKENIZED_CARDS,
    VISA,
    amount,
    asset_path,
    authorize,
    create_ii,
    credentials_path,
    get_token,
    issue,
    life_cycle,
    open_credentials,
    presentation,
    signed_client,
    store_as,
    token_id_of,
)
from tests.support import Merchant, stored_bytes

CLIENT_LOGGERS = ("httpx", "httpcore")
# Where a short run of digits is the card's business, not a credential: the
# card's and token's expiry, the card's last four digits, card.type codes,
# the currency, the ECI and the schema version.
SHORT_DIGIT_FIELDS = frozenset(
    {
        "expiration_month",
        "expiration_year",
        "expirationMonth",
        "expirationYear",
        "suffix",
        "last4",
        "type",
        "currency",
        "eci",
        "version_num",
    }
)


@dataclass
class Secrets:
    """Everything issued that must stay inside the JWEs."""

    pans: list[str] = field(default_factory=list)
    token_numbers: set[str] = field(default_factory=set)
    cryptograms: set[str] = field(default_factory=set)
    security_codes: set[str] = field(default_factory=set)
    token_ids: set[str] = field(default_factory=set)

    def keep(self, tokenized: JSON) -> None:
        self.token_numbers.add(tokenized["number"])
        if "cryptogram" in tokenized:
            self.cryptograms.add(tokenized["cryptogram"])
        if "securityCode" in tokenized:
            self.security_codes.add(tokenized["securityCode"])

    def long_values(self) -> list[bytes]:
        """What cannot appear by chance: numbers of 15+ digits, cryptograms
        as base64, as hex, as their 20 bytes and their 8-byte MAC."""
        found = [number.encode() for number in [*self.pans, *self.token_numbers]]
        for cryptogram in self.cryptograms:
            raw = base64.b64decode(cryptogram)
            found += [cryptogram.encode(), raw, raw[4:12], raw.hex().encode()]
            found.append(raw.hex().upper().encode())
        return found

    def long_text(self) -> list[str]:
        return [value.decode() for value in self.long_values() if value.isascii()]


def issue_credentials(client: httpx.Client, merchant: Merchant, plain_profile: str) -> Secrets:
    """Cards of every network through every kind of token; credentials of
    every type, some authorised; a card with no token (v3 answers it clear)."""
    secrets = Secrets()
    for network, kind in [
        (VISA, "customer"),
        (MASTERCARD, "payment-instrument"),
        (AMEX, "instrument-identifier"),
        (DISCOVER, "tokenized-card"),
        (VISA, "customer-payment-instrument"),
    ]:
        stored = store_as(client, kind, network)
        secrets.pans.append(stored.pan)
        assert stored.tokenized_card_id is not None
        secrets.token_ids.add(stored.tokenized_card_id)
        bodies: list[JSON] = [{}, amount("12.34", "USD"), PASSKEY]
        bodies.append({"paymentCredentialType": "NETWORK_TOKEN"})
        if network in (VISA, AMEX):
            bodies.append({"paymentCredentialType": "SECURITY_CODE"})
        if network == VISA:
            bodies.append({"paymentCredentialType": "CRYPTOGRAM", "transactionType": "AFT"})
        issued = [
            issue(client, merchant, stored.token_id, body, version=version)["tokenizedCard"]
            for version in (2, 3)
            for body in bodies
        ]
        # The network sees some of them: approved, replayed, mismatched (two
        # issued last, as only the most recent security codes are accepted).
        first, bound = (
            issue(client, merchant, stored.token_id, body)["tokenizedCard"]
            for body in ({}, amount("12.34", "USD"))
        )
        for tokenized in [*issued, first, bound]:
            secrets.keep(tokenized)
        assert authorize(client, first)["status"] == "APPROVED"
        assert authorize(client, first)["reason"] == "REPLAYED_CRYPTOGRAM"
        authorize(client, bound, amount="99.00", currency="EUR")
        client.get(f"{TOKENIZED_CARDS}/{stored.tokenized_card_id}")
        client.get(asset_path(stored.tokenized_card_id, network.provider, "icon-logo"))
    # A card without a network token: v3 answers the card itself.
    plain = store_as(client, "payment-instrument", MASTERCARD, profile_id=plain_profile)
    secrets.pans.append(plain.pan)
    payload = issue(client, merchant, plain.token_id, version=3, profile_id=plain_profile)
    assert payload["card"]["number"] == plain.pan
    # A token whose life ends: suspended, then deleted.
    pan = AMEX.new_pan()
    secrets.pans.append(pan)
    ii = create_ii(client, pan)
    token_id = token_id_of(ii)
    secrets.keep(issue(client, merchant, ii["id"])["tokenizedCard"])
    life_cycle(client, merchant, token_id, {"state": "SUSPENDED"})
    client.post(credentials_path(ii["id"]), json={})
    life_cycle(client, merchant, token_id, {"state": "DELETED"})
    get_token(client, token_id)
    assert len(secrets.token_numbers) == 6
    assert len(secrets.cryptograms) >= 20
    assert len(secrets.security_codes) >= 8
    return secrets


@pytest.fixture(scope="module")
def plain_profile(services: Services, merchant: Merchant) -> str:
    return services.merchants.add_profile(merchant.id, "card data without tokens", False).id


@dataclass
class Recorder:
    client: httpx.Client
    responses: list[httpx.Response] = field(default_factory=list)

    def keep(self, response: httpx.Response) -> None:
        response.read()
        self.responses.append(response)


@pytest.fixture
def recorder(app: Starlette, merchant: Merchant) -> Iterator[Recorder]:
    with signed_client(app, merchant) as c:
        recorder = Recorder(c)
        c.event_hooks["response"] = [recorder.keep]
        yield recorder


# The database ------------------------------------------------------------------------


def database_rows(database: Database) -> Iterator[tuple[str, str, Any]]:
    """Every value in every table, as ``(table, column or JSON key, value)``;
    JSON documents are walked down to their leaves. Read through SQLAlchemy,
    so it works on SQLite and PostgreSQL alike."""
    with database.engine.connect() as connection:
        for table in metadata.sorted_tables:
            for row in connection.execute(select(table)):
                for column, value in zip(table.columns.keys(), row, strict=True):
                    if isinstance(value, memoryview):
                        value = bytes(value)
                    yield from _leaves(table.name, column, value)


def _leaves(table: str, name: str, value: Any) -> Iterator[tuple[str, str, Any]]:
    if isinstance(value, str) and value[:1] in "{[":
        with contextlib.suppress(ValueError):
            value = json.loads(value)
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _leaves(table, key, item)
    elif isinstance(value, list):
        for item in value:
            yield from _leaves(table, name, item)
    else:
        yield table, name, value


def test_the_database_files_hold_no_card_token_or_credential(
    client: httpx.Client, merchant: Merchant, database: Database, plain_profile: str
) -> None:
    secrets = issue_credentials(client, merchant, plain_profile)
    everything = stored_bytes(database)
    # These are the files the vault writes to: the new tokens' ids are there.
    for token_id in secrets.token_ids:
        assert token_id.encode() in everything
    for value in secrets.long_values():
        assert value not in everything, value[:6]
    # Security codes are 3 or 4 digits, too short to look for in raw bytes
    # (ids and timestamps are full of such runs); no stored value is one.
    codes = secrets.security_codes
    for table, name, value in database_rows(database):
        if name in SHORT_DIGIT_FIELDS:
            continue
        if name in ("cryptogram", "securityCode", "security_code"):
            # Only the sandbox's request journal names them, their values left out.
            assert (table, value) == ("sandbox_journal", "[masked]"), (table, name)
            continue
        if isinstance(value, bytes):
            text = value.decode("latin-1")
        elif isinstance(value, str):
            assert value not in codes, (table, name)
            text = value
        else:
            continue
        for secret in secrets.long_text():
            assert secret not in text, (table, name)


# The logs --------------------------------------------------------------------------------

_STANDARD = set(logging.LogRecord("x", 0, "", 0, "", (), None).__dict__) | {"message", "asctime"}
_IDS = re.compile(r"[0-9A-F]{32}|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
# What an access record holds that is digits by nature (the client's address and
# port, the status, the duration, the correlation id); a 3-digit code may equal
# any of them, so they are left out of what is searched.
_ACCESS_NUMERIC = frozenset({"client", "status", "duration_ms", "correlation_id"})


def _code_text(record: logging.LogRecord) -> str:
    """What a record says, less what is digits by nature: ids, and the client
    address, status, duration and correlation id of access lines (whose other
    fields, the method, path and merchant, are searched one by one)."""
    extras = {key: value for key, value in record.__dict__.items() if key not in _STANDARD}
    if "status" in extras and "duration_ms" in extras:
        kept = {key: value for key, value in extras.items() if key not in _ACCESS_NUMERIC}
        return _IDS.sub("<id>", repr(kept))
    return _IDS.sub("<id>", record.getMessage() + " " + repr(extras))


def test_the_logs_hold_no_card_token_or_credential(
    client: httpx.Client,
    merchant: Merchant,
    plain_profile: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    secrets = issue_credentials(client, merchant, plain_profile)
    records = [r for r in caplog.records if not r.name.startswith(CLIENT_LOGGERS)]
    assert any(r.name == "opentms.http" for r in records)
    for record in records:
        text = record.getMessage() + repr(record.__dict__)
        for secret in secrets.long_text():
            assert secret not in text, record.name
        short = _code_text(record)
        for code in secrets.security_codes:
            assert not re.search(rf"(?<![0-9]){code}(?![0-9])", short), (record.name, short)


# The responses ---------------------------------------------------------------------------


def test_no_response_outside_the_jwe_holds_a_card_or_token_number(
    recorder: Recorder, merchant: Merchant, plain_profile: str
) -> None:
    secrets = issue_credentials(recorder.client, merchant, plain_profile)
    json_responses = 0
    for response in recorder.responses:
        where = (response.request.method, response.request.url.path, response.status_code)
        for secret in secrets.long_text():
            assert secret not in response.text, where
            for value in response.headers.values():
                assert secret not in value, where
        if response.headers.get("content-type", "").startswith("application/json"):
            json_responses += 1
            _assert_no_credential_fields(response.json(), where)
        elif response.status_code != 204:
            assert response.status_code == 201, where
            assert response.headers["content-type"].startswith("application/jose"), where
    assert json_responses >= 30


def _assert_no_credential_fields(value: object, where: object) -> None:
    if isinstance(value, dict):
        assert "cryptogram" not in value, where
        assert "securityCode" not in value, where
        for item in value.values():
            _assert_no_credential_fields(item, where)
    elif isinstance(value, list):
        for item in value:
            _assert_no_credential_fields(item, where)


def test_the_simulator_does_not_echo_what_it_is_given(
    client: httpx.Client, merchant: Merchant
) -> None:
    ii = create_ii(client, VISA.new_pan())
    tokenized = issue(client, merchant, ii["id"])["tokenizedCard"]
    for overrides in ({}, {"eci": "5"}, {"expirationMonth": "13"}, {"cryptogram": "bad"}):
        response = client.post(SIMULATIONS, json=presentation(tokenized, **overrides))
        assert tokenized["number"] not in response.text
        assert tokenized["cryptogram"] not in response.text


def test_every_network_issues_into_the_jwe_only(client: httpx.Client, merchant: Merchant) -> None:
    for network in NETWORKS:
        ii = create_ii(client, network.new_pan())
        response = client.post(credentials_path(ii["id"]), json={})
        tokenized = open_credentials(response, merchant)["tokenizedCard"]
        assert tokenized["number"] not in response.text
        assert (
            json_of(client.get(f"/tms/v1/instrumentidentifiers/{ii['id']}"), 200)["tokenizedCard"][
                "number"
            ]
            != tokenized["number"]
        )
