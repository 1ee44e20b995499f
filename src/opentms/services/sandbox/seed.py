"""Seed files (docs/sandbox.md "Seed files"): merchants with fixed
credentials, their profiles and a vault to start from, applied through the
same pieces the API's use cases use, so that cards are sealed, fingerprinted
and given network tokens by the simulators exactly as over HTTP.

A :class:`SeedDocument` comes parsed and validated from the adapter
(``adapters/seed_file.py``); :meth:`SeedService.apply` then

1. checks it against what is stored, writing nothing: a merchant, profile,
   customer, address, payment instrument or card already there must be the
   same as the file says (matched by its id, key id or card number), else a
   :func:`seed_problem` names the field and its line. A merchant already
   registered has its vault part run in a transaction that is rolled back,
   so every conflict the writes would meet is met here;
2. registers what is missing of merchants and profiles (the merchant store's
   transactions, one per merchant or profile), then writes each merchant's
   vault part in one unit of work (one transaction per merchant);
3. bumps the sandbox's generation, so every process forgets its cached
   merchants.

Applying a file twice changes nothing the second time. What step 1 cannot
see (another merchant's row holding a fixed id, a request changing the
vault in between) can still stop step 2 part way; applying the file again
then finishes it.
"""

from __future__ import annotations

import base64
import contextlib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, TypeVar

from opentms.crypto import certificates
from opentms.domain import ids
from opentms.domain.card import PAN
from opentms.domain.errors import FieldError, InvalidFields, NotAvailable, NotFound
from opentms.domain.merchant import KeyKind, MerchantRecord, Profile
from opentms.domain.network_token import TokenState
from opentms.domain.ports import (
    Clock,
    IdKind,
    IdOwners,
    MerchantStore,
    SandboxStateStore,
    UnitOfWork,
    UnitOfWorkFactory,
)
from opentms.domain.resources import Customer, InstrumentIdentifier, PaymentInstrument
from opentms.domain.resources import ShippingAddress as StoredAddress
from opentms.services.instrument_identifiers import CardExpiry, InstrumentIntake
from opentms.services.merchants import InvalidRegistration, MerchantService
from opentms.services.tenancy import Tenant, VaultService

# The network-token states a seed file may ask a card's token to be in.
SEEDABLE_STATES = (TokenState.ACTIVE, TokenState.SUSPENDED)
KINDS = (
    "merchants",
    "profiles",
    "instrumentIdentifiers",
    "customers",
    "shippingAddresses",
    "paymentInstruments",
)


@dataclass(frozen=True)
class Where:
    """Where a definition is in the seed file: its field path, its line
    (1-based; None where unknown) and the lines of its own fields."""

    path: str
    line: int | None = None
    fields: Mapping[str, int] = field(default_factory=dict)

    def at(self, name: str) -> Where:
        return Where(f"{self.path}.{name}", self.fields.get(name, self.line))

    def __str__(self) -> str:
        return self.path if self.line is None else f"{self.path} (line {self.line})"


def seed_problem(where: Where, message: str) -> InvalidFields:
    """A seed file that cannot be applied (a 400): the message names the
    field path and its line, ``details`` the field path."""
    return InvalidFields(f"Seed file: {where}: {message}", (FieldError(where.path, "body"),))


@dataclass(frozen=True)
class SeedCard:
    """A card to store (an instrument identifier) and the state its network
    token must be in; ``id`` fixes the instrument identifier's id."""

    pan: PAN
    expiry: CardExpiry
    attributes: Mapping[str, Any]
    where: Where
    id: str | None = None
    token_state: TokenState | None = None
    profile_id: str | None = None
    # Where ``id`` is, when not at ``where.at("id")`` (a payment instrument's
    # ``instrumentIdentifier.id``).
    id_where: Where | None = None

    def __repr__(self) -> str:
        return f"SeedCard({self.where.path}, {self.pan!r})"

    @property
    def where_id(self) -> Where:
        return self.id_where or self.where.at("id")


@dataclass(frozen=True)
class SeedPaymentInstrument:
    id: str
    attributes: Mapping[str, Any]
    where: Where
    card: SeedCard | None = None
    instrument_identifier_id: str | None = None
    default: bool = False


@dataclass(frozen=True)
class SeedShippingAddress:
    id: str
    attributes: Mapping[str, Any]
    where: Where
    default: bool = False


@dataclass(frozen=True)
class SeedCustomer:
    id: str
    attributes: Mapping[str, Any]
    where: Where
    shipping_addresses: tuple[SeedShippingAddress, ...] = ()
    payment_instruments: tuple[SeedPaymentInstrument, ...] = ()


@dataclass(frozen=True)
class SeedProfile:
    id: str
    name: str
    network_tokens: bool
    where: Where


@dataclass(frozen=True)
class SeedMerchant:
    merchant_id: str
    key_id: str
    shared_secret: str
    where: Where
    jwt_certificate_pem: bytes | None = None
    credentials_public_key_pem: bytes | None = None
    default_profile_id: str | None = None
    profiles: tuple[SeedProfile, ...] = ()
    instrument_identifiers: tuple[SeedCard, ...] = ()
    payment_instruments: tuple[SeedPaymentInstrument, ...] = ()
    customers: tuple[SeedCustomer, ...] = ()

    def __repr__(self) -> str:
        return f"SeedMerchant({self.merchant_id!r}, '**********')"


@dataclass(frozen=True)
class SeedDocument:
    merchants: tuple[SeedMerchant, ...]


@dataclass(frozen=True)
class SeedOutcome:
    """What applying a document did, by kind (``KINDS``)."""

    merchants: tuple[str, ...]
    created: Mapping[str, int]
    unchanged: Mapping[str, int]


class _Tally:
    """Ids created and found unchanged, by kind: a card two payment
    instruments share counts once."""

    def __init__(self) -> None:
        self.created: dict[str, set[str]] = {kind: set() for kind in KINDS}
        self.unchanged: dict[str, set[str]] = {kind: set() for kind in KINDS}

    def new(self, kind: str, key: str) -> None:
        self.created[kind].add(key)

    def same(self, kind: str, key: str) -> None:
        if key not in self.created[kind]:
            self.unchanged[kind].add(key)

    def counts(self, sets: Mapping[str, set[str]]) -> dict[str, int]:
        return {kind: len(sets[kind]) for kind in KINDS}


class SeedService(VaultService):
    """Applies seed documents (docs/sandbox.md)."""

    def __init__(
        self,
        merchants: MerchantService,
        merchant_store: MerchantStore,
        uow: UnitOfWorkFactory,
        intake: InstrumentIntake,
        state_store: SandboxStateStore,
        id_owners: IdOwners | None,
        clock: Clock,
        forget_cached: Callable[[], None],
    ) -> None:
        super().__init__(uow)
        self._merchants = merchants
        self._store = merchant_store
        self._intake = intake
        self._state_store = state_store
        self._id_owners = id_owners
        self._clock = clock
        self._forget_cached = forget_cached

    def apply(self, document: SeedDocument) -> SeedOutcome:
        """Check the whole document, then apply it (see the module's docstring)."""
        self._check_fixed_ids(document)
        for merchant in document.merchants:
            registered = self._check_merchant(merchant)
            if registered is not None:
                self._fill_vault(merchant, _Tally(), commit=False)
        tally = _Tally()
        for merchant in document.merchants:
            self._ensure_merchant(merchant, tally)
        # The caches may hold a merchant's profiles from before this seed.
        self._merchants.forget_cached()
        for merchant in document.merchants:
            self._fill_vault(merchant, tally, commit=True)
        self._state_store.bump_generation()
        self._forget_cached()
        return SeedOutcome(
            tuple(m.merchant_id for m in document.merchants),
            tally.counts(tally.created),
            tally.counts(tally.unchanged),
        )

    def _check_fixed_ids(self, document: SeedDocument) -> None:
        """Ids are unique across merchants: one the file gives a row of one
        merchant must not be another merchant's."""
        if self._id_owners is None:
            return
        wanted: dict[IdKind, dict[str, tuple[str, Where]]] = {}
        for merchant, kind, key, where in _fixed_ids(document):
            wanted.setdefault(kind, {})[key] = (merchant, where)
        for kind, entries in wanted.items():
            for key, owner in self._id_owners.owners(kind, entries).items():
                merchant, where = entries[key]
                if owner != merchant:
                    raise seed_problem(where, f"{key} is another merchant's ({kind}).")

    # Merchants and profiles ------------------------------------------------------

    def _check_merchant(self, merchant: SeedMerchant) -> MerchantRecord | None:
        """Conflicts of the merchant's credentials and profiles with what is
        registered; the merchant's record when it is registered already."""
        record = self._store.find_merchant(merchant.merchant_id)
        key = self._store.find_key(KeyKind.HTTP_SIGNATURE, merchant.key_id)
        if key is not None and key.merchant_id != merchant.merchant_id:
            raise seed_problem(merchant.where.at("keyId"), "this key id is another merchant's.")
        jwt_kid = _jwt_kid(merchant)
        if jwt_kid is not None:
            jwt = self._store.find_key(KeyKind.JWT_CERTIFICATE, jwt_kid)
            if jwt is not None and (
                jwt.merchant_id != merchant.merchant_id
                or jwt.material.strip() != (merchant.jwt_certificate_pem or b"").strip()
            ):
                raise seed_problem(
                    merchant.where.at("jwtCertificate"),
                    f"another certificate is registered under its kid {jwt_kid}.",
                )
        if record is None:
            return None
        self._check_registered(merchant, record, key is not None, jwt_kid)
        for profile in merchant.profiles:
            self._check_profile(merchant, profile)
        return record

    def _check_registered(
        self, merchant: SeedMerchant, record: MerchantRecord, has_key: bool, jwt_kid: str | None
    ) -> None:
        where = merchant.where
        if not has_key:
            raise seed_problem(
                where.at("keyId"),
                f"merchant {merchant.merchant_id} is registered with other HTTP Signature keys.",
            )
        found = self._merchants.shared_secret(merchant.key_id)
        if found is None or found[1] != base64.b64decode(merchant.shared_secret):
            raise seed_problem(
                where.at("sharedSecret"),
                f"merchant {merchant.merchant_id} is registered with another shared secret "
                "under this key id.",
            )
        if jwt_kid is not None and self._store.find_key(KeyKind.JWT_CERTIFICATE, jwt_kid) is None:
            raise seed_problem(
                where.at("jwtCertificate"),
                f"merchant {merchant.merchant_id} is registered with another JWT certificate.",
            )
        if merchant.credentials_public_key_pem is not None:
            wanted = certificates.credentials_key_from_pem(
                merchant.credentials_public_key_pem
            ).public_key_pem
            held = self._store.keys_of(merchant.merchant_id, KeyKind.PAYMENT_CREDENTIALS)
            if wanted.strip() not in {r.material.strip() for r in held}:
                raise seed_problem(
                    where.at("paymentCredentialsPublicKey"),
                    f"merchant {merchant.merchant_id} is registered with another "
                    "payment-credentials key.",
                )
        wanted_default = merchant.default_profile_id
        if wanted_default is not None and wanted_default.upper() != record.default_profile_id:
            raise seed_problem(
                where.at("defaultProfileId"),
                f"merchant {merchant.merchant_id}'s default profile is "
                f"{record.default_profile_id}.",
            )

    def _check_profile(self, merchant: SeedMerchant, profile: SeedProfile) -> None:
        stored = self._store.find_profile(merchant.merchant_id, profile.id)
        if stored is not None and (
            stored.name != profile.name or stored.network_tokens_enabled != profile.network_tokens
        ):
            raise seed_problem(
                profile.where,
                f"profile {profile.id} is registered with another name or networkTokens "
                f"({stored.name!r}, {str(stored.network_tokens_enabled).lower()}).",
            )

    def _ensure_merchant(self, merchant: SeedMerchant, tally: _Tally) -> None:
        if self._store.find_merchant(merchant.merchant_id) is None:
            try:
                self._merchants.register(
                    merchant.merchant_id,
                    key_id=merchant.key_id,
                    shared_secret=merchant.shared_secret,
                    jwt_certificate_pem=merchant.jwt_certificate_pem,
                    credentials_public_key_pem=merchant.credentials_public_key_pem,
                    default_profile_id=merchant.default_profile_id,
                )
            except InvalidRegistration as exc:
                raise seed_problem(merchant.where, str(exc)) from None
            tally.new("merchants", merchant.merchant_id)
        else:
            tally.same("merchants", merchant.merchant_id)
        for profile in merchant.profiles:
            if self._store.find_profile(merchant.merchant_id, profile.id) is not None:
                tally.same("profiles", profile.id)
                continue
            try:
                self._merchants.add_profile(
                    merchant.merchant_id, profile.name, profile.network_tokens, profile.id
                )
            except InvalidRegistration as exc:
                raise seed_problem(profile.where, str(exc)) from None
            tally.new("profiles", profile.id)

    # The vault -----------------------------------------------------------------------

    def _fill_vault(self, merchant: SeedMerchant, tally: _Tally, commit: bool) -> None:
        """The merchant's instrument identifiers, payment instruments and
        customers, in one unit of work: committed, or rolled back (a check)."""
        if not (
            merchant.instrument_identifiers or merchant.payment_instruments or merchant.customers
        ):
            return
        base = self._merchants.tenant(merchant.merchant_id, None)
        vault = _Vault(self, merchant, base, tally)
        with self._writing(base) as uow:
            vault.fill(uow)
            if commit:
                uow.commit()

    def tenant_for(self, merchant: SeedMerchant, base: Tenant, card: SeedCard) -> Tenant:
        """The tenant a card is stored as: its profile decides whether the
        card gets a network token."""
        if card.profile_id is None:
            return base
        for profile in merchant.profiles:
            if profile.id == card.profile_id:
                return replace(
                    base,
                    profile=Profile(
                        profile.id, merchant.merchant_id, profile.name, profile.network_tokens
                    ),
                )
        stored = self._store.find_profile(merchant.merchant_id, card.profile_id)
        if stored is None:
            raise seed_problem(
                card.where.at("profileId"),
                f"merchant {merchant.merchant_id} has no profile {card.profile_id}.",
            )
        return replace(base, profile=stored)

    def store_card(self, uow: UnitOfWork, tenant: Tenant, card: SeedCard) -> InstrumentIdentifier:
        given = ids.given_instrument_identifier_id(card.id) if card.id else _nothing()
        with given:
            # A seed sets a sandbox up: it publishes no webhook events (docs/webhooks.md).
            ii, _, token = self._intake.store_with_token(
                uow, tenant, card.pan, card.attributes, card.expiry, publish=False
            )
        if card.token_state is None:
            return ii
        if token is None or token.state not in (TokenState.ACTIVE, TokenState.SUSPENDED):
            raise seed_problem(
                card.where.at("networkToken"),
                "the card has no network token to put in a state: its profile provisions "
                "none, no network serves its brand, or the network refused it (a magic card).",
            )
        if token.state != card.token_state:
            # ACTIVE and SUSPENDED move to each other (ALLOWED_MOVES).
            uow.network_tokens.update(
                replace(token, state=card.token_state), token.version, self._clock.now()
            )
        return ii

    @property
    def clock(self) -> Clock:
        return self._clock

    @property
    def merchants(self) -> MerchantService:
        """The merchants' service (``POST /opentms/v1/sandbox/merchants`` registers through it)."""
        return self._merchants


def _fixed_ids(document: SeedDocument) -> Iterator[tuple[str, IdKind, str, Where]]:
    """``(merchant id, kind, id, where)`` of every id the document fixes."""
    for merchant in document.merchants:
        m = merchant.merchant_id
        if merchant.default_profile_id is not None:
            yield m, "profiles", merchant.default_profile_id, merchant.where.at("defaultProfileId")
        for profile in merchant.profiles:
            yield m, "profiles", profile.id, profile.where.at("profileId")
        cards = [*merchant.instrument_identifiers]
        pis = [*merchant.payment_instruments]
        for customer in merchant.customers:
            yield m, "customers", customer.id, customer.where.at("id")
            for address in customer.shipping_addresses:
                yield m, "shippingAddresses", address.id, address.where.at("id")
            pis += customer.payment_instruments
        for pi in pis:
            yield m, "paymentInstruments", pi.id, pi.where.at("id")
            if pi.card is not None:
                cards.append(pi.card)
        for card in cards:
            if card.id is not None:
                yield m, "instrumentIdentifiers", card.id, card.where_id


@contextlib.contextmanager
def _nothing() -> Iterator[None]:
    yield


def _jwt_kid(merchant: SeedMerchant) -> str | None:
    if merchant.jwt_certificate_pem is None:
        return None
    try:
        return certificates.certificate_subject(merchant.jwt_certificate_pem).serial_number
    except certificates.InvalidKeyMaterial as exc:
        raise seed_problem(merchant.where.at("jwtCertificate"), str(exc)) from None


class _Vault:
    """One merchant's vault part of a seed, written in one unit of work."""

    def __init__(
        self, service: SeedService, merchant: SeedMerchant, base: Tenant, tally: _Tally
    ) -> None:
        self._service = service
        self._merchant = merchant
        self._base = base
        self._tally = tally

    def fill(self, uow: UnitOfWork) -> None:
        for card in self._merchant.instrument_identifiers:
            self._card(uow, card)
        for pi in self._merchant.payment_instruments:
            self._payment_instrument(uow, pi, None)
        for customer in self._merchant.customers:
            self._customer(uow, customer)

    def _card(self, uow: UnitOfWork, card: SeedCard) -> InstrumentIdentifier:
        tenant = self._service.tenant_for(self._merchant, self._base, card)
        fingerprint = tenant.keys.fingerprint("card", card.pan.reveal())
        existing = uow.instrument_identifiers.find_by_fingerprint(fingerprint)
        if existing is None:
            fixed = card.id
            if fixed is not None and _exists(lambda: uow.instrument_identifiers.get(fixed)):
                raise seed_problem(
                    card.where_id, f"instrument identifier {card.id} holds another card."
                )
            ii = self._service.store_card(uow, tenant, card)
            self._tally.new("instrumentIdentifiers", ii.id)
            return ii
        if card.id is not None and existing.id != card.id:
            raise seed_problem(
                card.where_id,
                f"the card is already stored as instrument identifier {existing.id}.",
            )
        if card.token_state is not None:
            token = uow.network_tokens.current_for(existing.id)
            state = token.state if token is not None else None
            if state != card.token_state:
                raise seed_problem(
                    card.where.at("networkToken"),
                    f"the card's network token is {state.value if state else 'absent'}, "
                    f"not {card.token_state.value}.",
                )
        self._tally.same("instrumentIdentifiers", existing.id)
        return existing

    def _payment_instrument(
        self, uow: UnitOfWork, pi: SeedPaymentInstrument, customer_id: str | None
    ) -> None:
        if pi.card is not None:
            ii_id = self._card(uow, pi.card).id
        else:
            assert pi.instrument_identifier_id is not None  # noqa: S101 - the parser's promise
            ii_id = pi.instrument_identifier_id
            if not _exists(lambda: uow.instrument_identifiers.get(ii_id)):
                raise seed_problem(
                    pi.where.at("instrumentIdentifier"),
                    f"instrument identifier {ii_id} does not exist.",
                )
        existing = _found(lambda: uow.payment_instruments.get(pi.id), pi.where)
        if existing is not None:
            if (
                existing.customer_id != customer_id
                or existing.instrument_identifier_id != ii_id
                or existing.attributes != dict(pi.attributes)
            ):
                raise seed_problem(
                    pi.where,
                    f"payment instrument {pi.id} is stored with other content "
                    "(customer, card or fields).",
                )
            self._tally.same("paymentInstruments", pi.id)
            return
        created = PaymentInstrument(
            id=pi.id,
            merchant_id=self._merchant.merchant_id,
            instrument_identifier_id=ii_id,
            attributes=dict(pi.attributes),
            created_at=self._service.clock.now(),
            customer_id=customer_id,
        )
        uow.payment_instruments.add(created)
        if customer_id is not None:
            customer = uow.customers.get(customer_id)
            if pi.default or customer.default_payment_instrument_id is None:
                uow.customers.update(
                    replace(customer, default_payment_instrument_id=pi.id), customer.version
                )
        self._tally.new("paymentInstruments", pi.id)

    def _customer(self, uow: UnitOfWork, customer: SeedCustomer) -> None:
        existing = _found(lambda: uow.customers.get(customer.id), customer.where)
        if existing is None:
            uow.customers.add(
                Customer(
                    id=customer.id,
                    merchant_id=self._merchant.merchant_id,
                    attributes=dict(customer.attributes),
                    created_at=self._service.clock.now(),
                )
            )
            self._tally.new("customers", customer.id)
        elif existing.attributes != dict(customer.attributes):
            raise seed_problem(
                customer.where, f"customer {customer.id} is stored with other fields."
            )
        else:
            self._tally.same("customers", customer.id)
        for address in customer.shipping_addresses:
            self._address(uow, customer.id, address)
        for pi in customer.payment_instruments:
            self._payment_instrument(uow, pi, customer.id)

    def _address(self, uow: UnitOfWork, customer_id: str, address: SeedShippingAddress) -> None:
        existing = _found(lambda: uow.shipping_addresses.get(address.id), address.where)
        if existing is not None:
            if existing.customer_id != customer_id or existing.attributes != dict(
                address.attributes
            ):
                raise seed_problem(
                    address.where,
                    f"shipping address {address.id} is stored with other content.",
                )
            self._tally.same("shippingAddresses", address.id)
            return
        uow.shipping_addresses.add(
            StoredAddress(
                id=address.id,
                merchant_id=self._merchant.merchant_id,
                customer_id=customer_id,
                attributes=dict(address.attributes),
                created_at=self._service.clock.now(),
            )
        )
        customer = uow.customers.get(customer_id)
        if address.default or customer.default_shipping_address_id is None:
            uow.customers.update(
                replace(customer, default_shipping_address_id=address.id), customer.version
            )
        self._tally.new("shippingAddresses", address.id)


def _exists(get: Callable[[], object]) -> bool:
    try:
        get()
    except (NotFound, NotAvailable):
        return False
    return True


_T = TypeVar("_T")


def _found(get: Callable[[], _T], where: Where) -> _T | None:
    """The stored row of a fixed id, None when there is none; a deleted one
    (its id cannot be used again) is a problem of the file."""
    try:
        return get()
    except NotFound:
        return None
    except NotAvailable:
        raise seed_problem(where.at("id"), "a token with this id was deleted.") from None
