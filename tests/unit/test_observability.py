from __future__ import annotations

import io
import itertools
import json
import logging
import logging.config
import random
import re
import time
from collections.abc import Iterator

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from opentms.adapters.http.app import _new_correlation_id
from opentms.config import Settings
from opentms.domain import ids
from opentms.domain.card import luhn_valid, mask_number
from opentms.observability import (
    JsonFormatter,
    RedactingFormatter,
    clean,
    escape,
    logging_config,
    redact,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("4111111111111111", "411111XXXXXX1111", id="alone"),
        pytest.param("card 4111111111111111 ok", "card 411111XXXXXX1111 ok", id="in-words"),
        pytest.param("pan=4111111111111111;", "pan=411111XXXXXX1111;", id="after-equals"),
        pytest.param('{"number":"5555555555554444"}', '{"number":"555555XXXXXX4444"}', id="json"),
        pytest.param("x378282246310005y", "x378282XXXXX0005y", id="glued-to-letters"),
        pytest.param("x4000056655665556", "x400005XXXXXX5556", id="after-a-letter"),
        pytest.param("4000-0566-5566-5556", "4000-05XX-XXXX-5556", id="dashes"),
        pytest.param("4000 0566 5566 5556", "4000 05XX XXXX 5556", id="spaces"),
        pytest.param("4000.0566.5566.5556", "4000.05XX.XXXX.5556", id="dots"),
        pytest.param("x4000-0566-5566-5556y", "x4000-05XX-XXXX-5556y", id="grouped-in-letters"),
        pytest.param("3782 822463 10005", "3782 82XXXX X0005", id="amex-grouping"),
        pytest.param("4000056655\n665556", "400005XXXX\nXX5556", id="split-by-a-newline"),
        pytest.param("4000056655\u2028665556", "400005XXXX\u2028XX5556", id="split-by-u2028"),
        pytest.param(
            "card 4111 1111 1111 1111 2031", "card 4111 11XX XXXX 1111 2031", id="then-a-year"
        ),
        pytest.param("/x/4111111111111111 404 0.5", "/x/411111XXXXXX1111 404 0.5", id="then-more"),
        pytest.param("6011111111111117\n", "601111XXXXXX1117\n", id="before-newline"),
        pytest.param(
            "a 4111111111111111 b 2222420000001113",
            "a 411111XXXXXX1111 b 222242XXXXXX1113",
            id="two-numbers",
        ),
        pytest.param("675964982648", "XXXXXXXX2648", id="12-digits"),
        pytest.param("4222222222222", "422222XXX2222", id="13-digits"),
        pytest.param("6759649826438453003", "675964XXXXXXXXX3003", id="19-digits"),
    ],
)
def test_redact_masks_luhn_valid_runs(text: str, expected: str) -> None:
    assert luhn_run_count(text) > 0
    assert redact(text) == expected


def luhn_run_count(text: str) -> int:
    return len(card_windows(text))


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("4111111111111112", id="luhn-invalid-16"),
        pytest.param("79927398713", id="luhn-valid-11-digits"),
        pytest.param("41111111111111110000", id="20-digits"),
        pytest.param("F2F3ADA770102B51E053A2598D0A9078", id="token-id"),
        pytest.param("amount 1234.56 at 1795475851", id="amount-and-epoch"),
        pytest.param("order 000000000000000000001", id="21-digit-order-number"),
        pytest.param("4111 1111 1111 1112", id="grouped-luhn-invalid"),
        pytest.param("4111--1111-1111-1111", id="double-separator"),
        pytest.param("4111_1111_1111_1111", id="underscores-are-not-separators"),
        pytest.param("6759 6498 2648", id="12-digits-in-groups"),
        pytest.param("from 192.168.100.200:443", id="ipv4-address"),
        pytest.param("2026-12-04 16:33:18,123", id="time"),
        pytest.param("7010000000016241112 7010000000016241113", id="ii-ids-in-a-list"),
        pytest.param("uuid 93B32398-AD51-4CC2-A682-EA3E93614EB1", id="uuid"),
    ],
)
def test_redact_leaves_other_numbers(text: str) -> None:
    assert redact(text) == text


def test_redact_leaves_instrument_identifier_ids() -> None:
    for _ in range(2000):
        ii_id = ids.new_instrument_identifier_id()
        line = f"GET /tms/v1/instrumentidentifiers/{ii_id} 200"
        assert redact(line) == line


def test_redact_leaves_token_ids() -> None:
    token_id = "F2F3ADA770102B51E053A2598D0A9078"  # the documented example
    assert redact(token_id) == token_id
    assert redact(f"/tms/v2/customers/{token_id}") == f"/tms/v2/customers/{token_id}"


def test_an_id_drawn_before_ids_avoided_card_numbers_is_masked_in_part() -> None:
    # Digits 10..21 are a Luhn-valid 12-digit run between hex letters: such an
    # id (ids.new_token_id now draws again) shows masked in the logs.
    assert redact("1C897064B916788087226FBF17E7FCD5") == "1C897064BXXXXXXXX7226FBF17E7FCD5"


def test_redact_leaves_token_ids_as_generated() -> None:
    changed = [token_id for token_id in _token_ids(5000) if redact(token_id) != token_id]
    assert changed == []


def _token_ids(count: int) -> Iterator[str]:
    for _ in range(count):
        yield ids.new_token_id()


def test_redact_masks_a_card_number_inside_any_hex_string() -> None:
    # 32 hexadecimal characters that ids.new_token_id would draw again.
    assert redact("ABC4111111111111111DEF0123456789") == "ABC411111XXXXXX1111DEF0123456789"
    draws = random.Random(1124)  # noqa: S311 - test data
    drawn = ["".join(draws.choice("0123456789ABCDEF") for _ in range(32)) for _ in range(5000)]
    masked = [value for value in drawn if redact(value) != value]
    assert masked, "some random hex strings hold a Luhn-valid run of 12 to 19 digits"
    assert all(card_windows(value) for value in masked)


def test_new_correlation_ids_are_left_whole() -> None:
    for _ in range(2000):
        value = _new_correlation_id().decode()
        assert redact(value) == value


def test_redact_is_bounded_on_hostile_chains() -> None:
    # 32 KB (the largest request head) of one-digit groups: judged in a few
    # milliseconds; past the budget the whole middle is masked.
    hostile = "1." * 16_000
    assert_masks_every_card(hostile[:2000], redact(hostile[:2000]))
    started = time.perf_counter()
    masked = redact(hostile)
    assert time.perf_counter() - started < 1.0
    assert masked.startswith("1.1.1.1.1.1.X.X.")
    assert masked.endswith("X.1.1.1.1.")


def test_escape_writes_control_characters_as_text() -> None:
    assert escape("a\nb\rc\x00d\x7fe\x85f\u2028g\u2029h\u202ei") == (
        "a\\x0ab\\x0dc\\x00d\\x7fe\\x85f\\u2028g\\u2029h\\u202ei"
    )
    assert escape("C:\\temp") == "C:\\\\temp"
    assert escape("caf\u00e9 \u20ac") == "caf\u00e9 \u20ac"
    assert escape("GET /tms/v1/x 200") == "GET /tms/v1/x 200"


# Properties ---------------------------------------------------------------------------------------
#
# A reference, written for clarity rather than speed, of what redact() must
# hide: every window of the text that starts and ends on a digit, holds
# digits joined by single separators, starts and ends at the edge of a run of
# digits, and holds a Luhn-valid card number (12 to 19 digits in one run, 13
# to 19 across runs). In each, the digits mask_number hides must come out as X.

INVISIBLE = [*range(0x20), *range(0x7F, 0xA0), 0x200E, 0x200F, *range(0x2028, 0x202F)]
SEPARATORS = frozenset(" .-") | {
    chr(code) for code in [*INVISIBLE, *range(0x2066, 0x206A), *range(0xD800, 0xE000)]
}


def card_windows(text: str) -> list[tuple[int, int]]:
    """Every [start, end) of ``text`` that is a card number."""
    found = []
    for start in range(len(text)):
        if not text[start].isascii() or not text[start].isdigit():
            continue
        if start > 0 and _is_digit(text[start - 1]):
            continue
        for end in range(start + 1, len(text) + 1):
            piece = text[start:end]
            if not all(_is_digit(c) or c in SEPARATORS for c in piece):
                break
            if any(c in SEPARATORS and d in SEPARATORS for c, d in itertools.pairwise(piece)):
                break
            digits = "".join(c for c in piece if _is_digit(c))
            if len(digits) > 19:
                break
            if not _is_digit(piece[-1]) or (end < len(text) and _is_digit(text[end])):
                continue
            shortest = 12 if digits == piece else 13
            if shortest <= len(digits) and luhn_valid(digits):
                found.append((start, end))
    return found


def _is_digit(char: str) -> bool:
    return "0" <= char <= "9"


def assert_masks_every_card(text: str, masked: str) -> None:
    assert len(masked) == len(text)
    # Only digits change, and only into X.
    for before, after in zip(text, masked, strict=True):
        assert after == before or (_is_digit(before) and after == "X")
    for start, end in card_windows(text):
        positions = [at for at in range(start, end) if _is_digit(text[at])]
        kept = mask_number("0" * len(positions))
        for at, shown in zip(positions, kept, strict=True):
            if shown == "X":
                assert masked[at] == "X", (text, masked, text[start:end])


CARD_ALPHABET = st.sampled_from(
    [*"0123456789" * 4, " ", "-", ".", "\n", "\x00", "\x85", "\u2028", "a", "Z", "/", "\\", "é"]
)


def grouped_card(draw: st.DrawFn) -> str:
    number = draw(st.sampled_from(["4000056655665556", "378282246310005", "6759649826438453003"]))
    out = ""
    for digit in number:
        out += draw(st.sampled_from(["", "", "", " ", "-", ".", "\n"])) + digit
    return out.lstrip(" -.\n")


@st.composite
def log_texts(draw: st.DrawFn) -> str:
    """Text with digits, separators and control characters, often around a
    real card number written in groups."""
    pieces = draw(st.lists(st.text(CARD_ALPHABET, max_size=12), max_size=4))
    if draw(st.booleans()):
        pieces.insert(draw(st.integers(0, len(pieces))), grouped_card(draw))
    return "".join(pieces)


@settings(max_examples=2000, deadline=None)
@given(log_texts())
def test_redact_masks_every_card_number(text: str) -> None:
    assert_masks_every_card(text, redact(text))


@settings(max_examples=500, deadline=None)
@given(st.text())
def test_redact_masks_every_card_number_in_any_text(text: str) -> None:
    assert_masks_every_card(text, redact(text))


UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u200e\u200f\u2028-\u202e\u2066-\u2069\ud800-\udfff]")


def unescape(text: str) -> str:
    return text.encode("latin-1", "backslashreplace").decode("unicode_escape")


@settings(max_examples=2000, deadline=None)
@given(st.one_of(st.text(), log_texts()))
def test_escape_leaves_no_control_character_and_loses_nothing(text: str) -> None:
    escaped = escape(text)
    assert not UNSAFE.search(escaped)
    assert len(escaped.splitlines()) <= 1
    assert unescape(escaped) == text


@settings(max_examples=1000, deadline=None)
@given(log_texts())
def test_clean_masks_then_escapes(text: str) -> None:
    cleaned = clean(text)
    assert not UNSAFE.search(cleaned)
    assert unescape(cleaned) == redact(text)


@pytest.fixture
def log() -> Iterator[tuple[logging.Logger, io.StringIO]]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(RedactingFormatter("%(levelname)s %(name)s %(message)s"))
    logger = logging.getLogger("tests.observability")
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    yield logger, stream
    logger.removeHandler(handler)
    logger.propagate = True


def test_formatter_masks_arguments(log: tuple[logging.Logger, io.StringIO]) -> None:
    logger, stream = log
    logger.info("stored %s for %s", "4111111111111111", "merchant_a")
    assert stream.getvalue() == "INFO tests.observability stored 411111XXXXXX1111 for merchant_a\n"


def test_formatter_masks_tracebacks(log: tuple[logging.Logger, io.StringIO]) -> None:
    logger, stream = log

    def fail(number: str) -> None:
        raise ValueError(f"cannot use {number}")

    try:
        fail("5555555555554444")
    except ValueError:
        logger.exception("request failed")
    output = stream.getvalue()
    assert "Traceback (most recent call last)" in output
    assert "ValueError: cannot use 555555XXXXXX4444" in output
    assert "5555555555554444" not in output
    assert "55555555" not in output


def test_formatter_masks_stack_info(log: tuple[logging.Logger, io.StringIO]) -> None:
    logger, stream = log
    pan_in_local_source = "6011111111111117"
    logger.info("with stack %s", pan_in_local_source, stack_info=True)
    output = stream.getvalue()
    assert "Stack (most recent call last)" in output
    assert "6011111111111117" not in output


def test_logging_config_installs_the_redacting_formatter() -> None:
    config = logging_config("DEBUG")
    assert config["formatters"]["default"]["()"] is RedactingFormatter
    stream = io.StringIO()
    config["handlers"]["default"]["stream"] = stream
    root = logging.getLogger()
    saved = (root.level, list(root.handlers))
    try:
        logging.config.dictConfig(config)
        logging.getLogger("opentms.test").warning("card %s", "4111111111111111")
    finally:
        for handler in list(root.handlers):
            root.removeHandler(handler)
        root.setLevel(saved[0])
        for handler in saved[1]:
            root.addHandler(handler)
    assert "411111XXXXXX1111" in stream.getvalue()
    assert "4111111111111111" not in stream.getvalue()


def test_formatter_escapes_arguments_and_exceptions(
    log: tuple[logging.Logger, io.StringIO],
) -> None:
    logger, stream = log
    try:
        raise ValueError("bad\nINFO forged 4000056655\n665556")
    except ValueError:
        logger.exception("path %s", "/a\r\nINFO forged\x00")
    output = stream.getvalue()
    assert output.count("\n") == 1
    assert output.endswith("\n")
    assert "path /a\\x0d\\x0aINFO forged\\x00\\x0aTraceback (most recent call last):" in output
    assert "ValueError: bad\\x0aINFO forged 400005XXXX\\x0aXX5556" in output


def json_lines(formatter: logging.Formatter, records: list[logging.LogRecord]) -> list[object]:
    lines = "\n".join(formatter.format(record) for record in records).split("\n")
    return [json.loads(line) for line in lines]


def test_json_format_writes_one_object_per_line() -> None:
    access = logging.LogRecord("opentms.http", logging.INFO, __file__, 1, "%s", ("x",), None)
    access.__dict__.update(
        client="127.0.0.1:5000",
        method="GET",
        path="/a\nb/4000056655665556",
        status=404,
        duration_ms=0.4,
        correlation_id="c\u2028",
        merchant="m\n",
        auth_failure=None,
    )
    try:
        raise ValueError("no\n4111111111111111")
    except ValueError as exc:
        failure = logging.LogRecord(
            "opentms.http",
            logging.ERROR,
            __file__,
            2,
            "failed %s",
            ("x\x85",),
            (ValueError, exc, None),
        )
    first, second = json_lines(JsonFormatter(), [access, failure])
    assert isinstance(first, dict)
    assert isinstance(second, dict)
    assert first["level"] == "INFO"
    assert first["logger"] == "opentms.http"
    assert first["ts"].endswith("+00:00")
    assert first["path"] == "/a\\x0ab/400005XXXXXX5556"
    assert (first["status"], first["duration_ms"], first["client"]) == (404, 0.4, "127.0.0.1:5000")
    assert first["correlation_id"] == "c\\u2028"
    assert first["merchant"] == "m\\x0a"
    assert "auth_failure" not in first
    assert second["message"] == "failed x\\x85"
    assert "ValueError: no\\x0a411111XXXXXX1111" in second["exception"]
    assert "path" not in second


def test_logging_config_selects_the_json_format() -> None:
    assert logging_config("INFO", "json")["formatters"]["default"]["()"] is JsonFormatter


@pytest.mark.parametrize("formatter", [RedactingFormatter("%(message)s"), JsonFormatter()])
def test_records_masked_where_made_are_still_escaped(formatter: logging.Formatter) -> None:
    record = logging.LogRecord("opentms.http", logging.INFO, __file__, 1, "%s", ("a\nb",), None)
    record.__dict__.update(masked=True, path="a\nb")
    output = formatter.format(record)
    assert "\n" not in output
    message = json.loads(output)["message"] if isinstance(formatter, JsonFormatter) else output
    assert message == "a\\x0ab"
    # Without the mark, the formatter masks as well.
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "%s", ("4111111111111111",), None)
    assert "411111XXXXXX1111" in formatter.format(record)


def test_the_log_format_setting_accepts_text_and_json_only(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("OPENTMS_LOG_FORMAT", "json")
    assert Settings().log_format == "json"
    monkeypatch.setenv("OPENTMS_LOG_FORMAT", "xml")
    with pytest.raises(ValidationError):
        Settings()
