"""Fixtures of the delivery tests: a database of their own per test (SQLite in
a temporary directory, or a fresh PostgreSQL schema in the PostgreSQL pass),
with a merchant, and a real HTTP receiver."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from opentms.bootstrap import open_database
from tests.conftest import make_settings
from tests.support import backend_database_url
from tests.webhooks.delivery.receiver import Receiver, receiver
from tests.webhooks.delivery.support import FakeClock, Vault


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def vault(tmp_path: Path, clock: FakeClock) -> Iterator[Vault]:
    with backend_database_url("opentms_webhooks") as url:
        database = open_database(make_settings(tmp_path / "data", database_url=url))
        opened = Vault.open(database, clock)
        try:
            yield opened
        finally:
            opened.close()


@pytest.fixture
def hook() -> Iterator[Receiver]:
    with receiver() as started:
        yield started
