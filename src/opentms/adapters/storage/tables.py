"""The schema, as SQLAlchemy Core tables portable across SQLite and PostgreSQL.

Migrations (``migrations/versions``) are the only way this schema reaches a
database; ``tests/storage/test_migrations.py`` checks they agree with it.

Card numbers and every resource's attributes are stored sealed (AES-256-GCM
under the merchant's data key); ``fingerprint`` is a keyed HMAC of the card.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Float,
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
    # Wrapped under the master key; empty once the merchant is shredded (the
    # columns stay NOT NULL: SQLite would rebuild the table to relax that).
    Column("data_key_wrapped", LargeBinary, nullable=False),
    Column("fingerprint_key_wrapped", LargeBinary, nullable=False),
    Column("default_profile_id", String(36), nullable=False),
    Column("created_at", TS, nullable=False),
    # A data-key rotation under way (docs/security.md): the earlier data keys,
    # wrapped under the master key, as a JSON list of base64 strings (newest
    # first); they still open values until every one is sealed again.
    Column("previous_data_keys", Text),
    Column("data_key_rotated_at", TS),
    # Crypto-shredded: its keys are destroyed; the row is the tombstone.
    Column("shredded_at", TS),
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
    # Revoked credentials stay listed but authenticate nothing.
    Column("revoked_at", TS),
)

# Secrets of the server itself, sealed under the master key: the request-MLE
# key pair (with its certificate), the simulated networks' issuer master keys
# and the key of the network-wide card index.
server_keys = Table(
    "server_keys",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("secret_sealed", LargeBinary, nullable=False),
    Column("certificate_pem", Text),
    Column("created_at", TS, nullable=False),
)

instrument_identifiers = Table(
    "instrument_identifiers",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("merchant_id", ForeignKey("merchants.id"), nullable=False),
    Column("kind", String(8), nullable=False),
    Column("fingerprint", LargeBinary(32)),
    # HMAC of the card number under the network index key: the same for every
    # merchant, so that no token number ever equals a stored card number.
    Column("network_index", LargeBinary(32), index=True),
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


# Network tokens (tokenized cards). The token number is sealed under the
# merchant's data key and indexed under the network index key (the simulated
# network finds tokens by number without any merchant key); the token's
# master key is sealed under the master key. ``card_sealed`` is the card behind
# the token (suffix, expiry), sealed under the merchant's data key.
# ``details`` holds the network's public facts (references, PAR, card art) as
# JSON. ``expiration_month``/``expiration_year`` are the token's own expiry,
# which the network checks at authorisation. ``failed_code_verifications``
# counts wrong security codes since credentials were last issued (the
# authorisation simulator declines codes at the limit).
network_tokens = Table(
    "network_tokens",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("merchant_id", ForeignKey("merchants.id"), nullable=False),
    Column("instrument_identifier_id", ForeignKey("instrument_identifiers.id"), index=True),
    Column("network", String(16), nullable=False),
    Column("state", String(16), nullable=False),
    Column("source", String(8), nullable=False),
    Column("reason", String(32)),
    Column("number_index", LargeBinary(32), unique=True),
    Column("number_sealed", LargeBinary),
    Column("master_key_sealed", LargeBinary),
    Column("expiration_month", String(2)),
    Column("expiration_year", String(4)),
    Column("details", Text, nullable=False),
    Column("card_sealed", LargeBinary),
    Column("atc", Integer, nullable=False),
    Column("failed_code_verifications", Integer, nullable=False, server_default="0"),
    Column("version", Integer, nullable=False),
    Column("created_at", TS, nullable=False),
    Column("updated_at", TS, nullable=False),
)

# One row per credential issued (the token and its ATC: the primary key makes
# an ATC impossible to issue twice). What it was bound to is kept so the
# simulated network can tell a replay or an amount mismatch from a forgery;
# the cryptogram itself is never stored.
token_transactions = Table(
    "token_transactions",
    metadata,
    Column("token_id", ForeignKey("network_tokens.id"), primary_key=True),
    Column("atc", Integer, primary_key=True),
    Column("credential", String(16), nullable=False),
    Column("amount", BigInteger, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("merchant_reference", LargeBinary(4), nullable=False),
    Column("transaction_type", String(4), nullable=False),
    Column("eci", String(2), nullable=False),
    Column("issued_at", TS, nullable=False),
    Column("used_at", TS),
)


# JWTs already accepted, kept until they expire: a JWT is single-use, so a
# captured one cannot be replayed (every opentms process sees this table).
used_tokens = Table(
    "used_tokens",
    metadata,
    Column("digest", LargeBinary(32), primary_key=True),
    Column("expires_at", TS, nullable=False, index=True),
)


# TMS webhooks (docs/webhooks.md). A merchant's subscriptions, the signing keys
# of /kms/egress/v2/keys-sym (sealed under the merchant's data key), the events
# its changes caused (the outbox: written in the change's own transaction), one
# notification per event and subscription (the dispatchers' queue) and every
# HTTP request made to a receiver (the delivery history).
webhook_subscriptions = Table(
    "webhook_subscriptions",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("merchant_id", ForeignKey("merchants.id"), nullable=False, index=True),
    Column("api_version", Integer, nullable=False),
    Column("name", Text),
    Column("description", Text),
    # JSON: [{"productId": ..., "eventTypes": [...]}]
    Column("products", Text, nullable=False),
    Column("webhook_url", Text, nullable=False),
    Column("health_check_url", Text),
    Column("status", String(16), nullable=False),
    Column("retry_policy", Text, nullable=False),  # JSON, as RetryPolicy's fields
    Column("notification_scope", Text, nullable=False),  # JSON, as given
    Column("security_policy", Text, nullable=False),  # JSON, as given
    Column("created_at", TS, nullable=False),
    Column("updated_at", TS),
    # When its receiver was last pinged (a SUSPENDED subscription is pinged again).
    Column("checked_at", TS),
    Column("deleted_at", TS),
    Column("version", Integer, nullable=False),
)

webhook_keys = Table(
    "webhook_keys",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("merchant_id", ForeignKey("merchants.id"), nullable=False, index=True),
    Column("key_sealed", LargeBinary, nullable=False),
    Column("created_at", TS, nullable=False),
    # When it starts to sign (a replacement waits for the overlap to end).
    Column("signs_from", TS, nullable=False),
    Column("expires_at", TS, nullable=False),
    Column("client_reference_code", Text),
)

webhook_events = Table(
    "webhook_events",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("merchant_id", ForeignKey("merchants.id"), nullable=False, index=True),
    Column("product_id", String(64), nullable=False),
    Column("event_type", String(64), nullable=False),
    Column("payload", Text, nullable=False),  # JSON: the notification's payload member
    Column("created_at", TS, nullable=False),
)

webhook_notifications = Table(
    "webhook_notifications",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("event_id", ForeignKey("webhook_events.id"), nullable=False, index=True),
    Column("subscription_id", ForeignKey("webhook_subscriptions.id"), nullable=False, index=True),
    Column("merchant_id", ForeignKey("merchants.id"), nullable=False, index=True),
    Column("status", String(16), nullable=False),
    # Attempts made so far (the next one is retry number `attempts`).
    Column("attempts", Integer, nullable=False),
    # A replay (/nrtf/v1/webhooks/{id}/replays) sends again what was sent.
    Column("replay", Boolean, nullable=False),
    Column("next_attempt_at", TS, nullable=False),  # on the service clock
    # A dispatcher's claim (real time): no other takes the row before it ends.
    Column("claimed_by", String(64)),
    Column("claimed_until", TS),
    Column("created_at", TS, nullable=False),
    Column("updated_at", TS, nullable=False),
    Column("delivered_at", TS),
    Index("ix_webhook_notifications_due", "status", "next_attempt_at"),
)

webhook_attempts = Table(
    "webhook_attempts",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("notification_id", ForeignKey("webhook_notifications.id"), index=True),
    Column("subscription_id", ForeignKey("webhook_subscriptions.id"), nullable=False, index=True),
    Column("merchant_id", ForeignKey("merchants.id"), nullable=False, index=True),
    Column("attempt", Integer, nullable=False),
    Column("kind", String(16), nullable=False),  # NEW, RETRY, REPLAY, TEST, HEALTH_CHECK
    Column("transaction_trace_id", String(80)),
    Column("at", TS, nullable=False),
    Column("status_code", Integer),
    Column("latency_ms", Float, nullable=False),
    Column("error", Text),
    Column("response", LargeBinary),  # at most 1 KiB of the receiver's answer
)

# Children first, as VAULT_TABLES below.
WEBHOOK_TABLES: tuple[Table, ...] = (
    webhook_attempts,
    webhook_notifications,
    webhook_events,
    webhook_subscriptions,
    webhook_keys,
)

# A merchant's vault, in an order that deletes every row before the rows it
# refers to (reversed: inserts every row after them).
VAULT_TABLES: tuple[Table, ...] = (
    token_transactions,
    *WEBHOOK_TABLES,
    network_tokens,
    payment_instruments,
    shipping_addresses,
    customers,
    instrument_identifiers,
)
# Merchants and their credentials, likewise. The server's own keys are apart:
# they key the simulated networks and the network-wide card index.
MERCHANT_TABLES: tuple[Table, ...] = (merchant_keys, profiles, merchants)


# The one row (id 1) whose ``epoch`` every change of merchants' credentials or
# keys bumps in its own transaction (revocation, data-key rotation, shredding,
# master-key rotation): each process compares it at every authentication and
# drops what it cached of merchants when it moved (docs/security.md).
registry_epoch = Table(
    "registry_epoch",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("epoch", BigInteger, nullable=False),
)

# The master key's versions (whichever provider holds the material): the
# newest seals, every one not retired opens. ``key_id`` is the 4 bytes a
# sealed value names its key by.
master_key_versions = Table(
    "master_key_versions",
    metadata,
    Column("version", Integer, primary_key=True, autoincrement=False),
    Column("key_id", LargeBinary(4), nullable=False, unique=True),
    Column("provider", String(16), nullable=False),
    Column("created_at", TS, nullable=False),
    Column("retired_at", TS),
)

# The audit log (docs/security.md): append-only, hash-chained. ``seq`` has no
# gaps; ``hash`` = SHA-256(previous hash || canonical JSON of the entry).
# ``audit_head`` (one row, id 1) holds the last seq and hash: appending locks
# it, so the chain is one sequence however many processes write.
audit_log = Table(
    "audit_log",
    metadata,
    Column("seq", BigInteger, primary_key=True, autoincrement=False),
    Column("at", TS, nullable=False, index=True),
    Column("actor", String(200), nullable=False),
    Column("action", String(64), nullable=False),
    Column("resource_type", String(32), nullable=False),
    Column("resource_ids", Text, nullable=False),  # JSON list
    Column("outcome", String(64), nullable=False),
    Column("correlation_id", String(128)),
    Column("details", Text),  # JSON object, never a sensitive value
    Column("prev_hash", LargeBinary(32), nullable=False),
    Column("hash", LargeBinary(32), nullable=False),
)

audit_head = Table(
    "audit_head",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("seq", BigInteger, nullable=False),
    Column("hash", LargeBinary(32), nullable=False),
)


# Sandbox mode only (docs/sandbox.md); a vault never writes these tables.
# The one row (id 1) every process reads at the start of each request: the
# generation, which reset, restore and seeding bump so that every process drops
# what it cached of merchants; and the service clock's offset from real time.
sandbox_state = Table(
    "sandbox_state",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("generation", BigInteger, nullable=False),
    Column("clock_offset_us", BigInteger, nullable=False),
    Column("updated_at", TS, nullable=False),
)

# The request journal: TMS requests as they were answered, bodies masked.
sandbox_journal = Table(
    "sandbox_journal",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", TS, nullable=False, index=True),
    Column("merchant_id", String(64), index=True),
    # What a refused request claimed to be; nothing vouches for it.
    Column("claimed_merchant_id", String(80)),
    Column("method", String(16), nullable=False),
    Column("path", Text, nullable=False),
    Column("query", Text, nullable=False),
    Column("status", Integer, nullable=False),
    Column("duration_ms", Float, nullable=False),
    Column("correlation_id", String(128), nullable=False),
    Column("auth_verdict", String(16), nullable=False),
    Column("auth_reason", String(64)),
    Column("auth_message", Text),
    Column("auth_signed_string", Text),
    Column("request_body", Text),
    Column("response_body", Text),
)

# Fault and latency rules, tried in position order before a TMS handler runs.
# ``remaining`` counts the times a rule still fires (NULL: always).
sandbox_faults = Table(
    "sandbox_faults",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("position", Integer, nullable=False),
    Column("rule", Text, nullable=False),
    Column("remaining", Integer),
    Column("hits", Integer, nullable=False),
    Column("created_at", TS, nullable=False),
)

# Named snapshots of the state: every vault table's rows, as saved.
sandbox_snapshots = Table(
    "sandbox_snapshots",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("payload", LargeBinary, nullable=False),
    Column("summary", Text, nullable=False),
    Column("created_at", TS, nullable=False),
)
