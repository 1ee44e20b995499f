from __future__ import annotations

import re

import pytest

from opentms.domain import ids
from opentms.domain.card import luhn_check_digit, luhn_valid

DRAWS = 5000


def test_instrument_identifier_ids_are_19_digits_that_fail_luhn() -> None:
    drawn = [ids.new_instrument_identifier_id() for _ in range(DRAWS)]
    for ii_id in drawn:
        assert re.fullmatch(r"70[123][0-9]{16}", ii_id), ii_id
        assert not luhn_valid(ii_id), ii_id
        assert ids.is_instrument_identifier_id(ii_id)
        assert not ids.is_token_id(ii_id)
    assert len(set(drawn)) == DRAWS


def test_instrument_identifier_last_digit_varies_beyond_one_wrong_choice() -> None:
    # Failing Luhn must not be achieved by a fixed offset from the check digit:
    # the last digit should take several values for the same kind of body.
    offsets = set()
    for _ in range(500):
        ii_id = ids.new_instrument_identifier_id()
        check = int(luhn_check_digit(ii_id[:-1]))
        offsets.add((int(ii_id[-1]) - check) % 10)
    assert 0 not in offsets
    assert len(offsets) > 1


def test_token_ids_are_32_upper_case_hex() -> None:
    drawn = [ids.new_token_id() for _ in range(DRAWS)]
    for token_id in drawn:
        assert re.fullmatch(r"[0-9A-F]{32}", token_id), token_id
        assert ids.is_token_id(token_id)
    assert len(set(drawn)) == DRAWS


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param("F2F3ADA770102B51E053A2598D0A9078", True, id="documented-example"),
        pytest.param("f2f3ada770102b51e053a2598d0a9078", False, id="lower-case"),
        pytest.param("F2F3ADA770102B51E053A2598D0A907", False, id="31-chars"),
        pytest.param("F2F3ADA770102B51E053A2598D0A90780", False, id="33-chars"),
        pytest.param("G2F3ADA770102B51E053A2598D0A9078", False, id="not-hex"),
        pytest.param("F2F3ADA770102B51E053A2598D0A9078\n", False, id="trailing-newline"),
    ],
)
def test_is_token_id(value: str, expected: bool) -> None:
    assert ids.is_token_id(value) is expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param("7010000000016241111", True, id="documented-example"),
        pytest.param("123456789012", True, id="12-digits"),
        pytest.param("1" * 32, True, id="32-digits"),
        pytest.param("12345678901", False, id="11-digits"),
        pytest.param("1" * 33, False, id="33-digits"),
        pytest.param("70100000000162411A1", False, id="letter"),
        pytest.param("7010000000016241111\n", False, id="trailing-newline"),
    ],
)
def test_is_instrument_identifier_id(value: str, expected: bool) -> None:
    assert ids.is_instrument_identifier_id(value) is expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param("93B32398-AD51-4CC2-A682-EA3E93614EB1", True, id="documented-example"),
        pytest.param("93b32398-ad51-4cc2-a682-ea3e93614eb1", True, id="lower-case"),
        pytest.param("93B32398AD514CC2A682EA3E93614EB1", False, id="no-dashes"),
        pytest.param("93B32398-AD51-4CC2-A682-EA3E93614EB", False, id="short"),
        pytest.param("93B32398-AD51-4CC2-A682-EA3E93614EB1\n", False, id="trailing-newline"),
    ],
)
def test_is_profile_id(value: str, expected: bool) -> None:
    assert ids.is_profile_id(value) is expected
