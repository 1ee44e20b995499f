"""Fixtures of the plugin's tests: on OPENTMS_TEST_BACKEND=postgresql, the
sandboxes they start keep their state in a fresh PostgreSQL schema."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support import backend_database_url

PREFIX = "opentms_plugin"  # of their schemas


@pytest.fixture(scope="module")
def plugin_database_url() -> Iterator[str | None]:
    """The database of the module's sandbox."""
    with backend_database_url(PREFIX) as url:
        yield url


@pytest.fixture
def database_options() -> Iterator[list[str]]:
    """The plugin's command-line options for a database of the test's own."""
    with backend_database_url(PREFIX) as url:
        yield [f"--opentms-database-url={url}"] if url else []
