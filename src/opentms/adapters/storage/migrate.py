"""Schema migrations (Alembic), run in-process by ``opentms db upgrade`` and at
start-up. The migration scripts ship inside the package."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, text

if TYPE_CHECKING:
    from opentms.crypto.keyring import Keyring

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(engine: Engine, keyring: Callable[[], Keyring] | None = None) -> Config:
    """``keyring`` gives the master keys to migrations that re-seal card data
    (0004); it is called only when such a migration finds rows to change."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option(
        "file_template",
        "%%(year)d_%%(month).2d_%%(day).2d_%%(hour).2d%%(minute).2d-%%(rev)s_%%(slug)s",
    )
    config.attributes["engine"] = engine
    config.attributes["keyring"] = keyring
    return config


def upgrade(
    engine: Engine, revision: str = "head", keyring: Callable[[], Keyring] | None = None
) -> None:
    """Bring the database to ``revision`` (default: the newest). Safe when many
    processes start at once: SQLite serialises the write transactions, and on
    PostgreSQL an advisory lock makes the others wait, then find nothing to do."""
    config = alembic_config(engine, keyring)
    if revision == "head" and _at_head(engine, config):
        # Nothing to do: take no write lock (on SQLite, BEGIN IMMEDIATE would
        # hold a running server's writes while alembic loads its scripts).
        return
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(7207510)"))
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def _at_head(engine: Engine, config: Config) -> bool:
    with engine.connect() as connection:
        current = MigrationContext.configure(connection).get_current_revision()
    return current is not None and current == ScriptDirectory.from_config(config).get_current_head()


def downgrade(engine: Engine, revision: str, keyring: Callable[[], Keyring] | None = None) -> None:
    config = alembic_config(engine, keyring)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, revision)


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def head_revision(engine: Engine) -> str | None:
    return ScriptDirectory.from_config(alembic_config(engine)).get_current_head()
