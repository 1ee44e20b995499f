"""The card behind a network token at rest (issue 9, finding 5; docs/security.md
"What is stored"): its expiry is sealed under the merchant's data key like the
card number, and the API still answers it."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import select

from opentms.adapters.storage.tables import network_tokens
from opentms.bootstrap import Database
from tests.api.tokens_support import (
    VISA,
    create_ii,
    get_token,
    issue,
    life_cycle,
    token_id_of,
)
from tests.support import Merchant


def stored_row(database: Database, token_id: str) -> list[bytes]:
    """Every value of the token's row as the database holds it (SQLite or
    PostgreSQL), text and bytes alike."""
    with database.engine.connect() as connection:
        row = connection.execute(
            select(network_tokens).where(network_tokens.c.id == token_id)
        ).one()
    values: list[Any] = list(row)
    return [
        bytes(value) if isinstance(value, bytes | memoryview) else str(value).encode()
        for value in values
        if value is not None
    ]


def assert_not_in_clear(database: Database, token_id: str, year: str) -> None:
    """No column is the year, and no text holds it as a JSON value or names an
    expiry (a bare 4-digit run may occur by chance in random ids)."""
    values = stored_row(database, token_id)
    assert token_id.encode() in values
    for value in values:
        assert value != year.encode()
        assert f'"{year}"'.encode() not in value
        assert b"expirationMonth" not in value
        assert b"expirationYear" not in value


def test_the_card_expiry_is_sealed_at_rest_and_answered(
    client: httpx.Client, merchant: Merchant, database: Database
) -> None:
    # Years no token expiry (three years from now) or test card uses.
    ii = create_ii(client, VISA.new_pan(), expirationMonth="07", expirationYear="2047")
    token_id = token_id_of(ii)
    assert_not_in_clear(database, token_id, "2047")
    card = get_token(client, token_id)["card"]
    assert (card["expirationMonth"], card["expirationYear"]) == ("07", "2047")
    tokenized = issue(client, merchant, token_id)["tokenizedCard"]
    assert tokenized["card"]["expirationMonth"] == "07"
    assert tokenized["card"]["expirationYear"] == "2047"
    assert tokenized["card"]["suffix"] == card["suffix"]
    # The network token's own expiry is another date, the network's.
    assert tokenized["expirationYear"] != "2047"

    # The issuer reissues the card: the new expiry is sealed as well.
    body = {"card": {"expirationMonth": "03", "expirationYear": "2048"}}
    assert life_cycle(client, merchant, token_id, body).status_code == 204
    assert_not_in_clear(database, token_id, "2048")
    card = get_token(client, token_id)["card"]
    assert (card["expirationMonth"], card["expirationYear"]) == ("03", "2048")
