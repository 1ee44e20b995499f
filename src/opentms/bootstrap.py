"""The composition root: every adapter is built here, once, from settings.

:func:`open_database` is the one way in to the database (the server, and every
command of the CLI); :func:`build_services` wires the services over it into the
:class:`~opentms.services.container.Services` the adapters are given."""

from __future__ import annotations

from functools import cached_property, partial
from typing import cast

from sqlalchemy import Engine

from opentms.adapters.keys.local import load_or_create_master_keys
from opentms.adapters.networks.simulated import SimulatedTokenProvider
from opentms.adapters.private_files import make_private_directory
from opentms.adapters.storage import migrate
from opentms.adapters.storage.database import SQLNetworkUnitOfWork, SQLUnitOfWork, make_engine
from opentms.adapters.storage.merchants import SQLMerchantStore
from opentms.adapters.storage.readiness import SQLReadiness
from opentms.adapters.storage.replay import SQLReplayGuard
from opentms.config import Settings
from opentms.crypto.keyring import Keyring
from opentms.crypto.network_secrets import NetworkSecrets
from opentms.domain.network_token import TokenNetwork
from opentms.domain.ports import Clock, TokenProvider
from opentms.services.authentication import Authenticator
from opentms.services.authorizations import AuthorizationSimulator
from opentms.services.container import Services
from opentms.services.customers import CustomerService, ShippingAddressService
from opentms.services.instrument_identifiers import InstrumentIdentifierService, InstrumentStore
from opentms.services.merchants import MerchantService
from opentms.services.network_tokens import NetworkTokenService
from opentms.services.payment_credentials import PaymentCredentialService
from opentms.services.payment_instruments import PaymentInstrumentService
from opentms.services.provisioning import Provisioner
from opentms.services.server_keys import ServerKeys
from opentms.services.tenancy import SystemClock, UnitOfWorkFactory

# Services is the container's own name, re-exported for the callers of build_services.
__all__ = ["Database", "Services", "build_services", "open_database"]


class Database:
    """The database of some settings, open: its engine, and the master keys
    that seal what it holds (loaded on first use: a migration asks for them
    only when it has card data to re-seal, 0004)."""

    def __init__(self, settings: Settings, engine: Engine) -> None:
        self.settings = settings
        self.engine = engine

    @cached_property
    def keyring(self) -> Keyring:
        return Keyring(load_or_create_master_keys(self.settings.resolved_master_key_file))

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


def build_services(
    settings: Settings,
    clock: Clock | None = None,
    upgrade: bool = True,
    database: Database | None = None,
) -> Services:
    """Wire opentms for ``settings``, over ``database`` or one it opens (and
    migrates, unless told not to); closing the services closes the database."""
    clock = clock or SystemClock()
    if database is None:
        database = open_database(settings, upgrade)
    engine, keyring = database.engine, database.keyring
    store = SQLMerchantStore(engine)
    server_keys = ServerKeys(store, keyring, clock)
    merchants = MerchantService(store, keyring, server_keys, clock)
    secrets = NetworkSecrets(keyring, server_keys.secret("network_index", 32))
    uow = cast(UnitOfWorkFactory, partial(SQLUnitOfWork, engine, secrets))
    providers: dict[TokenNetwork, TokenProvider] = {
        network: SimulatedTokenProvider(
            network,
            server_keys.secret(f"network:{network.value}:issuer-master-key", 16),
            server_keys.secret("network:simulator", 32),
        )
        for network in TokenNetwork
    }
    provisioner = Provisioner(providers, clock)
    store_ = InstrumentStore(provisioner, clock)
    return Services(
        settings=settings,
        merchants=merchants,
        authenticator=Authenticator(
            merchants, clock, settings.clock_skew_seconds, SQLReplayGuard(engine)
        ),
        instrument_identifiers=InstrumentIdentifierService(uow, store_, provisioner, clock),
        payment_instruments=PaymentInstrumentService(uow, store_, clock),
        customers=CustomerService(uow, clock),
        shipping_addresses=ShippingAddressService(uow, clock),
        network_tokens=NetworkTokenService(uow, store_, provisioner, clock),
        payment_credentials=PaymentCredentialService(uow, provisioner, clock),
        authorizations=AuthorizationSimulator(
            partial(SQLNetworkUnitOfWork, engine, secrets), clock
        ),
        server_keys=server_keys,
        readiness=SQLReadiness(engine),
        on_close=database.close,
    )
