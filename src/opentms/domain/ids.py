"""Token id formats (TMS): instrument identifiers are 19 digits, the other
resources 32 upper-case hexadecimal characters."""

from __future__ import annotations

import re
import secrets

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
    looks like a card number (so log redaction never hides one)."""
    body = "70" + str(1 + secrets.randbelow(3)) + f"{secrets.randbelow(10**15):015d}"
    valid = int(luhn_check_digit(body))
    return body + str((valid + 1 + secrets.randbelow(9)) % 10)


def new_token_id() -> str:
    """A customer, payment instrument, shipping address or tokenized card id.
    Drawn again (about 3 times in 1,000) when its digits hold a Luhn-valid
    run of 12 to 19: the log filter would take that for a card number and
    mask part of the id."""
    while True:
        value = secrets.token_hex(16).upper()
        if not any(_looks_like_a_card(run) for run in _DIGIT_RUN.findall(value)):
            return value


def _looks_like_a_card(digits: str) -> bool:
    return MIN_PAN_LENGTH <= len(digits) <= MAX_PAN_LENGTH and luhn_valid(digits)


def is_token_id(value: str) -> bool:
    return bool(_HEX32.fullmatch(value))


def is_instrument_identifier_id(value: str) -> bool:
    return bool(_II.fullmatch(value))


def is_profile_id(value: str) -> bool:
    return bool(_PROFILE.fullmatch(value))
