"""The schema, as SQLAlchemy Core tables portable across SQLite and PostgreSQL.

Migrations (``migrations/versions``) are the only way this schema reaches a
database; ``tests/storage/test_migrations.py`` checks they agree with it.

Card numbers and every resource's attributes are stored sealed (AES-256-GCM
under the merchant's data key); ``fingerprint`` is a keyed HMAC of the card.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every engine (SQLite keeps them naive)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is not None and dialect.name == "sqlite":
            return value.astimezone(UTC).replace(tzinfo=None)
        return value

    def process_result_value(
        self,
        value: datetime | None,
        dialect: Dialect,  # noqa: ARG002
    ) -> datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value


metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

TS = UTCDateTime()

merchants = Table(
    "merchants",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("data_key_wrapped", LargeBinary, nullable=False),
    Column("fingerprint_key_wrapped", LargeBinary, nullable=False),
    Column("default_profile_id", String(36), nullable=False),
    Column("created_at", TS, nullable=False),
)

profiles = Table(
    "profiles",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("merchant_id", ForeignKey("merchants.id"), nullable=False, index=True),
    Column("name", String(64), nullable=False),
    Column("network_tokens_enabled", Boolean, nullable=False),
    Column("created_at", TS, nullable=False),
)

# Credentials a merchant authenticates with, looked up by (kind, key_id):
# "http_signature" (sealed shared secret; also the HS256 JWT key),
# "jwt_certificate" (PEM certificate; key_id = subject serialNumber),
# "payment_credentials" (PEM public key the credential JWEs are encrypted to).
merchant_keys = Table(
    "merchant_keys",
    metadata,
    Column("kind", String(32), primary_key=True),
    Column("key_id", String(128), primary_key=True),
    Column("merchant_id", ForeignKey("merchants.id"), nullable=False, index=True),
    Column("material", LargeBinary, nullable=False),
    Column("created_at", TS, nullable=False),
)

# Keys of the server itself (e.g. the request-MLE key pair), sealed under the
# master key.
server_keys = Table(
    "server_keys",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("private_key_sealed", LargeBinary, nullable=False),
    Column("certificate_pem", Text, nullable=False),
    Column("created_at", TS, nullable=False),
)

instrument_identifiers = Table(
    "instrument_identifiers",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("merchant_id", ForeignKey("merchants.id"), nullable=False),
    Column("kind", String(8), nullable=False),
    Column("fingerprint", LargeBinary(32)),
    Column("instrument_sealed", LargeBinary),
    Column("attributes_sealed", LargeBinary),
    Column("state", String(16), nullable=False),
    Column("version", Integer, nullable=False),
    Column("created_at", TS, nullable=False),
    Column("updated_at", TS, nullable=False),
    Column("deleted_at", TS),
    UniqueConstraint("merchant_id", "fingerprint"),
)

customers = Table(
    "customers",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("merchant_id", ForeignKey("merchants.id"), nullable=False),
    Column("attributes_sealed", LargeBinary),
    Column("default_payment_instrument_id", String(32)),
    Column("default_shipping_address_id", String(32)),
    Column("version", Integer, nullable=False),
    Column("created_at", TS, nullable=False),
    Column("updated_at", TS, nullable=False),
    Column("deleted_at", TS),
)

payment_instruments = Table(
    "payment_instruments",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("merchant_id", ForeignKey("merchants.id"), nullable=False),
    Column("customer_id", ForeignKey("customers.id")),
    Column(
        "instrument_identifier_id",
        ForeignKey("instrument_identifiers.id"),
        nullable=False,
    ),
    Column("attributes_sealed", LargeBinary),
    Column("state", String(16), nullable=False),
    Column("version", Integer, nullable=False),
    Column("created_at", TS, nullable=False),
    Column("updated_at", TS, nullable=False),
    Column("deleted_at", TS),
    Index(None, "instrument_identifier_id", "deleted_at"),
    Index(None, "customer_id", "deleted_at"),
)

shipping_addresses = Table(
    "shipping_addresses",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("merchant_id", ForeignKey("merchants.id"), nullable=False),
    Column("customer_id", ForeignKey("customers.id"), nullable=False),
    Column("attributes_sealed", LargeBinary),
    Column("version", Integer, nullable=False),
    Column("created_at", TS, nullable=False),
    Column("updated_at", TS, nullable=False),
    Column("deleted_at", TS),
    Index(None, "customer_id", "deleted_at"),
)
