"""Network tokens and the credentials issued against them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import Connection, Row, and_, bindparam, exists, select, text, update

from opentms.adapters.storage.sealed_columns import token_card_context, token_number_context
from opentms.adapters.storage.tables import (
    instrument_identifiers,
    network_tokens,
    token_transactions,
)
from opentms.crypto.keyring import MerchantKeys
from opentms.crypto.network_secrets import NetworkSecrets
from opentms.domain.card import PAN
from opentms.domain.errors import NotFound, PreconditionFailed
from opentms.domain.network_token import (
    MAX_ATC,
    CardDetails,
    CredentialKind,
    NetworkToken,
    NetworkView,
    ProvisioningFailure,
    TokenNetwork,
    TokenState,
    TokenTransaction,
)

# Statements of the payment-credentials hot path, built once (see repositories._row).
_GET = select(network_tokens).where(
    network_tokens.c.id == bindparam("id"),
    network_tokens.c.merchant_id == bindparam("merchant_id"),
)
_GET_LOCKED = _GET.with_for_update()
_CURRENT = (
    select(network_tokens)
    .where(
        network_tokens.c.instrument_identifier_id == bindparam("ii_id"),
        network_tokens.c.merchant_id == bindparam("merchant_id"),
    )
    .order_by(network_tokens.c.created_at.desc(), network_tokens.c.id.desc())
    .limit(1)
)
_NEXT_ATC = (
    update(network_tokens)
    .where(
        network_tokens.c.id == bindparam("token_id"),
        network_tokens.c.merchant_id == bindparam("owner"),
        network_tokens.c.state == TokenState.ACTIVE.value,
        network_tokens.c.atc < MAX_ATC,
    )
    # A new credential ends a lock-out by wrong security codes (services/authorizations.py).
    .values(atc=network_tokens.c.atc + 1, failed_code_verifications=0)
    .returning(network_tokens.c.atc)
)

_RECORD = token_transactions.insert()
_FIND_BY_NUMBER = (
    select(network_tokens)
    .where(network_tokens.c.number_index == bindparam("index"))
    .with_for_update(key_share=True)
)
_CODE_FAILURE = (
    update(network_tokens)
    .where(network_tokens.c.id == bindparam("token_id"))
    .values(failed_code_verifications=network_tokens.c.failed_code_verifications + 1)
    .returning(network_tokens.c.failed_code_verifications)
)
# PostgreSQL: the ATC increment and the record of what it was issued for in one
# statement, one round trip (the payment-credentials hot path). A single
# statement is atomic, so it needs no BEGIN and COMMIT round trips around it.
_ISSUE_POSTGRESQL = text(
    "WITH taken AS ("
    " UPDATE network_tokens SET atc = atc + 1, failed_code_verifications = 0"
    " WHERE id = :token_id AND merchant_id = :owner AND state = 'ACTIVE' AND atc < :max_atc"
    " RETURNING id, atc)"
    " INSERT INTO token_transactions (token_id, atc, credential, amount, currency,"
    " merchant_reference, transaction_type, eci, issued_at)"
    " SELECT taken.id, taken.atc, :credential, :amount, :currency, :merchant_reference,"
    " :transaction_type, :eci, :issued_at FROM taken"
    " RETURNING atc"
)


def _transaction_values(transaction: TokenTransaction) -> dict[str, Any]:
    return {
        "token_id": transaction.token_id,
        "atc": transaction.atc,
        "credential": transaction.credential.value,
        "amount": transaction.amount,
        "currency": transaction.currency,
        "merchant_reference": transaction.merchant_reference,
        "transaction_type": transaction.transaction_type,
        "eci": transaction.eci,
        "issued_at": transaction.issued_at,
    }


_NUMBER_TAKEN = select(
    exists().where(network_tokens.c.number_index == bindparam("index"))
    | exists().where(instrument_identifiers.c.network_index == bindparam("index"))
)

_DETAIL_FIELDS = (
    "token_reference_id",
    "enrollment_id",
    "payment_account_reference",
    "requestor_id",
    "card_art_revision",
)


def _details(token: NetworkToken) -> str:
    details: dict[str, Any] = {name: getattr(token, name) for name in _DETAIL_FIELDS}
    details["metadata"] = dict(token.metadata)
    return orjson.dumps(details).decode()


def _seal_card(keys: MerchantKeys, token: NetworkToken) -> bytes:
    # Security: the card's expiry is card data (docs/security.md), so the card
    # behind the token is sealed like the card number, never kept in clear.
    card = {
        "suffix": token.card.suffix,
        "expirationMonth": token.card.expiration_month,
        "expirationYear": token.card.expiration_year,
    }
    return keys.seal(orjson.dumps(card), token_card_context(token.id))


def _transaction(row: Row[Any]) -> TokenTransaction:
    return TokenTransaction(
        token_id=row.token_id,
        atc=row.atc,
        credential=CredentialKind(row.credential),
        amount=row.amount,
        currency=row.currency,
        merchant_reference=row.merchant_reference,
        transaction_type=row.transaction_type,
        eci=row.eci,
        issued_at=row.issued_at,
        used_at=row.used_at,
    )


class SQLNetworkTokenRepository:
    """A merchant's network tokens (what TMS shows that merchant)."""

    def __init__(self, conn: Connection, keys: MerchantKeys, secrets: NetworkSecrets) -> None:
        self._conn = conn
        self._keys = keys
        self._secrets = secrets

    def add(self, token: NetworkToken) -> None:
        number = token.number.reveal() if token.number else None
        self._conn.execute(
            network_tokens.insert(),
            {
                "id": token.id,
                "merchant_id": token.merchant_id,
                "instrument_identifier_id": token.instrument_identifier_id,
                "network": token.network.value,
                "state": token.state.value,
                "source": token.source,
                "reason": token.reason.value if token.reason else None,
                "number_index": self._secrets.index(number) if number else None,
                "number_sealed": (
                    self._keys.seal(number.encode(), token_number_context(token.id))
                    if number
                    else None
                ),
                "master_key_sealed": (
                    self._secrets.seal_token_key(token.id, token.master_key)
                    if token.master_key
                    else None
                ),
                "expiration_month": token.expiration_month,
                "expiration_year": token.expiration_year,
                "details": _details(token),
                "card_sealed": _seal_card(self._keys, token),
                "atc": token.atc,
                "version": token.version,
                "created_at": token.created_at,
                "updated_at": token.created_at,
            },
        )

    def number_taken(self, number: str) -> bool:
        """Whether ``number`` is any token's or any stored card's (all merchants)."""
        index = self._secrets.index(number)
        return bool(self._conn.execute(_NUMBER_TAKEN, {"index": index}).scalar())

    def get(self, token_id: str) -> NetworkToken:
        readonly = bool(self._conn.get_execution_options().get("opentms_readonly"))
        query = _GET if readonly else _GET_LOCKED
        row = self._conn.execute(
            query, {"id": token_id, "merchant_id": self._keys.merchant_id}
        ).first()
        if row is None:
            raise NotFound()
        return self._to_domain(row)

    def current_for(self, ii_id: str) -> NetworkToken | None:
        """The newest token of an instrument identifier, whatever its state."""
        row = self._conn.execute(
            _CURRENT, {"ii_id": ii_id, "merchant_id": self._keys.merchant_id}
        ).first()
        return None if row is None else self._to_domain(row)

    def update(self, token: NetworkToken, expected_version: int, now: datetime) -> None:
        result = self._conn.execute(
            update(network_tokens)
            .where(
                network_tokens.c.id == token.id,
                network_tokens.c.merchant_id == self._keys.merchant_id,
                network_tokens.c.version == expected_version,
            )
            .values(
                state=token.state.value,
                expiration_month=token.expiration_month,
                expiration_year=token.expiration_year,
                details=_details(token),
                card_sealed=_seal_card(self._keys, token),
                version=network_tokens.c.version + 1,
                updated_at=now,
            )
        )
        if result.rowcount != 1:
            raise PreconditionFailed()

    def delete_for(self, ii_id: str, now: datetime) -> list[NetworkToken]:
        """The card left the vault: its live tokens are deleted at the network.
        The tokens deleted, as they are now (one UPDATE ... RETURNING)."""
        rows = self._conn.execute(
            update(network_tokens)
            .where(
                network_tokens.c.instrument_identifier_id == ii_id,
                network_tokens.c.merchant_id == self._keys.merchant_id,
                network_tokens.c.state.in_([TokenState.ACTIVE.value, TokenState.SUSPENDED.value]),
            )
            .values(
                state=TokenState.DELETED.value,
                version=network_tokens.c.version + 1,
                updated_at=now,
            )
            .returning(*network_tokens.c)
        ).all()
        return sorted((self._to_domain(row) for row in rows), key=lambda t: (t.created_at, t.id))

    def next_atc(self, token_id: str) -> int | None:
        """Increment the ATC of an ACTIVE token in the database and return the
        new value (None if the token is not active or its ATC is spent). One
        UPDATE ... RETURNING: two concurrent calls never see the same ATC."""
        atc = self._conn.execute(
            _NEXT_ATC, {"token_id": token_id, "owner": self._keys.merchant_id}
        ).scalar_one_or_none()
        return None if atc is None else int(atc)

    def issue(self, transaction: TokenTransaction) -> int | None:
        """Take the next ATC of an ACTIVE token and record the credential issued
        against it (``transaction.atc`` is ignored); the ATC, or None if the
        token is not active or its ATC is spent. On PostgreSQL one statement
        does both."""
        if self._conn.dialect.name != "postgresql":
            atc = self.next_atc(transaction.token_id)
            if atc is not None:
                self.record(replace(transaction, atc=atc))
            return atc
        atc = self._conn.execute(
            _ISSUE_POSTGRESQL,
            {
                **_transaction_values(transaction),
                "owner": self._keys.merchant_id,
                "max_atc": MAX_ATC,
            },
        ).scalar_one_or_none()
        return None if atc is None else int(atc)

    def record(self, transaction: TokenTransaction) -> None:
        self._conn.execute(_RECORD, _transaction_values(transaction))

    def _to_domain(self, row: Row[Any]) -> NetworkToken:
        details = orjson.loads(row.details)
        card = orjson.loads(self._keys.unseal(row.card_sealed, token_card_context(row.id)))
        number = (
            PAN(self._keys.unseal(row.number_sealed, token_number_context(row.id)).decode())
            if row.number_sealed
            else None
        )
        return NetworkToken(
            id=row.id,
            merchant_id=row.merchant_id,
            instrument_identifier_id=row.instrument_identifier_id,
            network=TokenNetwork(row.network),
            state=TokenState(row.state),
            source=row.source,
            card=CardDetails(card["suffix"], card["expirationMonth"], card["expirationYear"]),
            created_at=row.created_at,
            number=number,
            expiration_month=row.expiration_month,
            expiration_year=row.expiration_year,
            reason=ProvisioningFailure(row.reason) if row.reason else None,
            master_key=(
                self._secrets.open_token_key(row.id, row.master_key_sealed)
                if row.master_key_sealed
                else None
            ),
            atc=row.atc,
            version=row.version,
            metadata=details["metadata"],
            **{name: details[name] for name in _DETAIL_FIELDS},
        )


class SQLNetworkDirectory:
    """What a card network sees: tokens found by number, across merchants,
    and the credentials issued against them."""

    def __init__(self, conn: Connection, secrets: NetworkSecrets) -> None:
        self._conn = conn
        self._secrets = secrets

    def find_by_number(self, number: str) -> NetworkView | None:
        """The token, its row locked until the transaction ends (FOR NO KEY
        UPDATE on PostgreSQL; SQLite's write transaction already excludes every
        other writer): a second authorisation of the token waits, then reads
        the failures the first one counted."""
        row = self._conn.execute(_FIND_BY_NUMBER, {"index": self._secrets.index(number)}).first()
        if row is None:
            return None
        key = (
            self._secrets.open_token_key(row.id, row.master_key_sealed)
            if row.master_key_sealed
            else None
        )
        return NetworkView(
            row.id,
            row.merchant_id,
            TokenNetwork(row.network),
            TokenState(row.state),
            row.expiration_month,
            row.expiration_year,
            key,
            row.failed_code_verifications,
        )

    def transaction(self, token_id: str, atc: int) -> TokenTransaction | None:
        row = self._conn.execute(
            select(token_transactions).where(
                token_transactions.c.token_id == token_id, token_transactions.c.atc == atc
            )
        ).first()
        return None if row is None else _transaction(row)

    def recent(
        self, token_id: str, credential: CredentialKind, count: int
    ) -> Sequence[TokenTransaction]:
        rows = self._conn.execute(
            select(token_transactions)
            .where(
                token_transactions.c.token_id == token_id,
                token_transactions.c.credential == credential.value,
            )
            .order_by(token_transactions.c.atc.desc())
            .limit(count)
        ).all()
        return [_transaction(row) for row in rows]

    def mark_used(self, token_id: str, atc: int, now: datetime) -> bool:
        """Record an authorisation against the ATC; False if it was already used
        (the database decides, so a cryptogram is accepted once)."""
        result = self._conn.execute(
            update(token_transactions)
            .where(
                and_(
                    token_transactions.c.token_id == token_id,
                    token_transactions.c.atc == atc,
                    token_transactions.c.used_at.is_(None),
                )
            )
            .values(used_at=now)
        )
        return result.rowcount == 1

    def record_code_failure(self, token_id: str) -> int:
        """One more wrong security code: incremented by the database itself, so
        no concurrent request can overwrite the count."""
        count = self._conn.execute(_CODE_FAILURE, {"token_id": token_id}).scalar_one()
        return int(count)
