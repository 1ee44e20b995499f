"""Logging set-up: one format for opentms and uvicorn, and a last line of
defence that masks anything shaped like a card number before it is written."""

from __future__ import annotations

import logging
import re
from typing import Any

from opentms.domain.card import luhn_valid, mask_number

# Runs of digits glued to letters are parts of hexadecimal ids, not card numbers.
_CANDIDATE = re.compile(r"(?<![0-9A-Za-z])[0-9]{12,19}(?![0-9A-Za-z])")


def redact(text: str) -> str:
    """Mask every Luhn-valid run of 12 to 19 digits not glued to letters."""

    def mask(match: re.Match[str]) -> str:
        digits = match.group(0)
        return mask_number(digits) if luhn_valid(digits) else digits

    return _CANDIDATE.sub(mask, text)


class RedactingFormatter(logging.Formatter):
    # Security: tracebacks and third-party messages can carry values we never
    # meant to log; the formatted line is scrubbed as a whole.
    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


def logging_config(level: str = "INFO") -> dict[str, Any]:
    """A ``logging.config.dictConfig`` for opentms and uvicorn."""
    formatter = {
        "()": RedactingFormatter,
        "format": "%(asctime)s %(levelname)s %(name)s %(message)s",
    }
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
            "uvicorn": {"handlers": [], "propagate": True},
            "uvicorn.error": {"handlers": [], "propagate": True},
            # opentms.http writes its own access line; uvicorn's would repeat it.
            "uvicorn.access": {"handlers": [], "propagate": False, "level": "WARNING"},
        },
    }
