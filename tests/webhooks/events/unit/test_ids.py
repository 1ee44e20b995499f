"""Webhook event and notification ids are token ids: never a digit run the
log filter would take for a card number (it would mask part of the id in
every log line, and a receiver's own filters might too)."""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable, Iterator

import pytest

from opentms.adapters.storage.webhook_outbox import new_notification_id
from opentms.domain import randomness
from opentms.domain.card import luhn_valid
from opentms.domain.webhooks import new_event_id

# 4111111111111111 is Luhn-valid: an id drawn with it looks like a card number.
LOOKS_LIKE_A_CARD = bytes.fromhex("4111111111111111ABCDEFABCDEFABCD")


class FirstDrawLooksLikeACard:
    """Randomness whose first draw of each purpose holds a card-like run."""

    deterministic = False

    def __init__(self) -> None:
        self.drawn: list[str] = []

    def token_bytes(self, purpose: str, size: int) -> bytes:
        first = purpose not in self.drawn
        self.drawn.append(purpose)
        return LOOKS_LIKE_A_CARD[:size] if first else secrets.token_bytes(size)

    def named_bytes(self, name: str, size: int) -> bytes:  # noqa: ARG002
        return secrets.token_bytes(size)

    def restart(self) -> None:
        pass


@pytest.fixture
def source() -> Iterator[FirstDrawLooksLikeACard]:
    fake = FirstDrawLooksLikeACard()
    previous = randomness.install(fake)
    try:
        yield fake
    finally:
        randomness.install(previous)


@pytest.mark.parametrize("new_id", [new_event_id, new_notification_id])
def test_an_id_that_looks_like_a_card_is_drawn_again(
    source: FirstDrawLooksLikeACard, new_id: Callable[[], str]
) -> None:
    value = new_id()
    assert len(source.drawn) == 2, "the card-like first draw was refused"
    assert value != LOOKS_LIKE_A_CARD.hex().upper()
    assert len(value) == 32
    for run in re.findall("[0-9]{13,19}", value):
        assert not luhn_valid(run), value
