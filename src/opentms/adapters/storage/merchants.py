"""Merchants, their profiles and credentials, and the server's own keys."""

from __future__ import annotations

import base64
from collections.abc import Callable, Sequence
from datetime import datetime

import orjson
from sqlalchemy import Connection, Engine, func, select, update
from sqlalchemy.exc import IntegrityError

from opentms.adapters.storage.audit import AuditSettings, append
from opentms.adapters.storage.tables import (
    merchant_keys,
    merchants,
    profiles,
    registry_epoch,
    server_keys,
)
from opentms.domain.audit import AuditEntry
from opentms.domain.merchant import (
    CredentialSummary,
    KeyKind,
    KeyRecord,
    MerchantRecord,
    MerchantStatus,
    MerchantSummary,
    Profile,
    ProfileSummary,
    ServerKeyRecord,
    WrappedKeys,
)
from opentms.services.merchants import AlreadyRegistered, InvalidRegistration


class SQLMerchantStore:
    """Reads and writes of the tables that are not scoped to one merchant."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        # The audit log, once on (set by bootstrap: its id key is a server
        # key this store holds). Registrations are recorded with their change.
        self.audit: AuditSettings | None = None

    def _audit(self, conn: Connection, action: str, resource_ids: tuple[str, ...]) -> None:
        if self.audit is not None:
            recorder = self.audit.recorder()
            recorder.record(action, action.split(".")[0], resource_ids)
            append(conn, recorder.take())

    def add_merchant(
        self,
        record: MerchantRecord,
        profile: Profile,
        keys: list[KeyRecord],
        now: datetime,
    ) -> None:
        """Register a merchant with its default profile and keys, atomically."""
        try:
            with self._engine.begin() as conn:
                conn.execute(
                    merchants.insert().values(
                        id=record.id,
                        data_key_wrapped=record.wrapped_keys.data_key,
                        fingerprint_key_wrapped=record.wrapped_keys.fingerprint_key,
                        default_profile_id=record.default_profile_id,
                        created_at=now,
                    )
                )
                conn.execute(
                    profiles.insert().values(
                        id=profile.id,
                        merchant_id=profile.merchant_id,
                        name=profile.name,
                        network_tokens_enabled=profile.network_tokens_enabled,
                        created_at=now,
                    )
                )
                for key in keys:
                    conn.execute(
                        merchant_keys.insert().values(
                            kind=key.kind.value,
                            key_id=key.key_id,
                            merchant_id=key.merchant_id,
                            material=key.material,
                            created_at=now,
                        )
                    )
                self._audit(conn, "merchant.register", (record.id, profile.id))
        except IntegrityError as exc:
            self._refuse_shredded(record.id)
            raise AlreadyRegistered(
                f"Merchant {record.id!r} (or one of the given key ids) is already registered."
            ) from exc

    def _refuse_shredded(self, merchant_id: str) -> None:
        """A shredded merchant's id stays taken by its tombstone, for good."""
        with self._engine.connect() as conn:
            shredded_at = conn.execute(
                select(merchants.c.shredded_at).where(merchants.c.id == merchant_id)
            ).scalar_one_or_none()
        if shredded_at is not None:
            raise AlreadyRegistered(
                f"Merchant {merchant_id!r} was shredded at {shredded_at.isoformat()}: its id "
                "cannot be registered again (its rows remain as unreadable tombstones)."
            )

    def add_profile(self, profile: Profile, now: datetime) -> None:
        try:
            with self._engine.begin() as conn:
                conn.execute(
                    profiles.insert().values(
                        id=profile.id,
                        merchant_id=profile.merchant_id,
                        name=profile.name,
                        network_tokens_enabled=profile.network_tokens_enabled,
                        created_at=now,
                    )
                )
                self._audit(conn, "profile.create", (profile.merchant_id, profile.id))
        except IntegrityError as exc:
            raise AlreadyRegistered(f"Profile {profile.id!r} is already registered.") from exc

    def find_merchant(self, merchant_id: str) -> MerchantRecord | None:
        with self._engine.connect() as conn:
            row = conn.execute(select(merchants).where(merchants.c.id == merchant_id)).first()
        if row is None or row.shredded_at is not None:
            # A shredded merchant's row is only its tombstone.
            return None
        return MerchantRecord(
            row.id,
            WrappedKeys(
                row.data_key_wrapped,
                row.fingerprint_key_wrapped,
                previous_data_keys(row.previous_data_keys),
            ),
            row.default_profile_id,
        )

    def registry_epoch(self) -> int:
        """The registry's epoch (tables.registry_epoch): it moves whenever a
        merchant's credentials or keys change."""
        with self._engine.connect() as conn:
            return int(
                conn.execute(
                    select(registry_epoch.c.epoch).where(registry_epoch.c.id == 1)
                ).scalar_one()
            )

    def list_merchants(self) -> list[str]:
        with self._engine.connect() as conn:
            return list(conn.execute(select(merchants.c.id).order_by(merchants.c.id)).scalars())

    def merchant_summaries(self) -> list[MerchantSummary]:
        """Every merchant, by id, with its key ids and its number of profiles."""
        listed = (KeyKind.HTTP_SIGNATURE.value, KeyKind.JWT_CERTIFICATE.value)
        with self._engine.connect() as conn:
            rows = conn.execute(select(merchants).order_by(merchants.c.id)).all()
            keys = conn.execute(
                select(merchant_keys.c.merchant_id, merchant_keys.c.kind, merchant_keys.c.key_id)
                .where(merchant_keys.c.kind.in_(listed), merchant_keys.c.revoked_at.is_(None))
                .order_by(merchant_keys.c.created_at.desc(), merchant_keys.c.key_id)
            ).all()
            counted = conn.execute(
                select(profiles.c.merchant_id, func.count()).group_by(profiles.c.merchant_id)
            ).all()
        counts = {merchant_id: int(count) for merchant_id, count in counted}
        ids: dict[tuple[str, str], list[str]] = {}
        for key in keys:
            ids.setdefault((key.merchant_id, key.kind), []).append(key.key_id)
        return [
            MerchantSummary(
                id=row.id,
                default_profile_id=row.default_profile_id,
                key_ids=tuple(ids.get((row.id, KeyKind.HTTP_SIGNATURE.value), [])),
                jwt_kids=tuple(ids.get((row.id, KeyKind.JWT_CERTIFICATE.value), [])),
                profiles=counts.get(row.id, 0),
                created_at=row.created_at,
                shredded_at=row.shredded_at,
            )
            for row in rows
        ]

    def profile_summaries(self, merchant_id: str) -> list[ProfileSummary]:
        """The merchant's profiles, oldest first (the default one is the first)."""
        with self._engine.connect() as conn:
            rows = conn.execute(
                select(profiles, merchants.c.default_profile_id)
                .join(merchants, merchants.c.id == profiles.c.merchant_id)
                .where(profiles.c.merchant_id == merchant_id)
                .order_by(profiles.c.created_at, profiles.c.id)
            ).all()
        return [
            ProfileSummary(
                id=row.id,
                name=row.name,
                network_tokens_enabled=row.network_tokens_enabled,
                default=row.id == row.default_profile_id,
                created_at=row.created_at,
            )
            for row in rows
        ]

    def find_profile(self, merchant_id: str, profile_id: str) -> Profile | None:
        with self._engine.connect() as conn:
            row = conn.execute(
                select(profiles).where(
                    profiles.c.id == profile_id, profiles.c.merchant_id == merchant_id
                )
            ).first()
        if row is None:
            return None
        return Profile(row.id, row.merchant_id, row.name, row.network_tokens_enabled)

    def find_key(self, kind: KeyKind, key_id: str) -> KeyRecord | None:
        with self._engine.connect() as conn:
            row = conn.execute(
                select(merchant_keys).where(
                    merchant_keys.c.kind == kind.value,
                    merchant_keys.c.key_id == key_id,
                    merchant_keys.c.revoked_at.is_(None),
                )
            ).first()
        if row is None:
            return None
        return KeyRecord(KeyKind(row.kind), row.key_id, row.merchant_id, row.material)

    def keys_of(self, merchant_id: str, kind: KeyKind) -> list[KeyRecord]:
        with self._engine.connect() as conn:
            rows = conn.execute(
                select(merchant_keys)
                .where(
                    merchant_keys.c.merchant_id == merchant_id,
                    merchant_keys.c.kind == kind.value,
                    merchant_keys.c.revoked_at.is_(None),
                )
                .order_by(merchant_keys.c.created_at.desc())
            ).all()
        return [KeyRecord(KeyKind(r.kind), r.key_id, r.merchant_id, r.material) for r in rows]

    # Credential rotation ------------------------------------------------------

    def merchant_status(self, merchant_id: str) -> MerchantStatus | None:
        with self._engine.connect() as conn:
            row = conn.execute(select(merchants).where(merchants.c.id == merchant_id)).first()
        if row is None:
            return None
        return MerchantStatus(
            row.id,
            row.default_profile_id,
            row.created_at,
            row.shredded_at,
            row.data_key_rotated_at,
        )

    def credentials_of(self, merchant_id: str) -> list[CredentialSummary]:
        with self._engine.connect() as conn:
            return _credentials(conn, merchant_id)

    def add_keys(
        self,
        merchant_id: str,
        keys: Sequence[KeyRecord],
        now: datetime,
        audit: Sequence[AuditEntry],
    ) -> None:
        try:
            with self._engine.begin() as conn:
                _lock_live_merchant(conn, merchant_id)
                for key in keys:
                    conn.execute(
                        merchant_keys.insert().values(
                            kind=key.kind.value,
                            key_id=key.key_id,
                            merchant_id=merchant_id,
                            material=key.material,
                            created_at=now,
                        )
                    )
                bump_registry_epoch(conn)
                append(conn, audit)
        except IntegrityError as exc:
            ids = ", ".join(repr(key.key_id) for key in keys)
            raise AlreadyRegistered(
                f"A key id among {ids} is already registered (a revoked key's id is never reused)."
            ) from exc

    def revoke_key(
        self,
        merchant_id: str,
        choose: Callable[[list[CredentialSummary]], tuple[CredentialSummary, AuditEntry]],
        now: datetime,
    ) -> CredentialSummary:
        with self._engine.begin() as conn:
            _lock_live_merchant(conn, merchant_id)
            chosen, entry = choose(_credentials(conn, merchant_id))
            conn.execute(
                update(merchant_keys)
                .where(
                    merchant_keys.c.merchant_id == merchant_id,
                    merchant_keys.c.kind == chosen.kind.value,
                    merchant_keys.c.key_id == chosen.key_id,
                    merchant_keys.c.revoked_at.is_(None),
                )
                .values(revoked_at=now)
            )
            bump_registry_epoch(conn)
            append(conn, [entry])
        return CredentialSummary(chosen.kind, chosen.key_id, chosen.created_at, now)

    def find_server_key(self, name: str) -> ServerKeyRecord | None:
        with self._engine.connect() as conn:
            row = conn.execute(select(server_keys).where(server_keys.c.name == name)).first()
        if row is None:
            return None
        return ServerKeyRecord(row.name, row.secret_sealed, row.certificate_pem)

    def add_server_key(self, record: ServerKeyRecord, now: datetime) -> ServerKeyRecord:
        """Insert, or return the record another process inserted first."""
        try:
            with self._engine.begin() as conn:
                conn.execute(
                    server_keys.insert().values(
                        name=record.name,
                        secret_sealed=record.secret_sealed,
                        certificate_pem=record.certificate_pem,
                        created_at=now,
                    )
                )
        except IntegrityError:
            existing = self.find_server_key(record.name)
            if existing is None:
                raise
            return existing
        return record


def _lock_live_merchant(conn: Connection, merchant_id: str) -> None:
    """Lock the merchant's row for the transaction (PostgreSQL; SQLite's
    BEGIN IMMEDIATE already holds the database's write lock), so changes to
    one merchant's credentials run one after the other; refuse an unknown or
    shredded merchant."""
    query = select(merchants.c.shredded_at).where(merchants.c.id == merchant_id)
    if conn.dialect.name != "sqlite":
        query = query.with_for_update()
    row = conn.execute(query).first()
    if row is None or row.shredded_at is not None:
        raise InvalidRegistration(f"No merchant {merchant_id!r} is registered.")


def _credentials(conn: Connection, merchant_id: str) -> list[CredentialSummary]:
    rows = conn.execute(
        select(
            merchant_keys.c.kind,
            merchant_keys.c.key_id,
            merchant_keys.c.created_at,
            merchant_keys.c.revoked_at,
        )
        .where(merchant_keys.c.merchant_id == merchant_id)
        .order_by(merchant_keys.c.created_at, merchant_keys.c.kind, merchant_keys.c.key_id)
    ).all()
    return [CredentialSummary(KeyKind(r.kind), r.key_id, r.created_at, r.revoked_at) for r in rows]


def bump_registry_epoch(conn: Connection) -> None:
    """Move the registry epoch, in ``conn``'s transaction: every process drops
    what it cached of merchants at its next authentication once it commits."""
    conn.execute(
        update(registry_epoch)
        .where(registry_epoch.c.id == 1)
        .values(epoch=registry_epoch.c.epoch + 1)
    )


def previous_data_keys(stored: str | None) -> tuple[bytes, ...]:
    """The wrapped earlier data keys of ``merchants.previous_data_keys``."""
    if not stored:
        return ()
    return tuple(base64.b64decode(item) for item in orjson.loads(stored))


def store_previous_data_keys(wrapped: tuple[bytes, ...]) -> str | None:
    """``merchants.previous_data_keys`` for ``wrapped`` (None when empty)."""
    if not wrapped:
        return None
    return orjson.dumps([base64.b64encode(item).decode() for item in wrapped]).decode()
