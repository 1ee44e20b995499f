"""Logging set-up: one format for opentms and uvicorn (text or JSON lines), and
a last line of defence on every record: anything shaped like a card number is
masked and every control character is escaped, so that no request can hide a
card number from the filter or forge a log line (docs/security.md)."""

from __future__ import annotations

import bisect
import itertools
import logging
import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, Literal

import orjson

from opentms.domain.card import MAX_PAN_LENGTH, MIN_PAN_LENGTH, luhn_valid, mask_number

LogFormat = Literal["text", "json"]

# Security: characters that end or fake a line, or reorder what a terminal
# shows: C0, DEL, C1 (NEL included), the Unicode line and paragraph
# separators, the bidirectional formatting characters, and lone surrogates
# (which no encoder writes).
_INVISIBLE = "\x00-\x1f\x7f-\x9f\u200e\u200f\u2028-\u202e\u2066-\u2069\ud800-\udfff"
_UNSAFE = re.compile(f"[\\\\{_INVISIBLE}]")

# Digits joined by single separators: ``4000-0566-5566-5556``, ``4111 1111 ...``,
# or a number split by an invisible character; only chains of at least
# MIN_PAN_LENGTH digits match. Unrolled, with possessive quantifiers: the
# regular expression engine then rejects the digits of an ordinary line (its
# time, an address, a status) about as fast as a plain digit run.
_SEPARATOR = f"[ .\\-{_INVISIBLE}]"
_CHAIN = re.compile(
    "[0-9]" + f"{_SEPARATOR}?+[0-9]" * (MIN_PAN_LENGTH - 1) + f"(?:{_SEPARATOR}?[0-9])*+"
)
_RUN = re.compile("[0-9]+")
_DIGIT = re.compile("[0-9]")
# A card number written in groups has at least 13 digits: an IPv4 address
# (at most 12 digits in four groups) is never taken for one.
_MIN_GROUPED = 13
_HEAD, _TAIL = 6, 4
# Security: how many grouped candidates one call judges one by one (each a
# Luhn check). Past it, a chain is masked whole but for its first six and last
# four digits, which hides every candidate in it: a 32 KB path of ``1.1.1...``
# costs about as much as one of plain digits instead of tens of milliseconds.
_STEPS = 512


def redact(text: str) -> str:
    """Mask every card number in ``text`` as TMS masks them (first six and
    last four digits kept; a 12-digit number keeps its last four).

    A card number is a Luhn-valid number of 12 to 19 digits written in one
    piece (letters around it do not matter), or of 13 to 19 digits written in
    groups joined by single spaces, dashes, dots or invisible characters (a
    window of whole groups). Only ASCII digits count. Luhn-invalid numbers are
    left alone, so that instrument identifier ids (19 digits, generated to
    fail the check) stay readable; a mistyped card number is not masked.
    """
    return _CHAIN.sub(_Masker(), text)


class _Masker:
    """Masks the card numbers of one chain (the ``re.sub`` callback of one
    :func:`redact` call, which shares the step budget between its chains)."""

    __slots__ = ("steps",)

    def __init__(self) -> None:
        self.steps = _STEPS

    def __call__(self, match: re.Match[str]) -> str:
        chain = match.group()
        if chain.isdigit():
            if len(chain) <= MAX_PAN_LENGTH and luhn_valid(chain):
                return mask_number(chain)
            return chain
        runs = [run.span() for run in _RUN.finditer(chain)]
        # bounds[k]: where run k starts among the chain's digits; bounds[-1]: their count.
        bounds = list(itertools.accumulate((end - start for start, end in runs), initial=0))
        digits = "".join(chain[start:end] for start, end in runs)
        hidden: list[tuple[int, int]] = []  # digit positions to mask, [start, end)
        for start, end in itertools.pairwise(bounds):
            if MIN_PAN_LENGTH <= end - start <= MAX_PAN_LENGTH:
                self._judge(digits, start, end, hidden)
        if bounds[-1] >= _MIN_GROUPED and not self._judge_windows(digits, bounds, hidden):
            hidden.append((_HEAD, bounds[-1] - _TAIL))
        if not hidden:
            return chain
        return _mask_positions(chain, runs, bounds, hidden)

    def _judge(self, digits: str, start: int, end: int, hidden: list[tuple[int, int]]) -> None:
        if luhn_valid(digits[start:end]):
            head = _HEAD if end - start > 12 else 0
            hidden.append((start + head, end - _TAIL))

    def _judge_windows(self, digits: str, bounds: list[int], hidden: list[tuple[int, int]]) -> bool:
        """Judge every window of two or more whole runs holding 13 to 19
        digits; False when the budget ran out first."""
        runs = len(bounds) - 1
        for first in range(runs - 1):
            start = bounds[first]
            shortest = bisect.bisect_left(bounds, start + _MIN_GROUPED, first + 2)
            longest = bisect.bisect_right(bounds, start + MAX_PAN_LENGTH, shortest)
            self.steps -= 1 + longest - shortest
            if self.steps < 0:
                return False
            for last in range(shortest, longest):
                self._judge(digits, start, bounds[last], hidden)
        return True


def _mask_positions(
    chain: str, runs: list[tuple[int, int]], bounds: list[int], hidden: list[tuple[int, int]]
) -> str:
    """``chain`` with the digits at the ``hidden`` positions replaced by X."""

    def offset(position: int) -> int:
        # Where the digit at ``position`` (counted among digits) is in ``chain``.
        run = bisect.bisect_right(bounds, position) - 1
        return runs[run][0] + position - bounds[run]

    out = list(chain)
    for start, end in hidden:
        if start < end:
            first, last = offset(start), offset(end - 1) + 1
            out[first:last] = _DIGIT.sub("X", chain[first:last])
    return "".join(out)


def escape(text: str) -> str:
    """``text`` with every control character written as visible text
    (``\\x0a``, ``\\u2028``) and backslashes doubled, so that the original can
    be read back unambiguously and one record is one line."""
    if text.isascii() and text.isprintable() and "\\" not in text:
        return text
    return _UNSAFE.sub(_escape_one, text)


def _escape_one(match: re.Match[str]) -> str:
    code = ord(match.group())
    if code == 0x5C:
        return "\\\\"
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def clean(text: str) -> str:
    """``text`` as it may be written to a log: card numbers masked (before
    escaping, so that an invisible character does not hide one), then
    control characters escaped."""
    return escape(redact(text))


def _clean_for(record: logging.LogRecord) -> Callable[[str], str]:
    # A record made with its arguments masked already (``masked=True`` in
    # ``extra``: the access log, on every request, whose other fields are the
    # server's own) is only escaped; masking it again would cost about a
    # quarter of the line's time for nothing.
    return escape if record.__dict__.get("masked") is True else clean


class RedactingFormatter(logging.Formatter):
    """Text lines. Security: messages, their arguments, tracebacks and
    third-party messages can carry values we never meant to log; each is
    cleaned, so a record (traceback included) is always one line."""

    def format(self, record: logging.LogRecord) -> str:
        # logging.Formatter.format, with the message and what follows it cleaned
        # (the time, level and logger name are ours: not scanned, for speed).
        record.message = _clean_for(record)(record.getMessage())
        if self.usesTime():
            record.asctime = self.formatTime(record, self.datefmt)
        line = self.formatMessage(record)
        if record.exc_info:
            line += clean("\n" + self.formatException(record.exc_info))
        if record.stack_info:
            line += clean("\n" + self.formatStack(record.stack_info))
        return line


# The fields of an access-log record (opentms.http), in the order written.
ACCESS_FIELDS = (
    "client",
    "method",
    "path",
    "status",
    "duration_ms",
    "correlation_id",
    "merchant",
    "auth_failure",
)


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ``ts``, ``level``, ``logger``, ``message``,
    the access fields the record has (those that are None are left out), ``exception`` and ``stack``
    when present. Every string is cleaned as in the text format, so a parsed
    value holds no control character either."""

    def format(self, record: logging.LogRecord) -> str:
        cleaned = _clean_for(record)
        entry: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": cleaned(record.getMessage()),
        }
        for name in ACCESS_FIELDS:
            value = record.__dict__.get(name)
            if value is None:
                continue
            is_number = isinstance(value, int | float) and not isinstance(value, bool)
            entry[name] = value if is_number else cleaned(str(value))
        if record.exc_info:
            entry["exception"] = clean(self.formatException(record.exc_info))
        if record.stack_info:
            entry["stack"] = clean(self.formatStack(record.stack_info))
        return orjson.dumps(entry).decode()


def logging_config(level: str = "INFO", log_format: LogFormat = "text") -> dict[str, Any]:
    """A ``logging.config.dictConfig`` for opentms and uvicorn."""
    formatter: dict[str, Any] = (
        {"()": JsonFormatter}
        if log_format == "json"
        else {
            "()": RedactingFormatter,
            "format": "%(asctime)s %(levelname)s %(name)s %(message)s",
        }
    )
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"default": formatter},
        "handlers": {
            "default": {
                "class": "logging.StreamHandler",
                "formatter": "default",
                "stream": "ext://sys.stderr",
            }
        },
        "root": {"handlers": ["default"], "level": level},
        "loggers": {
            "alembic": {"level": "WARNING"},
            # httpx's INFO line names a webhook receiver's whole URL (its query
            # may hold a secret); the dispatcher logs each attempt by ids.
            "httpx": {"level": "WARNING"},
            "httpcore": {"level": "WARNING"},
            "uvicorn": {"handlers": [], "propagate": True},
            "uvicorn.error": {"handlers": [], "propagate": True},
            # opentms.http writes its own access line; uvicorn's would repeat it.
            "uvicorn.access": {"handlers": [], "propagate": False, "level": "WARNING"},
        },
    }
