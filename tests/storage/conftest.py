"""Databases for storage tests: a fresh SQLite file, and (when
OPENTMS_TEST_POSTGRES_URL is set) a fresh PostgreSQL schema dropped afterwards."""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url

from opentms.adapters.storage.database import make_engine


@pytest.fixture
def postgres_engine(postgres_url: str) -> Iterator[Engine]:
    """An engine whose connections live in a new, empty schema."""
    schema = f"opentms_test_{secrets.token_hex(6)}"
    admin = make_engine(postgres_url)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = make_url(postgres_url).update_query_dict({"options": f"-csearch_path={schema}"})
    engine = make_engine(url.render_as_string(hide_password=False))
    try:
        yield engine
    finally:
        engine.dispose()
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()
