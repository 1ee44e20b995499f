"""The readiness probe (GET /readyz) of the storage adapter."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from sqlalchemy import create_engine

from opentms.adapters.storage import migrate
from opentms.adapters.storage.database import make_engine
from opentms.adapters.storage.readiness import SQLReadiness


def test_a_database_at_the_newest_schema_is_ready(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'ready.db'}")
    try:
        migrate.upgrade(engine)
        assert SQLReadiness(engine).unready_reason() is None
    finally:
        engine.dispose()


def test_a_database_behind_the_code_is_not_ready(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'behind.db'}")
    try:
        migrate.upgrade(engine, "0001")
        head = migrate.head_revision(engine)
        assert SQLReadiness(engine).unready_reason() == f"The schema is at 0001, not {head}."
    finally:
        engine.dispose()


def test_an_unreachable_database_is_not_ready(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'missing' / 'opentms.db'}")
    try:
        with caplog.at_level(logging.ERROR, "opentms.storage"):
            assert SQLReadiness(engine).unready_reason() == "The database is not reachable."
    finally:
        engine.dispose()
    assert "readiness check failed" in caplog.text
