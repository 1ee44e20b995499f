"""code failures, sealed card

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-04 17:00:00.000000

Issue 9, findings 3 and 5. ``network_tokens.failed_code_verifications`` counts
the wrong security codes presented for a token since its credentials were last
issued (the authorisation simulator locks its codes at a limit).
``network_tokens.card_sealed`` holds the card behind the token (suffix and
expiry), sealed under the merchant's data key; existing rows have it moved out
of the clear ``details`` JSON, so this migration needs the master key when
there are network tokens (``migrate.upgrade(engine, keyring=...)``, as
``opentms serve`` and ``opentms db upgrade`` call it).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import orjson
import sqlalchemy as sa
from alembic import context, op

from opentms.crypto.keyring import Keyring
from opentms.domain.merchant import WrappedKeys

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The tables as this revision knows them (not tables.py, which moves on).
_tokens = sa.table(
    "network_tokens",
    sa.column("id", sa.String),
    sa.column("merchant_id", sa.String),
    sa.column("details", sa.Text),
    sa.column("card_sealed", sa.LargeBinary),
)
_merchants = sa.table(
    "merchants",
    sa.column("id", sa.String),
    sa.column("data_key_wrapped", sa.LargeBinary),
    sa.column("fingerprint_key_wrapped", sa.LargeBinary),
)
_ROWS = sa.select(
    _tokens.c.id,
    _tokens.c.merchant_id,
    _tokens.c.details,
    _tokens.c.card_sealed,
    _merchants.c.data_key_wrapped,
    _merchants.c.fingerprint_key_wrapped,
).select_from(_tokens.join(_merchants, _merchants.c.id == _tokens.c.merchant_id))


def _context(token_id: str) -> str:
    # The context network_tokens._card_context gives, frozen at this revision.
    return f"networkTokenCard:{token_id}"


def _keyring(rows: int) -> Keyring:
    factory: Callable[[], Keyring] | None = context.config.attributes.get("keyring")
    if factory is None:
        raise RuntimeError(
            f"Migration 0004 moves the card expiry of {rows} network token(s) under the "
            "merchants' data keys and needs the master key: run `opentms db upgrade`."
        )
    return factory()


def _merchant_keys(keyring: Keyring, row: Any) -> Any:
    wrapped = WrappedKeys(bytes(row.data_key_wrapped), bytes(row.fingerprint_key_wrapped))
    return keyring.open(row.merchant_id, wrapped)


def upgrade() -> None:
    with op.batch_alter_table("network_tokens", schema=None) as batch_op:
        batch_op.add_column(sa.Column("card_sealed", sa.LargeBinary(), nullable=True))
        batch_op.add_column(
            sa.Column("failed_code_verifications", sa.Integer(), server_default="0", nullable=False)
        )
    bind = op.get_bind()
    rows = bind.execute(_ROWS.where(_tokens.c.card_sealed.is_(None))).all()
    if not rows:
        return
    keyring = _keyring(len(rows))
    for row in rows:
        details = orjson.loads(row.details)
        card = details.pop("card", None) or {}
        card = {name: card.get(name) for name in ("suffix", "expirationMonth", "expirationYear")}
        sealed = _merchant_keys(keyring, row).seal(orjson.dumps(card), _context(row.id))
        bind.execute(
            _tokens.update()
            .where(_tokens.c.id == row.id)
            .values(details=orjson.dumps(details).decode(), card_sealed=sealed)
        )


def downgrade() -> None:
    bind = op.get_bind()
    rows = bind.execute(_ROWS.where(_tokens.c.card_sealed.is_not(None))).all()
    if rows:
        keyring = _keyring(len(rows))
        for row in rows:
            card = orjson.loads(
                _merchant_keys(keyring, row).unseal(bytes(row.card_sealed), _context(row.id))
            )
            details = {**orjson.loads(row.details), "card": card}
            bind.execute(
                _tokens.update()
                .where(_tokens.c.id == row.id)
                .values(details=orjson.dumps(details).decode())
            )
    with op.batch_alter_table("network_tokens", schema=None) as batch_op:
        batch_op.drop_column("failed_code_verifications")
        batch_op.drop_column("card_sealed")
