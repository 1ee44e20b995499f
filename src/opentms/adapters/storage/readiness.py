"""The readiness probe on the database: it answers, at the newest schema."""

from __future__ import annotations

import logging

from sqlalchemy import Engine, text

from opentms.adapters.storage import migrate

log = logging.getLogger("opentms.storage")


class SQLReadiness:
    """:class:`~opentms.domain.ports.ReadinessProbe` of one engine."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def unready_reason(self) -> str | None:
        try:
            with self._engine.connect() as connection:
                connection.execute(text("SELECT 1"))
            current = migrate.current_revision(self._engine)
            head = migrate.head_revision(self._engine)
        except Exception:
            log.exception("readiness check failed")
            return "The database is not reachable."
        if current != head:
            return f"The schema is at {current}, not {head}."
        return None
