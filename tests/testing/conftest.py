"""Fixtures of the plugin's tests: on OPENTMS_TEST_BACKEND=postgresql, the
sandboxes they start keep their state in a fresh PostgreSQL schema."""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Iterator

import pytest


@contextlib.contextmanager
def fresh_database() -> Iterator[str | None]:
    """None (SQLite in the sandbox's directory), or a fresh schema on
    OPENTMS_TEST_POSTGRES_URL, dropped after."""
    if os.environ.get("OPENTMS_TEST_BACKEND", "sqlite") != "postgresql":
        yield None
        return
    import sqlalchemy

    base = os.environ["OPENTMS_TEST_POSTGRES_URL"]
    schema = f"opentms_plugin_{uuid.uuid4().hex[:12]}"
    engine = sqlalchemy.create_engine(base)
    with engine.begin() as connection:
        connection.execute(sqlalchemy.text(f"CREATE SCHEMA {schema}"))
    separator = "&" if "?" in base else "?"
    try:
        yield f"{base}{separator}options=-csearch_path%3D{schema}"
    finally:
        with engine.begin() as connection:
            connection.execute(sqlalchemy.text(f"DROP SCHEMA {schema} CASCADE"))
        engine.dispose()


@pytest.fixture(scope="module")
def plugin_database_url() -> Iterator[str | None]:
    """The database of the module's sandbox."""
    with fresh_database() as url:
        yield url


@pytest.fixture
def database_options() -> Iterator[list[str]]:
    """The plugin's command-line options for a database of the test's own."""
    with fresh_database() as url:
        yield [f"--opentms-database-url={url}"] if url else []
