"""The composition root: every adapter is built here, once, from settings.

:func:`open_database` is the one way in to the database (the server, and every
command of the CLI); :func:`build_services` wires the services over it into the
:class:`~opentms.services.container.Services` the adapters are given."""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import timedelta
from functools import cached_property, partial
from typing import cast

from sqlalchemy import Engine

from opentms.adapters.admin_token import load_or_create_admin_token
from opentms.adapters.keys.providers import master_key_provider
from opentms.adapters.networks.simulated import SimulatedTokenProvider
from opentms.adapters.private_files import make_private_directory
from opentms.adapters.storage import migrate
from opentms.adapters.storage.audit import AuditChain, AuditSettings
from opentms.adapters.storage.data_keys import SQLDataKeys
from opentms.adapters.storage.database import (
    SQLAuditLog,
    SQLNetworkUnitOfWork,
    SQLUnitOfWork,
    guard_wholesale_changes,
    make_engine,
)
from opentms.adapters.storage.id_owners import SQLIdOwners
from opentms.adapters.storage.master_keys import MasterKeyAdmin, RetireRefused, sealed_columns
from opentms.adapters.storage.merchants import SQLMerchantStore
from opentms.adapters.storage.random_counter import shared_counter
from opentms.adapters.storage.readiness import SQLReadiness
from opentms.adapters.storage.replay import SQLReplayGuard
from opentms.adapters.storage.sandbox_faults import SQLFaultStore
from opentms.adapters.storage.sandbox_journal import SQLJournalStore
from opentms.adapters.storage.sandbox_reset import SQLStateResetter
from opentms.adapters.storage.sandbox_snapshots import SQLSnapshotStore
from opentms.adapters.storage.sandbox_state import SQLSandboxState
from opentms.adapters.storage.webhook_keys import SQLSigningKeys
from opentms.adapters.storage.webhook_queue import SQLNotificationQueue
from opentms.adapters.storage.webhook_subscriptions import SQLWebhookSubscriptionStore
from opentms.adapters.webhooks.transport import HttpxTransport
from opentms.config import Settings
from opentms.crypto.keyring import Keyring, MerchantKeys
from opentms.crypto.network_secrets import NetworkSecrets
from opentms.domain import randomness
from opentms.domain.errors import NotFound
from opentms.domain.network_token import TokenNetwork
from opentms.domain.ports import Clock, TokenProvider, UnitOfWorkFactory
from opentms.services.authentication import Authenticator
from opentms.services.authorizations import AuthorizationSimulator
from opentms.services.container import Ports, Services
from opentms.services.customers import CustomerService, ShippingAddressService
from opentms.services.instrument_identifiers import InstrumentIdentifierService, InstrumentIntake
from opentms.services.merchants import MerchantService
from opentms.services.network_tokens import NetworkTokenService
from opentms.services.payment_credentials import PaymentCredentialService
from opentms.services.payment_instruments import PaymentInstrumentService
from opentms.services.provisioning import Provisioner
from opentms.services.sandbox import SandboxControls
from opentms.services.sandbox.clock import ClockControl, ServiceClock
from opentms.services.sandbox.faults import FaultControl
from opentms.services.sandbox.journal import RequestJournal
from opentms.services.sandbox.seed import SeedService
from opentms.services.sandbox.state import StateControl
from opentms.services.server_keys import ServerKeys
from opentms.services.tenancy import SystemClock
from opentms.services.webhooks.dispatcher import Dispatcher, DispatcherSettings, lease_for
from opentms.services.webhooks.keys import WebhookKeyService
from opentms.services.webhooks.subscriptions import WebhookService

# Services and Ports are the container's own names, re-exported for the callers of build_services.
__all__ = [
    "Database",
    "Ports",
    "RetireRefused",
    "Services",
    "TokenProviders",
    "build_services",
    "data_key_store",
    "open_database",
    "sealed_columns",
    "simulated_networks",
    "sql_ports",
    "webhook_dispatcher",
]


class Database:
    """The database of some settings, open: its engine, and the master keys
    that seal what it holds (loaded on first use: a migration asks for them
    only when it has card data to re-seal, 0004)."""

    def __init__(self, settings: Settings, engine: Engine) -> None:
        self.settings = settings
        self.engine = engine

    @cached_property
    def keyring(self) -> Keyring:
        return Keyring(
            master_key_provider(self.settings), refresh_seconds=self.settings.key_refresh_seconds
        )

    @cached_property
    def master_keys(self) -> MasterKeyAdmin:
        """``opentms keys``: the master key's versions, counts, rewrap and retire."""
        return MasterKeyAdmin(self.engine, self.keyring)

    def upgrade(self) -> None:
        """Apply every pending migration."""
        migrate.upgrade(self.engine, keyring=lambda: self.keyring)

    def revision(self) -> str | None:
        """The schema revision, or None for an empty database."""
        return migrate.current_revision(self.engine)

    def close(self) -> None:
        self.engine.dispose()


def open_database(settings: Settings, upgrade: bool = True) -> Database:
    """Open the database of ``settings`` (on SQLite, in the data directory,
    made private if missing) and bring its schema to the newest revision
    unless told not to. Every command and the server open it here."""
    if settings.database_url is None:
        make_private_directory(settings.data_dir)
    database = Database(settings, make_engine(settings.resolved_database_url))
    if upgrade:
        try:
            database.upgrade()
        except BaseException:
            database.close()
            raise
    return database


# The networks' token services, given the server's keys (the simulators
# derive their keys from server secrets): what build_services provisions with.
TokenProviders = Callable[[ServerKeys], Mapping[TokenNetwork, TokenProvider]]


def simulated_networks(server_keys: ServerKeys) -> dict[TokenNetwork, TokenProvider]:
    """A simulated token service for every network, keyed by server secrets."""
    return {
        network: SimulatedTokenProvider(
            network,
            server_keys.secret(f"network:{network.value}:issuer-master-key", 16),
            server_keys.secret("network:simulator", 32),
        )
        for network in TokenNetwork
    }


def sql_ports(database: Database, clock: Clock) -> Ports:
    """The SQL implementations of the services' ports, over ``database``;
    closing them closes the database."""
    engine, keyring = database.engine, database.keyring
    # An install from before master-key versions gets its v1 recorded here.
    database.master_keys.record()
    merchant_store = SQLMerchantStore(engine)
    index_key = ServerKeys(merchant_store, keyring, clock).secret("network_index", 32)
    # The audit log (docs/security.md): card-derived ids are recorded as
    # their HMAC under the server key "audit".
    audit = None
    if database.settings.audit_enabled:
        audit_key = ServerKeys(merchant_store, keyring, clock).secret("audit", 32)
        audit = AuditSettings(audit_key, clock.now)
        merchant_store.audit = audit
    secrets = NetworkSecrets(keyring, index_key)
    settings = database.settings
    sandbox = settings.sandbox
    transport = HttpxTransport(
        settings.webhook_connect_timeout_seconds,
        settings.webhook_read_timeout_seconds,
        vault=not sandbox,
        allowed=settings.webhook_allowed_destinations,
    )
    # Rung by a unit of work that queued webhook notifications: this
    # process's dispatcher sends them at once rather than at its next poll.
    doorbell = threading.Event()
    if sandbox:
        # Resets and restores are seen whole by every transaction (database.py).
        guard_wholesale_changes(engine)
    return Ports(
        keyring=keyring,
        merchant_store=merchant_store,
        server_key_store=merchant_store,
        unit_of_work=cast(
            UnitOfWorkFactory,
            partial(SQLUnitOfWork, engine, secrets, wake=doorbell.set, audit=audit),
        ),
        audit_log=SQLAuditLog(engine, audit),
        network_unit_of_work=partial(SQLNetworkUnitOfWork, engine, secrets),
        replay_guard=SQLReplayGuard(engine),
        readiness=SQLReadiness(engine),
        close=_then(transport.close, database.close),
        sandbox_state=SQLSandboxState(engine) if sandbox else None,
        sandbox_faults=SQLFaultStore(engine) if sandbox else None,
        journal_store=SQLJournalStore(engine) if sandbox else None,
        state_resetter=SQLStateResetter(engine) if sandbox else None,
        snapshots=SQLSnapshotStore(engine) if sandbox else None,
        id_owners=SQLIdOwners(engine) if sandbox else None,
        signing_keys=SQLSigningKeys(
            engine, partial(_merchant_keys, merchant_store, keyring), audit
        ),
        webhook_transport=transport,
        webhook_subscriptions=SQLWebhookSubscriptionStore(engine),
        webhook_queue=SQLNotificationQueue(engine),
        webhook_doorbell=doorbell,
    )


def data_key_store(database: Database) -> SQLDataKeys:
    """Merchants' data-key rotation and shredding over ``database``
    (``opentms merchants rotate-data-key`` and ``delete --shred``)."""
    return SQLDataKeys(database.engine, database.keyring)


def _merchant_keys(store: SQLMerchantStore, keyring: Keyring, merchant_id: str) -> MerchantKeys:
    merchant = store.find_merchant(merchant_id)
    if merchant is None:
        raise NotFound(f"No merchant {merchant_id!r} is registered.")
    return keyring.open(merchant.id, merchant.wrapped_keys)


def state_control(
    ports: Ports,
    clock: Clock,
    forget_cached: Callable[[], None],
    restart_ids: Callable[[], None],
) -> StateControl:
    """The sandbox's reset and snapshots, over the stores of ``ports``."""
    if ports.state_resetter is None or ports.snapshots is None:
        raise RuntimeError("Sandbox mode needs ports with the reset and snapshot stores.")
    return StateControl(ports.state_resetter, ports.snapshots, clock, forget_cached, restart_ids)


def build_services(
    settings: Settings,
    clock: Clock | None = None,
    upgrade: bool = True,
    database: Database | None = None,
    *,
    ports: Ports | None = None,
    token_providers: TokenProviders = simulated_networks,
) -> Services:
    """Wire opentms for ``settings`` over ``ports``: by default the SQL ones,
    over ``database`` or one it opens (and migrates, unless told not to).
    Closing the services closes the ports.

    A test builds the services over in-memory fakes by passing ``ports``
    (and a fixed ``clock``, other ``token_providers``); nothing is opened then."""
    real_clock = clock or SystemClock()
    if ports is None:
        database = database or open_database(settings, upgrade)
        restore_randomness = _install_randomness(settings, database)
        ports = sql_ports(database, real_clock)
        ports = replace(ports, close=_then(restore_randomness, ports.close))
    service_clock: ServiceClock | None = None
    if settings.sandbox and ports.sandbox_state is not None:
        # Authentication keeps real time (the SDKs sign with theirs); the
        # rest follows the sandbox's service clock.
        service_clock = ServiceClock(ports.sandbox_state, real_clock)
    clock = service_clock or real_clock
    uow = ports.unit_of_work
    server_keys = ServerKeys(ports.server_key_store, ports.keyring, clock)
    merchants = MerchantService(ports.merchant_store, ports.keyring, server_keys, clock)
    provisioner = Provisioner(token_providers(server_keys), clock)
    intake = InstrumentIntake(provisioner, clock)
    sandbox = None
    if (
        service_clock is not None
        and ports.sandbox_state is not None
        and ports.sandbox_faults is not None
        and ports.journal_store is not None
    ):
        admin_token = load_or_create_admin_token(settings)
        sandbox = SandboxControls(
            admin_token=admin_token,
            state_store=ports.sandbox_state,
            clock=ClockControl(ports.sandbox_state, service_clock),
            forget_cached=merchants.forget_cached,
            state=state_control(
                ports, real_clock, merchants.forget_cached, randomness.current().restart
            ),
            journal=RequestJournal(
                ports.journal_store, settings.journal_limit, secrets=(admin_token,)
            ),
            faults=FaultControl(ports.sandbox_faults, real_clock),
            deterministic=settings.deterministic_seed is not None,
            seed=SeedService(
                merchants,
                ports.merchant_store,
                uow,
                intake,
                ports.sandbox_state,
                ports.id_owners,
                clock,
                merchants.forget_cached,
            ),
            randomness=randomness.current(),
        )
    webhooks, webhook_keys = _webhook_services(settings, ports, clock)
    return Services(
        settings=settings,
        merchants=merchants,
        authenticator=Authenticator(
            merchants, real_clock, settings.clock_skew_seconds, ports.replay_guard
        ),
        instrument_identifiers=InstrumentIdentifierService(uow, intake, provisioner, clock),
        payment_instruments=PaymentInstrumentService(uow, intake, clock),
        customers=CustomerService(uow, clock),
        shipping_addresses=ShippingAddressService(uow, clock),
        network_tokens=NetworkTokenService(uow, intake, provisioner, clock),
        payment_credentials=PaymentCredentialService(uow, provisioner, clock),
        authorizations=AuthorizationSimulator(ports.network_unit_of_work, clock),
        server_keys=server_keys,
        readiness=ports.readiness,
        on_close=ports.close,
        sandbox=sandbox,
        webhooks=webhooks,
        webhook_keys=webhook_keys,
        dispatcher=webhook_dispatcher(settings, ports, clock, real_clock),
        audit_log=ports.audit_log,
    )


def webhook_dispatcher(
    settings: Settings, ports: Ports, clock: Clock, real_clock: Clock
) -> Dispatcher | None:
    """The webhook dispatcher over ``ports`` (None without a queue): the
    service ``clock`` schedules, ``real_clock`` times claims and signatures.
    Built, not started: the server starts it (OPENTMS_WEBHOOK_DISPATCHER)."""
    if ports.webhook_queue is None or ports.signing_keys is None or ports.webhook_transport is None:
        return None
    workers = settings.webhook_workers
    connect, read = settings.webhook_connect_timeout_seconds, settings.webhook_read_timeout_seconds
    return Dispatcher(
        ports.webhook_queue,
        ports.signing_keys,
        ports.webhook_transport,
        clock,
        real_clock,
        DispatcherSettings(
            signature_input=settings.webhook_signature_input,
            poll_seconds=settings.webhook_poll_seconds,
            lease=lease_for(connect, read, workers, workers),
            workers=workers,
        ),
        ports.webhook_doorbell,
    )


def _webhook_services(
    settings: Settings, ports: Ports, clock: Clock
) -> tuple[WebhookService | None, WebhookKeyService | None]:
    """The subscription and key API's services, over the ports' webhook
    stores and transport (none when the ports have none), on the service clock."""
    if (
        ports.webhook_subscriptions is None
        or ports.signing_keys is None
        or ports.webhook_transport is None
    ):
        return None, None
    webhooks = WebhookService(
        ports.webhook_subscriptions,
        ports.webhook_transport,
        ports.signing_keys,
        clock,
        settings.webhook_signature_input,
    )
    keys = WebhookKeyService(
        ports.signing_keys, clock, timedelta(seconds=settings.webhook_key_overlap_seconds)
    )
    return webhooks, keys


def _install_randomness(settings: Settings, database: Database) -> Callable[[], None]:
    """In deterministic mode (a sandbox's ``--deterministic SEED``), make the
    process's ids and generated keys come from the seed and the counter all
    the server's processes share (docs/sandbox.md); returns what undoes it."""
    if not (settings.sandbox and settings.deterministic_seed):
        return lambda: None
    source = randomness.DeterministicSource(
        settings.deterministic_seed, shared_counter(database.engine)
    )
    previous = randomness.install(source)

    def restore() -> None:
        randomness.install(previous)

    return restore


def _then(first: Callable[[], None], second: Callable[[], None]) -> Callable[[], None]:
    def both() -> None:
        try:
            first()
        finally:
            second()

    return both


def audit_id_key(database: Database) -> bytes:
    """The key of the audit log's hashed ids (server key "audit"), created
    on first use like the server's other keys."""
    store = SQLMerchantStore(database.engine)
    return ServerKeys(store, database.keyring, SystemClock()).secret("audit", 32)


def audit_chain(database: Database) -> AuditChain:
    """The audit log of ``database``, for ``opentms audit`` (read only)."""
    return AuditChain(database.engine)
