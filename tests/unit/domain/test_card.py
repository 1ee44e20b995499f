from __future__ import annotations

import logging
import random

import pytest

from opentms.domain.card import (
    PAN,
    BankAccount,
    Brand,
    brand_of,
    luhn_check_digit,
    luhn_valid,
    mask_number,
)
from opentms.domain.errors import FieldError, InvalidFields

# Widely published test numbers (credentials-crypto.md §5) plus the classic
# Luhn example from the algorithm's description.
LUHN_VALID = [
    pytest.param("4111111111111111", id="visa-4111"),
    pytest.param("4622943127013705", id="visa-4622"),
    pytest.param("5555555555554444", id="mastercard-5555"),
    pytest.param("2222420000001113", id="mastercard-2222"),
    pytest.param("378282246310005", id="amex-3782"),
    pytest.param("371449635398431", id="amex-3714"),
    pytest.param("6011111111111117", id="discover-6011"),
    pytest.param("79927398713", id="wikipedia-example"),
    pytest.param("0000000000000000", id="all-zeros"),
]

LUHN_INVALID = [
    pytest.param("4111111111111112", id="visa-last-digit-off"),
    pytest.param("4111111111111121", id="visa-transposed-tail"),
    pytest.param("5555555555554440", id="mastercard-last-digit-off"),
    pytest.param("378282246310006", id="amex-last-digit-off"),
    pytest.param("6011111111111118", id="discover-last-digit-off"),
    pytest.param("79927398710", id="wikipedia-example-off"),
    pytest.param("1234567812345678", id="sequence"),
]


@pytest.mark.parametrize("number", LUHN_VALID)
def test_luhn_valid_accepts_known_valid_numbers(number: str) -> None:
    assert luhn_valid(number)


@pytest.mark.parametrize("number", LUHN_INVALID)
def test_luhn_valid_rejects_known_invalid_numbers(number: str) -> None:
    assert not luhn_valid(number)


@pytest.mark.parametrize("number", LUHN_VALID)
def test_luhn_valid_detects_every_single_digit_error(number: str) -> None:
    for position in range(len(number)):
        for digit in "0123456789":
            if digit == number[position]:
                continue
            changed = number[:position] + digit + number[position + 1 :]
            assert not luhn_valid(changed), changed


@pytest.mark.parametrize(
    ("partial", "expected"),
    [
        pytest.param("7992739871", "3", id="wikipedia-example"),
        pytest.param("411111111111111", "1", id="visa-4111"),
        pytest.param("555555555555444", "4", id="mastercard-5555"),
        pytest.param("37828224631000", "5", id="amex-3782"),
        pytest.param("601111111111111", "7", id="discover-6011"),
        pytest.param("462294312701370", "5", id="visa-4622"),
    ],
)
def test_luhn_check_digit_known_answers(partial: str, expected: str) -> None:
    assert luhn_check_digit(partial) == expected


def test_luhn_check_digit_is_the_only_digit_that_completes_the_number() -> None:
    draws = random.Random(7)  # noqa: S311 - test data
    for _ in range(300):
        partial = "".join(str(draws.randrange(10)) for _ in range(draws.randrange(11, 19)))
        check = luhn_check_digit(partial)
        completing = [d for d in "0123456789" if luhn_valid(partial + d)]
        assert completing == [check]


def _number(prefix: str, length: int = 16) -> str:
    body = prefix + "0" * (length - len(prefix) - 1)
    return body + luhn_check_digit(body)


@pytest.mark.parametrize(
    ("prefix", "brand"),
    [
        pytest.param("4", Brand.VISA, id="visa-4"),
        pytest.param("49", Brand.VISA, id="visa-49"),
        pytest.param("51", Brand.MASTERCARD, id="mastercard-51"),
        pytest.param("55", Brand.MASTERCARD, id="mastercard-55"),
        pytest.param("2221", Brand.MASTERCARD, id="mastercard-2221-low-edge"),
        pytest.param("2720", Brand.MASTERCARD, id="mastercard-2720-high-edge"),
        pytest.param("2500", Brand.MASTERCARD, id="mastercard-2500"),
        pytest.param("2220", Brand.UNKNOWN, id="below-2221"),
        pytest.param("2721", Brand.UNKNOWN, id="above-2720"),
        pytest.param("34", Brand.AMEX, id="amex-34"),
        pytest.param("37", Brand.AMEX, id="amex-37"),
        pytest.param("6011", Brand.DISCOVER, id="discover-6011"),
        pytest.param("644", Brand.DISCOVER, id="discover-644-low-edge"),
        pytest.param("649", Brand.DISCOVER, id="discover-649-high-edge"),
        pytest.param("643", Brand.MAESTRO, id="below-644-is-maestro"),
        pytest.param("65", Brand.DISCOVER, id="discover-65"),
        pytest.param("622126", Brand.DISCOVER, id="discover-622126-low-edge"),
        pytest.param("622925", Brand.DISCOVER, id="discover-622925-high-edge"),
        pytest.param("622125", Brand.UNIONPAY, id="below-622126-is-unionpay"),
        pytest.param("622926", Brand.UNIONPAY, id="above-622925-is-unionpay"),
        pytest.param("62", Brand.UNIONPAY, id="unionpay-62"),
        pytest.param("300", Brand.DINERS, id="diners-300-low-edge"),
        pytest.param("305", Brand.DINERS, id="diners-305-high-edge"),
        pytest.param("306", Brand.UNKNOWN, id="above-305"),
        pytest.param("36", Brand.DINERS, id="diners-36"),
        pytest.param("38", Brand.DINERS, id="diners-38"),
        pytest.param("39", Brand.DINERS, id="diners-39"),
        pytest.param("3528", Brand.JCB, id="jcb-3528-low-edge"),
        pytest.param("3589", Brand.JCB, id="jcb-3589-high-edge"),
        pytest.param("3527", Brand.UNKNOWN, id="below-3528"),
        pytest.param("3590", Brand.UNKNOWN, id="above-3589"),
        pytest.param("50", Brand.MAESTRO, id="maestro-50"),
        pytest.param("56", Brand.MAESTRO, id="maestro-56"),
        pytest.param("6012", Brand.MAESTRO, id="maestro-6012-not-discover"),
        pytest.param("63", Brand.MAESTRO, id="maestro-63"),
        pytest.param("67", Brand.MAESTRO, id="maestro-67"),
        pytest.param("69", Brand.MAESTRO, id="maestro-69"),
        pytest.param("1", Brand.UNKNOWN, id="unknown-1"),
        pytest.param("70", Brand.UNKNOWN, id="unknown-70"),
        pytest.param("9", Brand.UNKNOWN, id="unknown-9"),
    ],
)
def test_brand_of_follows_the_public_bin_ranges(prefix: str, brand: Brand) -> None:
    assert brand_of(_number(prefix)) is brand
    assert brand_of(_number(prefix)[:6]) is brand


@pytest.mark.parametrize(
    ("number", "brand"),
    [
        pytest.param("4111111111111111", Brand.VISA, id="visa"),
        pytest.param("4222222222222", Brand.VISA, id="visa-13"),
        pytest.param("5555555555554444", Brand.MASTERCARD, id="mastercard"),
        pytest.param("2222420000001113", Brand.MASTERCARD, id="mastercard-2-series"),
        pytest.param("378282246310005", Brand.AMEX, id="amex"),
        pytest.param("6011111111111117", Brand.DISCOVER, id="discover"),
        pytest.param("30569309025904", Brand.DINERS, id="diners-14"),
        pytest.param("3530111333300000", Brand.JCB, id="jcb"),
        pytest.param("6759649826438453", Brand.MAESTRO, id="maestro"),
        pytest.param("6200000000000005", Brand.UNIONPAY, id="unionpay"),
    ],
)
def test_brand_of_published_test_numbers(number: str, brand: Brand) -> None:
    assert brand_of(number) is brand
    assert PAN.parse(number).brand is brand


@pytest.mark.parametrize(
    "value",
    [
        pytest.param("", id="empty"),
        pytest.param("41111", id="five-digits"),
        pytest.param("4111-1111", id="not-digits"),
        pytest.param("abcdef", id="letters"),
    ],
)
def test_brand_of_is_unknown_for_too_short_or_non_digit_input(value: str) -> None:
    assert brand_of(value) is Brand.UNKNOWN


@pytest.mark.parametrize(
    ("brand", "code", "token_type"),
    [
        pytest.param(Brand.VISA, "001", "visa", id="visa"),
        pytest.param(Brand.MASTERCARD, "002", "mastercard", id="mastercard"),
        pytest.param(Brand.AMEX, "003", "americanexpress", id="amex"),
        pytest.param(Brand.DISCOVER, "004", "discover", id="discover"),
        pytest.param(Brand.DINERS, "005", "dinersclub", id="diners"),
        pytest.param(Brand.JCB, "007", "jcb", id="jcb"),
        pytest.param(Brand.MAESTRO, "042", "maestro", id="maestro"),
        pytest.param(Brand.UNIONPAY, "062", "unionpay", id="unionpay"),
    ],
)
def test_brand_carries_its_tms_card_type_code(brand: Brand, code: str, token_type: str) -> None:
    assert brand.code == code
    assert brand.token_type == token_type


def test_pan_parse_keeps_the_digits_and_derives_the_parts() -> None:
    pan = PAN.parse("4622943127013705")
    assert pan.reveal() == "4622943127013705"
    assert pan.last4 == "3705"
    assert pan.bin == "46229431"
    assert pan.masked == "462294XXXXXX3705"
    assert pan.brand is Brand.VISA


def test_pan_bin_is_six_digits_below_sixteen() -> None:
    assert PAN.parse("378282246310005").bin == "378282"


@pytest.mark.parametrize(
    "value",
    [
        pytest.param("4111111111111112", id="luhn-fails"),
        pytest.param("41111111113", id="eleven-digits"),
        pytest.param("41111111111111111113", id="twenty-digits"),
        pytest.param("4111 1111 1111 1111", id="spaces"),
        pytest.param("4111-1111-1111-1111", id="dashes"),
        pytest.param("4111111111111111\n", id="trailing-newline"),
        pytest.param("\u0664\u0661\u0661\u0661" * 4, id="arabic-indic-digits"),
        pytest.param("\uff14\uff11\uff11\uff11" * 4, id="fullwidth-digits"),
        pytest.param("", id="empty"),
    ],
)
def test_pan_parse_errors_name_the_field_never_the_digits(value: str) -> None:
    with pytest.raises(InvalidFields) as caught:
        PAN.parse(value)
    error = caught.value
    assert error.details == (FieldError("card.number", "body"),)
    assert "card.number" in error.message
    rendered = [error.message, str(error), repr(error), *map(str, error.args)]
    digits = "".join(ch for ch in value if ch.isdigit())
    for text in rendered:
        if value:
            assert value not in text
            assert value.strip() not in text
        if len(digits) >= 8:
            assert digits not in text
            assert digits[:6] not in text


def test_pan_parse_uses_the_given_field_name() -> None:
    with pytest.raises(InvalidFields) as caught:
        PAN.parse("4111111111111112", "instrumentIdentifier.card.number")
    assert caught.value.details == (FieldError("instrumentIdentifier.card.number"),)
    assert caught.value.message.startswith("instrumentIdentifier.card.number")


def _renderings(value: object) -> list[str]:
    return [
        repr(value),
        str(value),
        f"{value}",
        f"{value!r}",
        f"{value!s}",
        f"{value:>40}",
        f"{value:}",
        format(value),
        "%s" % value,  # noqa: UP031 - the %-operator is what is under test
        "%r" % value,  # noqa: UP031
        str([value]),
        str({"pan": value}),
        str((value,)),
    ]


def test_pan_is_masked_in_every_rendering() -> None:
    pan = PAN.parse("4000123456789017")
    for text in _renderings(pan):
        assert "4000123456789017" not in text
        assert "234567" not in text
        assert "400012XXXXXX9017" in text, text


def test_pan_is_masked_in_log_messages(caplog: pytest.LogCaptureFixture) -> None:
    pan = PAN.parse("4000123456789017")
    with caplog.at_level(logging.INFO):
        logging.getLogger("tests.card").info("charging %s and %r", pan, pan)
    assert "4000123456789017" not in caplog.text
    assert "400012XXXXXX9017" in caplog.text


def test_bank_account_is_masked_in_every_rendering() -> None:
    account = BankAccount.parse("987654321012", "071923284")
    assert account.reveal() == "987654321012"
    assert account.routing_number == "071923284"
    for text in _renderings(account):
        assert "987654321012" not in text
        assert "98765432" not in text
        assert "XXXXXXXX1012" in text, text


@pytest.mark.parametrize(
    ("number", "routing", "field"),
    [
        pytest.param("123", "071923284", "bankAccount.number", id="number-too-short"),
        pytest.param("1" * 18, "071923284", "bankAccount.number", id="number-too-long"),
        pytest.param("98765x4321", "071923284", "bankAccount.number", id="number-not-digits"),
        pytest.param("987654321012", "0719232841", "bankAccount.routingNumber", id="routing-long"),
        pytest.param("987654321012", "07192a", "bankAccount.routingNumber", id="routing-letters"),
    ],
)
def test_bank_account_parse_errors_never_contain_the_values(
    number: str, routing: str, field: str
) -> None:
    with pytest.raises(InvalidFields) as caught:
        BankAccount.parse(number, routing)
    assert caught.value.details == (FieldError(field),)
    assert number not in str(caught.value)
    assert routing not in str(caught.value)


@pytest.mark.parametrize(
    ("digits", "masked"),
    [
        pytest.param("123456789012", "XXXXXXXX9012", id="12"),
        pytest.param("1234567890123", "123456XXX0123", id="13"),
        pytest.param("12345678901234", "123456XXXX1234", id="14"),
        pytest.param("123456789012345", "123456XXXXX2345", id="15"),
        pytest.param("1234567890123456", "123456XXXXXX3456", id="16"),
        pytest.param("12345678901234567", "123456XXXXXXX4567", id="17"),
        pytest.param("123456789012345678", "123456XXXXXXXX5678", id="18"),
        pytest.param("1234567890123456789", "123456XXXXXXXXX6789", id="19"),
    ],
)
def test_mask_number(digits: str, masked: str) -> None:
    assert mask_number(digits) == masked
    assert len(masked) == len(digits)
