"""Fixtures of the API tests: an unsigned client for hand-made requests, and a
guard that fails any test during which the app answered 500."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import httpx
import pytest
from starlette.applications import Starlette

from opentms.client import ASGIAppTransport


class _ErrorRecords(logging.Handler):
    """Keeps what the app logs at ERROR: it does so for every 500 it answers."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture(autouse=True)
def no_server_errors() -> Iterator[None]:
    """No request of an API test may make the server fail (DESIGN.md §8)."""
    handler = _ErrorRecords()
    logger = logging.getLogger("opentms.http")
    logger.addHandler(handler)
    try:
        yield
    finally:
        logger.removeHandler(handler)
    assert not handler.records, [record.getMessage() for record in handler.records]


@pytest.fixture
def raw_client(app: Starlette) -> Iterator[httpx.Client]:
    """A client that signs nothing: the test sends its own credentials."""
    with httpx.Client(transport=ASGIAppTransport(app), base_url="http://testserver") as c:
        yield c
