"""Webhook signing keys over SQL: 32 random bytes per key, sealed under the
merchant's data key; the newest key whose ``signs_from`` has come signs."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import Engine, insert, select

from opentms.adapters.storage.audit import AuditSettings, append
from opentms.adapters.storage.sealed_columns import webhook_key_context
from opentms.adapters.storage.tables import webhook_keys
from opentms.crypto.keyring import MerchantKeys
from opentms.domain import randomness
from opentms.domain.ports import SigningKey

_keys = webhook_keys.c


class SQLSigningKeys:
    """:class:`~opentms.domain.ports.SigningKeys` of one engine;
    ``merchant_keys`` opens a merchant's data keys."""

    def __init__(
        self,
        engine: Engine,
        merchant_keys: Callable[[str], MerchantKeys],
        audit: AuditSettings | None = None,
    ) -> None:
        self._engine = engine
        self._merchant_keys = merchant_keys
        self._audit = audit

    def create(
        self,
        merchant_id: str,
        now: datetime,
        overlap: timedelta,
        lifetime: timedelta,
        client_reference_code: str | None = None,
    ) -> tuple[SigningKey, datetime]:
        key = SigningKey(
            str(uuid.UUID(bytes=randomness.token_bytes("webhook key id", 16), version=4)),
            randomness.token_bytes("webhook key", 32),
        )
        sealed = self._merchant_keys(merchant_id).seal(key.secret, webhook_key_context(key.key_id))
        expires_at = now + lifetime
        with self._engine.begin() as conn:
            has_one = conn.execute(
                select(_keys.id).where(_keys.merchant_id == merchant_id).limit(1)
            ).first()
            conn.execute(
                insert(webhook_keys),
                {
                    "id": key.key_id,
                    "merchant_id": merchant_id,
                    "key_sealed": sealed,
                    "created_at": now,
                    "signs_from": now + overlap if has_one else now,
                    "expires_at": expires_at,
                    "client_reference_code": client_reference_code,
                },
            )
            if self._audit is not None:
                recorder = self._audit.recorder()
                recorder.record("webhookKey.create", "webhookSigningKey", key.key_id)
                append(conn, recorder.take())
        return key, expires_at

    def current(self, merchant_id: str, now: datetime) -> SigningKey | None:
        with self._engine.connect() as conn:
            row = conn.execute(
                select(_keys.id, _keys.key_sealed)
                .where(_keys.merchant_id == merchant_id, _keys.signs_from <= now)
                .order_by(_keys.signs_from.desc(), _keys.created_at.desc())
                .limit(1)
            ).first()
        if row is None:
            return None
        secret = self._merchant_keys(merchant_id).unseal(
            row.key_sealed, webhook_key_context(row.id)
        )
        return SigningKey(row.id, secret)
