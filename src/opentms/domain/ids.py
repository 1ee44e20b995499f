"""Token id formats (TMS): instrument identifiers are 19 digits, the other
resources 32 upper-case hexadecimal characters."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from opentms.domain import randomness
from opentms.domain.card import MAX_PAN_LENGTH, MIN_PAN_LENGTH, luhn_check_digit, luhn_valid

_HEX32 = re.compile(r"^[0-9A-F]{32}$")
_DIGIT_RUN = re.compile("[0-9]{12,}")
_II = re.compile(r"^[0-9]{12,32}$")
_PROFILE = re.compile(
    r"^[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}$"
)


def new_instrument_identifier_id() -> str:
    """19 digits like ``7010000000016241111``: ``70``, a vault digit, 15 random
    digits and a last digit chosen so the id fails the Luhn check: an id never
    looks like a card number (so log redaction never hides one). Inside
    :func:`given_instrument_identifier_id`, the id given there."""
    given = _given_ii_id.get()
    if given is not None:
        return given
    purpose = "instrument identifier id"
    vault = 1 + randomness.randbelow(purpose, 3)
    body = "70" + str(vault) + f"{randomness.randbelow(purpose, 10**15):015d}"
    valid = int(luhn_check_digit(body))
    return body + str((valid + 1 + randomness.randbelow(purpose, 9)) % 10)


_given_ii_id: ContextVar[str | None] = ContextVar("given_ii_id", default=None)


@contextmanager
def given_instrument_identifier_id(ii_id: str) -> Iterator[None]:
    """The instrument identifier created inside gets ``ii_id`` (a seed file's
    fixed id, docs/sandbox.md) instead of a new one."""
    token = _given_ii_id.set(ii_id)
    try:
        yield
    finally:
        _given_ii_id.reset(token)


def new_token_id(purpose: str = "token id") -> str:
    """A customer, payment instrument, shipping address or tokenized card id
    (or, by ``purpose``, a webhook event or notification id). Drawn again
    (about 3 times in 1,000) when its digits hold a Luhn-valid run of 12 to
    19: the log filter would take that for a card number and mask part of
    the id."""
    while True:
        value = randomness.token_hex(purpose, 16).upper()
        if not any(_looks_like_a_card(run) for run in _DIGIT_RUN.findall(value)):
            return value


def derived_token_id(name: str) -> str:
    """A token id fixed by ``name`` (SHA-256 of it): a seed file's customer
    or payment instrument without an id of its own gets the same id each time
    the file is applied. Never a Luhn-valid digit run, as :func:`new_token_id`."""
    attempt = 0
    while True:
        value = hashlib.sha256(f"{name}\x00{attempt}".encode()).hexdigest()[:32].upper()
        if not any(_looks_like_a_card(run) for run in _DIGIT_RUN.findall(value)):
            return value
        attempt += 1


def _looks_like_a_card(digits: str) -> bool:
    return MIN_PAN_LENGTH <= len(digits) <= MAX_PAN_LENGTH and luhn_valid(digits)


def is_token_id(value: str) -> bool:
    return bool(_HEX32.fullmatch(value))


def is_instrument_identifier_id(value: str) -> bool:
    return bool(_II.fullmatch(value))


def is_profile_id(value: str) -> bool:
    return bool(_PROFILE.fullmatch(value))
