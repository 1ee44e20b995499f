"""The record of JWTs already accepted (shared by every opentms process)."""

from __future__ import annotations

import secrets
from datetime import datetime

from sqlalchemy import Engine, delete
from sqlalchemy.exc import IntegrityError

from opentms.adapters.storage.tables import used_tokens

_INSERT = used_tokens.insert()


class SQLReplayGuard:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def first_use(self, digest: bytes, expires_at: datetime) -> bool:
        try:
            with self._engine.begin() as conn:
                conn.execute(_INSERT, {"digest": digest, "expires_at": expires_at})
                # Now and then, forget tokens that have expired (they would be
                # refused as expired anyway).
                if secrets.randbelow(256) == 0:
                    conn.execute(delete(used_tokens).where(used_tokens.c.expires_at < expires_at))
        except IntegrityError:
            return False
        return True
