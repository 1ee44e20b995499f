from __future__ import annotations

import io
import logging
import logging.config
import random
from collections.abc import Iterator

import pytest

from opentms.domain import ids
from opentms.domain.card import luhn_valid
from opentms.observability import RedactingFormatter, logging_config, redact


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("4111111111111111", "411111XXXXXX1111", id="alone"),
        pytest.param("card 4111111111111111 ok", "card 411111XXXXXX1111 ok", id="in-words"),
        pytest.param("pan=4111111111111111;", "pan=411111XXXXXX1111;", id="after-equals"),
        pytest.param('{"number":"5555555555554444"}', '{"number":"555555XXXXXX4444"}', id="json"),
        pytest.param("x378282246310005y", "x378282246310005y", id="glued-to-letters-is-an-id"),
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
    runs = [run for run in _digit_runs(text) if 12 <= len(run) <= 19]
    return sum(1 for run in runs if luhn_valid(run))


def _digit_runs(text: str) -> Iterator[str]:
    run = ""
    for char in text + " ":
        if char.isdigit():
            run += char
        elif run:
            yield run
            run = ""


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


@pytest.mark.parametrize(
    "token_id",
    [
        # A customer / payment instrument id whose digits 10..21 happen to be a
        # Luhn-valid 12-digit run between hex letters.
        pytest.param("1C897064B916788087226FBF17E7FCD5", id="luhn-valid-run-inside"),
        pytest.param("F2F3ADA770102B51E053A2598D0A9078", id="documented-example"),
    ],
)
def test_redact_leaves_token_ids(token_id: str) -> None:
    assert redact(token_id) == token_id
    assert redact(f"/tms/v2/customers/{token_id}") == f"/tms/v2/customers/{token_id}"


def test_redact_leaves_token_shaped_ids() -> None:
    # 32 upper-case hex characters, as ids.new_token_id draws them, from a
    # seeded generator so that the outcome does not depend on chance.
    draws = random.Random(1124)  # noqa: S311 - test data
    changed = []
    for _ in range(2000):
        token_id = "".join(draws.choice("0123456789ABCDEF") for _ in range(32))
        if redact(token_id) != token_id:
            changed.append(token_id)
    assert changed == []


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
