"""In-memory fakes of the services' ports, for the fast services tier.

One :class:`FakeVault` holds every merchant's rows as the SQL tables would
(tombstones for deleted resources, versions the store increments, defaults
read from the customer); a :class:`FakeUnitOfWork` works on a copy of it and
writes the copy back on commit, so a use case that fails half-way leaves
nothing behind, as a rolled-back transaction would.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from types import TracebackType
from typing import Any

from opentms.bootstrap import Ports
from opentms.crypto.keyring import Keyring
from opentms.crypto.keys import MasterKey
from opentms.domain.audit import AuditEntry, AuditRecorder
from opentms.domain.card import PAN
from opentms.domain.errors import (
    FieldError,
    InvalidFields,
    NotAvailable,
    NotFound,
    PreconditionFailed,
)
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
)
from opentms.domain.network_token import (
    MAX_ATC,
    CredentialKind,
    NetworkToken,
    NetworkView,
    TokenState,
    TokenTransaction,
)
from opentms.domain.ports import Chain, SealingKeys
from opentms.domain.resources import (
    Customer,
    InstrumentIdentifier,
    Page,
    PaymentInstrument,
    ShippingAddress,
)
from opentms.domain.webhooks import Event
from opentms.services.merchants import AlreadyRegistered, InvalidRegistration

EPOCH = datetime(2026, 1, 1, tzinfo=UTC)


class FakeClock:
    """A clock one second further on at every reading: rows made one after
    the other sort in that order, as they do on a real clock."""

    def __init__(self, start: datetime = EPOCH) -> None:
        self.current = start

    def now(self) -> datetime:
        self.current += timedelta(seconds=1)
        return self.current


@dataclass
class _Row:
    value: Any
    deleted_at: datetime | None = None


@dataclass
class VaultState:
    """The tables: ``(merchant id, resource id) → row``."""

    instrument_identifiers: dict[tuple[str, str], _Row] = field(default_factory=dict)
    payment_instruments: dict[tuple[str, str], _Row] = field(default_factory=dict)
    customers: dict[tuple[str, str], _Row] = field(default_factory=dict)
    shipping_addresses: dict[tuple[str, str], _Row] = field(default_factory=dict)
    network_tokens: dict[tuple[str, str], NetworkToken] = field(default_factory=dict)
    transactions: list[TokenTransaction] = field(default_factory=list)
    used: set[tuple[str, int]] = field(default_factory=set)
    code_failures: dict[str, int] = field(default_factory=dict)
    # The webhook outbox: every event published, in order (no subscriptions
    # here: the fake records what the SQL outbox would queue for a subscriber).
    events: list[Event] = field(default_factory=list)

    def copy(self) -> VaultState:
        """A working copy: new rows, the same (immutable) values."""

        def rows(table: dict[tuple[str, str], _Row]) -> dict[tuple[str, str], _Row]:
            return {key: _Row(row.value, row.deleted_at) for key, row in table.items()}

        return VaultState(
            rows(self.instrument_identifiers),
            rows(self.payment_instruments),
            rows(self.customers),
            rows(self.shipping_addresses),
            dict(self.network_tokens),
            list(self.transactions),
            set(self.used),
            dict(self.code_failures),
            list(self.events),
        )


class FakeVault:
    """The committed state, and the factory of units of work over it (a
    :class:`~opentms.domain.ports.UnitOfWorkFactory`)."""

    def __init__(self) -> None:
        self.state = VaultState()
        self.commits = 0
        self.opened: list[tuple[str, bool, bool]] = []

    def __call__(
        self, keys: SealingKeys, readonly: bool, *, single_statement: bool = False
    ) -> FakeUnitOfWork:
        self.opened.append((keys.merchant_id, readonly, single_statement))
        return FakeUnitOfWork(self, keys.merchant_id, readonly)

    def network(self) -> FakeNetworkUnitOfWork:
        return FakeNetworkUnitOfWork(self)


class _Table:
    """What the SQL ``MerchantScopedTable`` does: one merchant's rows, 404
    for unknown ids, 410 for deleted ones, versions checked and raised."""

    def __init__(self, rows: dict[tuple[str, str], _Row], merchant_id: str) -> None:
        self._rows = rows
        self._merchant = merchant_id

    def _row(self, resource_id: str) -> _Row:
        row = self._rows.get((self._merchant, resource_id))
        if row is None:
            raise NotFound()
        if row.deleted_at is not None:
            raise NotAvailable()
        return row

    def _add(self, resource_id: str, value: Any) -> None:
        if (self._merchant, resource_id) in self._rows:
            raise AssertionError(f"duplicate id {resource_id}")
        self._rows[(self._merchant, resource_id)] = _Row(value)

    def _update(self, resource_id: str, expected_version: int, value: Any) -> None:
        row = self._rows.get((self._merchant, resource_id))
        if row is None or row.deleted_at is not None or row.value.version != expected_version:
            raise PreconditionFailed()
        row.value = replace(value, version=expected_version + 1)

    def _tombstone(self, resource_id: str, now: datetime) -> None:
        row = self._rows.get((self._merchant, resource_id))
        if row is not None:
            row.deleted_at = now

    def _live(self) -> list[Any]:
        return [
            row.value
            for (merchant, _), row in self._rows.items()
            if merchant == self._merchant and row.deleted_at is None
        ]


def _page(items: list[Any], default_id: str | None, offset: int, limit: int) -> Page:
    ordered = sorted(items, key=lambda item: (item.id != default_id, item.created_at, item.id))
    if default_id is None:
        ordered = sorted(items, key=lambda item: (item.created_at, item.id))
    return Page(offset, limit, len(ordered), tuple(ordered[offset : offset + limit]))


class FakeInstrumentIdentifiers(_Table):
    def add(self, ii: InstrumentIdentifier) -> bool:
        if self.find_by_fingerprint(ii.fingerprint) is not None:
            return False
        self._add(ii.id, ii)
        return True

    def get(self, ii_id: str) -> InstrumentIdentifier:
        value: InstrumentIdentifier = self._row(ii_id).value
        return value

    def find_by_fingerprint(self, fingerprint: bytes) -> InstrumentIdentifier | None:
        for ii in self._live():
            if ii.fingerprint == fingerprint:
                return ii  # type: ignore[no-any-return]
        return None

    def update(self, ii: InstrumentIdentifier, expected_version: int) -> None:
        self._update(ii.id, expected_version, ii)

    def remove(self, ii_id: str, now: datetime) -> None:
        row = self._rows.get((self._merchant, ii_id))
        self._tombstone(ii_id, now)
        if row is not None:
            row.value = replace(row.value, state="CLOSED", fingerprint=b"")


class _Children(_Table):
    """Payment instruments and shipping addresses: the customer row says
    which one is its default."""

    default_field = ""

    def __init__(
        self,
        rows: dict[tuple[str, str], _Row],
        merchant_id: str,
        customers: dict[tuple[str, str], _Row],
    ) -> None:
        super().__init__(rows, merchant_id)
        self._customers = customers

    def _with_default(self, value: Any) -> Any:
        customer_id = value.customer_id
        customer = self._customers.get((self._merchant, customer_id)) if customer_id else None
        is_default = (
            customer is not None
            and customer.deleted_at is None
            and getattr(customer.value, self.default_field) == value.id
        )
        return replace(value, is_default=is_default)

    def _list(
        self, where: Callable[[Any], bool], default_id: str | None, offset: int, limit: int
    ) -> Page:
        items = [self._with_default(v) for v in self._live() if where(v)]
        return _page(items, default_id, offset, limit)


class FakePaymentInstruments(_Children):
    default_field = "default_payment_instrument_id"

    def add(self, pi: PaymentInstrument) -> None:
        self._add(pi.id, replace(pi, is_default=False))

    def get(self, pi_id: str) -> PaymentInstrument:
        value: PaymentInstrument = self._with_default(self._row(pi_id).value)
        return value

    def update(self, pi: PaymentInstrument, expected_version: int) -> None:
        self._update(pi.id, expected_version, replace(pi, is_default=False))

    def remove(self, pi_id: str, now: datetime) -> None:
        self._tombstone(pi_id, now)
        row = self._rows.get((self._merchant, pi_id))
        if row is not None:
            row.value = replace(row.value, state="CLOSED")

    def count_for_instrument_identifier(self, ii_id: str) -> int:
        return sum(1 for pi in self._live() if pi.instrument_identifier_id == ii_id)

    def list_for_instrument_identifier(self, ii_id: str, offset: int, limit: int) -> Page:
        return self._list(lambda pi: pi.instrument_identifier_id == ii_id, None, offset, limit)

    def list_for_customer(
        self, customer_id: str, default_id: str | None, offset: int, limit: int
    ) -> Page:
        return self._list(lambda pi: pi.customer_id == customer_id, default_id, offset, limit)

    def ids_for_customer(self, customer_id: str) -> Sequence[tuple[str, str]]:
        return [
            (pi.id, pi.instrument_identifier_id)
            for pi in self._live()
            if pi.customer_id == customer_id
        ]


class FakeCustomers(_Table):
    def add(self, customer: Customer) -> None:
        self._add(customer.id, customer)

    def get(self, customer_id: str) -> Customer:
        value: Customer = self._row(customer_id).value
        return value

    def update(self, customer: Customer, expected_version: int) -> None:
        self._update(customer.id, expected_version, customer)

    def remove(self, customer_id: str, now: datetime) -> None:
        row = self._rows.get((self._merchant, customer_id))
        self._tombstone(customer_id, now)
        if row is not None:
            row.value = replace(
                row.value, default_payment_instrument_id=None, default_shipping_address_id=None
            )


class FakeShippingAddresses(_Children):
    default_field = "default_shipping_address_id"

    def add(self, address: ShippingAddress) -> None:
        self._add(address.id, replace(address, is_default=False))

    def get(self, address_id: str) -> ShippingAddress:
        value: ShippingAddress = self._with_default(self._row(address_id).value)
        return value

    def update(self, address: ShippingAddress, expected_version: int) -> None:
        self._update(address.id, expected_version, replace(address, is_default=False))

    def remove(self, address_id: str, now: datetime) -> None:
        self._tombstone(address_id, now)

    def count_for_customer(self, customer_id: str) -> int:
        return sum(1 for a in self._live() if a.customer_id == customer_id)

    def list_for_customer(
        self, customer_id: str, default_id: str | None, offset: int, limit: int
    ) -> Page:
        return self._list(lambda a: a.customer_id == customer_id, default_id, offset, limit)

    def remove_for_customer(self, customer_id: str, now: datetime) -> list[str]:
        removed = []
        for address in self._live():
            if address.customer_id == customer_id:
                self._tombstone(address.id, now)
                removed.append(address.id)
        return sorted(removed)


class FakeNetworkTokens:
    def __init__(self, state: VaultState, merchant_id: str) -> None:
        self._state = state
        self._merchant = merchant_id

    @property
    def _tokens(self) -> dict[tuple[str, str], NetworkToken]:
        return self._state.network_tokens

    def add(self, token: NetworkToken) -> None:
        self._tokens[(self._merchant, token.id)] = token

    def get(self, token_id: str) -> NetworkToken:
        token = self._tokens.get((self._merchant, token_id))
        if token is None:
            raise NotFound()
        return token

    def current_for(self, ii_id: str) -> NetworkToken | None:
        mine = [
            t
            for (merchant, _), t in self._tokens.items()
            if merchant == self._merchant and t.instrument_identifier_id == ii_id
        ]
        return max(mine, key=lambda t: (t.created_at, t.id), default=None)

    def update(self, token: NetworkToken, expected_version: int, now: datetime) -> None:
        current = self._tokens.get((self._merchant, token.id))
        if current is None or current.version != expected_version:
            raise PreconditionFailed()
        self._tokens[(self._merchant, token.id)] = replace(
            current,
            state=token.state,
            expiration_month=token.expiration_month,
            expiration_year=token.expiration_year,
            card=token.card,
            metadata=token.metadata,
            card_art_revision=token.card_art_revision,
            version=expected_version + 1,
        )

    def delete_for(self, ii_id: str, now: datetime) -> list[NetworkToken]:
        deleted = []
        for key, token in list(self._tokens.items()):
            live = token.state in (TokenState.ACTIVE, TokenState.SUSPENDED)
            if key[0] == self._merchant and token.instrument_identifier_id == ii_id and live:
                self._tokens[key] = replace(
                    token, state=TokenState.DELETED, version=token.version + 1
                )
                deleted.append(self._tokens[key])
        return sorted(deleted, key=lambda t: (t.created_at, t.id))

    def next_atc(self, token_id: str) -> int | None:
        token = self._tokens.get((self._merchant, token_id))
        if token is None or token.state != TokenState.ACTIVE or token.atc >= MAX_ATC:
            return None
        self._tokens[(self._merchant, token_id)] = replace(token, atc=token.atc + 1)
        self._state.code_failures.pop(token_id, None)
        return token.atc + 1

    def record(self, transaction: TokenTransaction) -> None:
        self._state.transactions.append(transaction)

    def issue(self, transaction: TokenTransaction) -> int | None:
        atc = self.next_atc(transaction.token_id)
        if atc is not None:
            self.record(replace(transaction, atc=atc))
        return atc

    def number_taken(self, number: str) -> bool:
        for token in self._tokens.values():
            if token.number is not None and token.number.reveal() == number:
                return True
        for row in self._state.instrument_identifiers.values():
            instrument = row.value.instrument
            live = row.deleted_at is None
            if live and isinstance(instrument, PAN) and instrument.reveal() == number:
                return True
        return False


class FakeCredentialChain:
    """What the SQL credential chain's joins answer."""

    def __init__(self, uow: FakeUnitOfWork) -> None:
        self._uow = uow

    def resolve(self, kind: str, token_id: str) -> Chain | None:
        uow = self._uow
        rows = uow.state
        merchant = uow.merchant_id
        pi = ii = token = None
        if kind == "customer":
            row = rows.customers.get((merchant, token_id))
            if row is None:
                return None
            if row.deleted_at is not None:
                raise NotAvailable()
            default = row.value.default_payment_instrument_id
            if default is None:
                raise InvalidFields(
                    "The customer has no default payment instrument.",
                    (FieldError("tokenId", "path"),),
                )
            pi = self._pi(default, is_default=True)
        elif kind == "paymentInstrument":
            if (merchant, token_id) not in rows.payment_instruments:
                return None
            pi = self._pi(token_id, is_default=False)
        elif kind == "instrumentIdentifier":
            if (merchant, token_id) not in rows.instrument_identifiers:
                return None
            ii = self._ii(token_id)
        elif kind == "tokenizedCard":
            token = rows.network_tokens.get((merchant, token_id))
            if token is None:
                return None
            if token.instrument_identifier_id is not None:
                ii = self._ii(token.instrument_identifier_id)
            return Chain(None, ii, token)
        if pi is not None:
            ii = self._ii(pi.instrument_identifier_id)
        if ii is not None:
            token = uow.network_tokens.current_for(ii.id)
        return Chain(pi, ii, token)

    def _pi(self, pi_id: str, is_default: bool) -> PaymentInstrument | None:
        row = self._uow.state.payment_instruments.get((self._uow.merchant_id, pi_id))
        if row is None:
            return None
        if row.deleted_at is not None:
            raise NotAvailable()
        value: PaymentInstrument = replace(row.value, is_default=is_default)
        return value

    def _ii(self, ii_id: str) -> InstrumentIdentifier | None:
        row = self._uow.state.instrument_identifiers.get((self._uow.merchant_id, ii_id))
        if row is None:
            return None
        if row.deleted_at is not None:
            raise NotAvailable()
        value: InstrumentIdentifier = row.value
        return value


class FakeOutbox:
    """The outbox of one unit of work: its events join the vault's on commit,
    and are lost with the rest when it is not committed."""

    def __init__(self, state: VaultState, merchant_id: str) -> None:
        self._state = state
        self._merchant = merchant_id

    def publish(self, event: Event) -> int:
        if event.merchant_id != self._merchant:
            raise ValueError("An event is published in its own merchant's unit of work.")
        self._state.events.append(event)
        return 1


class FakeUnitOfWork:
    def __init__(self, vault: FakeVault, merchant_id: str, readonly: bool) -> None:
        self._vault = vault
        self.merchant_id = merchant_id
        self.readonly = readonly
        self.state = vault.state.copy()
        s = self.state
        self.instrument_identifiers = FakeInstrumentIdentifiers(
            s.instrument_identifiers, merchant_id
        )
        self.payment_instruments = FakePaymentInstruments(
            s.payment_instruments, merchant_id, s.customers
        )
        self.customers = FakeCustomers(s.customers, merchant_id)
        self.shipping_addresses = FakeShippingAddresses(
            s.shipping_addresses, merchant_id, s.customers
        )
        self.network_tokens = FakeNetworkTokens(s, merchant_id)
        self.credential_chain = FakeCredentialChain(self)
        self.outbox = FakeOutbox(s, merchant_id)
        # Recording (and dropping) entries: the services' calls are checked.
        self.audit = AuditRecorder(True, b"fake audit key")

    def __enter__(self) -> FakeUnitOfWork:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        pass

    def commit(self) -> None:
        if self.readonly:
            raise AssertionError("a read-only unit of work committed")
        self._vault.state = self.state
        self._vault.commits += 1


class FakeNetworkDirectory:
    def __init__(self, state: VaultState) -> None:
        self._state = state

    def find_by_number(self, number: str) -> NetworkView | None:
        for token in self._state.network_tokens.values():
            if token.number is not None and token.number.reveal() == number:
                return NetworkView(
                    token.id,
                    token.merchant_id,
                    token.network,
                    token.state,
                    token.expiration_month,
                    token.expiration_year,
                    token.master_key,
                    self._state.code_failures.get(token.id, 0),
                )
        return None

    def transaction(self, token_id: str, atc: int) -> TokenTransaction | None:
        for transaction in self._state.transactions:
            if transaction.token_id == token_id and transaction.atc == atc:
                return transaction
        return None

    def recent(
        self, token_id: str, credential: CredentialKind, count: int
    ) -> Sequence[TokenTransaction]:
        mine = [
            t
            for t in self._state.transactions
            if t.token_id == token_id and t.credential == credential
        ]
        return sorted(mine, key=lambda t: t.atc, reverse=True)[:count]

    def mark_used(self, token_id: str, atc: int, now: datetime) -> bool:
        if (token_id, atc) in self._state.used:
            return False
        self._state.used.add((token_id, atc))
        return True

    def record_code_failure(self, token_id: str) -> int:
        self._state.code_failures[token_id] = self._state.code_failures.get(token_id, 0) + 1
        return self._state.code_failures[token_id]


class FakeNetworkUnitOfWork:
    def __init__(self, vault: FakeVault) -> None:
        self._vault = vault
        self.state = vault.state.copy()
        self.directory = FakeNetworkDirectory(self.state)

    def __enter__(self) -> FakeNetworkUnitOfWork:
        return self

    def __exit__(self, *exc: object) -> None:
        pass

    def commit(self) -> None:
        self._vault.state = self.state


@dataclass
class _Merchant:
    record: MerchantRecord
    created_at: datetime
    profiles: list[tuple[Profile, datetime]] = field(default_factory=list)


class FakeMerchantStore:
    """The merchant and server-key store (:class:`MerchantStore` and
    :class:`ServerKeyStore`) in dictionaries."""

    def __init__(self) -> None:
        self.merchants: dict[str, _Merchant] = {}
        self.keys: list[tuple[KeyRecord, datetime]] = []
        self.server_keys: dict[str, ServerKeyRecord] = {}
        # Credential rotation: when each (kind, key id) was revoked, the
        # registry epoch and the audit entries the store was given.
        self.revoked: dict[tuple[KeyKind, str], datetime] = {}
        self.epoch = 0
        self.audit: list[AuditEntry] = []

    def _active(self, key: KeyRecord) -> bool:
        return (key.kind, key.key_id) not in self.revoked

    def add_merchant(
        self,
        record: MerchantRecord,
        profile: Profile,
        keys: list[KeyRecord],
        now: datetime,
    ) -> None:
        taken = {(k.kind, k.key_id) for k, _ in self.keys}
        if record.id in self.merchants or any((k.kind, k.key_id) in taken for k in keys):
            raise AlreadyRegistered(f"Merchant {record.id!r} is already registered.")
        self.merchants[record.id] = _Merchant(record, now, [(profile, now)])
        self.keys.extend((key, now) for key in keys)

    def add_profile(self, profile: Profile, now: datetime) -> None:
        merchant = self.merchants[profile.merchant_id]
        if any(p.id == profile.id for p, _ in merchant.profiles):
            raise AlreadyRegistered(f"Profile {profile.id!r} is already registered.")
        merchant.profiles.append((profile, now))

    def find_merchant(self, merchant_id: str) -> MerchantRecord | None:
        merchant = self.merchants.get(merchant_id)
        return None if merchant is None else merchant.record

    def list_merchants(self) -> list[str]:
        return sorted(self.merchants)

    def merchant_summaries(self) -> list[MerchantSummary]:
        def ids(merchant_id: str, kind: KeyKind) -> tuple[str, ...]:
            mine = [(k, at) for k, at in self.keys if k.merchant_id == merchant_id]
            mine = [(k, at) for k, at in mine if self._active(k)]
            mine.sort(key=lambda pair: (-pair[1].timestamp(), pair[0].key_id))
            return tuple(k.key_id for k, _ in mine if k.kind == kind)

        return [
            MerchantSummary(
                id=merchant_id,
                default_profile_id=m.record.default_profile_id,
                key_ids=ids(merchant_id, KeyKind.HTTP_SIGNATURE),
                jwt_kids=ids(merchant_id, KeyKind.JWT_CERTIFICATE),
                profiles=len(m.profiles),
                created_at=m.created_at,
            )
            for merchant_id, m in sorted(self.merchants.items())
        ]

    def profile_summaries(self, merchant_id: str) -> list[ProfileSummary]:
        merchant = self.merchants.get(merchant_id)
        if merchant is None:
            return []
        return [
            ProfileSummary(
                p.id,
                p.name,
                p.network_tokens_enabled,
                p.id == merchant.record.default_profile_id,
                at,
            )
            for p, at in sorted(merchant.profiles, key=lambda pair: (pair[1], pair[0].id))
        ]

    def find_profile(self, merchant_id: str, profile_id: str) -> Profile | None:
        merchant = self.merchants.get(merchant_id)
        for profile, _ in merchant.profiles if merchant else []:
            if profile.id == profile_id:
                return profile
        return None

    def find_key(self, kind: KeyKind, key_id: str) -> KeyRecord | None:
        for key, _ in self.keys:
            if key.kind == kind and key.key_id == key_id and self._active(key):
                return key
        return None

    def keys_of(self, merchant_id: str, kind: KeyKind) -> list[KeyRecord]:
        mine = [(k, at) for k, at in self.keys if k.merchant_id == merchant_id and k.kind == kind]
        mine = [(k, at) for k, at in mine if self._active(k)]
        return [k for k, _ in sorted(mine, key=lambda pair: pair[1], reverse=True)]

    def registry_epoch(self) -> int:
        return self.epoch

    def merchant_status(self, merchant_id: str) -> MerchantStatus | None:
        merchant = self.merchants.get(merchant_id)
        if merchant is None:
            return None
        return MerchantStatus(merchant_id, merchant.record.default_profile_id, merchant.created_at)

    def credentials_of(self, merchant_id: str) -> list[CredentialSummary]:
        mine = [(k, at) for k, at in self.keys if k.merchant_id == merchant_id]
        return [
            CredentialSummary(k.kind, k.key_id, at, self.revoked.get((k.kind, k.key_id)))
            for k, at in sorted(mine, key=lambda pair: (pair[1], pair[0].kind, pair[0].key_id))
        ]

    def add_keys(
        self,
        merchant_id: str,
        keys: Sequence[KeyRecord],
        now: datetime,
        audit: Sequence[AuditEntry],
    ) -> None:
        if merchant_id not in self.merchants:
            raise InvalidRegistration(f"No merchant {merchant_id!r} is registered.")
        taken = {(k.kind, k.key_id) for k, _ in self.keys}
        if any((k.kind, k.key_id) in taken for k in keys):
            raise AlreadyRegistered("A key id is already registered.")
        self.keys.extend((key, now) for key in keys)
        self.epoch += 1
        self.audit.extend(audit)

    def revoke_key(
        self,
        merchant_id: str,
        choose: Callable[[list[CredentialSummary]], tuple[CredentialSummary, AuditEntry]],
        now: datetime,
    ) -> CredentialSummary:
        if merchant_id not in self.merchants:
            raise InvalidRegistration(f"No merchant {merchant_id!r} is registered.")
        chosen, entry = choose(self.credentials_of(merchant_id))
        self.revoked[(chosen.kind, chosen.key_id)] = now
        self.epoch += 1
        self.audit.append(entry)
        return replace(chosen, revoked_at=now)

    def find_server_key(self, name: str) -> ServerKeyRecord | None:
        return self.server_keys.get(name)

    def add_server_key(self, record: ServerKeyRecord, now: datetime) -> ServerKeyRecord:
        return self.server_keys.setdefault(record.name, record)


class FakeReplayGuard:
    def __init__(self) -> None:
        self.seen: set[bytes] = set()

    def first_use(self, digest: bytes, expires_at: datetime) -> bool:
        if digest in self.seen:
            return False
        self.seen.add(digest)
        return True


class FakeReadiness:
    def __init__(self, reason: str | None = None) -> None:
        self.reason = reason

    def unready_reason(self) -> str | None:
        return self.reason


@dataclass
class FakePorts:
    """The fakes, kept at hand for a test to look into."""

    keyring: Keyring = field(default_factory=lambda: Keyring([MasterKey.generate()]))
    vault: FakeVault = field(default_factory=FakeVault)
    merchant_store: FakeMerchantStore = field(default_factory=FakeMerchantStore)
    replay_guard: FakeReplayGuard = field(default_factory=FakeReplayGuard)
    readiness: FakeReadiness = field(default_factory=FakeReadiness)
    closed: int = 0

    def ports(self) -> Ports:
        def close() -> None:
            self.closed += 1

        return Ports(
            keyring=self.keyring,
            merchant_store=self.merchant_store,
            server_key_store=self.merchant_store,
            unit_of_work=self.vault,
            network_unit_of_work=self.vault.network,
            replay_guard=self.replay_guard,
            readiness=self.readiness,
            close=close,
        )
