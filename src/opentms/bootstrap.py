"""The composition root: every adapter is built here, once, from settings."""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import cast

from sqlalchemy import Engine

from opentms.adapters.keys.local import load_or_create_master_keys
from opentms.adapters.networks.simulated import SimulatedTokenProvider
from opentms.adapters.private_files import make_private_directory
from opentms.adapters.storage import migrate
from opentms.adapters.storage.database import SQLNetworkUnitOfWork, SQLUnitOfWork, make_engine
from opentms.adapters.storage.merchants import SQLMerchantStore
from opentms.adapters.storage.replay import SQLReplayGuard
from opentms.config import Settings
from opentms.crypto.keyring import Keyring
from opentms.crypto.network_secrets import NetworkSecrets
from opentms.domain.network_token import TokenNetwork
from opentms.domain.ports import Clock, TokenProvider
from opentms.services.authentication import Authenticator
from opentms.services.authorizations import AuthorizationSimulator
from opentms.services.customers import CustomerService, ShippingAddressService
from opentms.services.instrument_identifiers import InstrumentIdentifierService, InstrumentStore
from opentms.services.merchants import MerchantService
from opentms.services.network_tokens import NetworkTokenService
from opentms.services.payment_credentials import PaymentCredentialService
from opentms.services.payment_instruments import PaymentInstrumentService
from opentms.services.provisioning import Provisioner
from opentms.services.server_keys import ServerKeys
from opentms.services.tenancy import SystemClock, UnitOfWorkFactory


@dataclass(frozen=True)
class Services:
    settings: Settings
    engine: Engine
    merchants: MerchantService
    authenticator: Authenticator
    instrument_identifiers: InstrumentIdentifierService
    payment_instruments: PaymentInstrumentService
    customers: CustomerService
    shipping_addresses: ShippingAddressService
    network_tokens: NetworkTokenService
    payment_credentials: PaymentCredentialService
    authorizations: AuthorizationSimulator
    server_keys: ServerKeys

    def close(self) -> None:
        self.engine.dispose()


def build_services(
    settings: Settings, clock: Clock | None = None, upgrade: bool = True
) -> Services:
    """Wire opentms for ``settings``; migrate the database first unless told not to."""
    clock = clock or SystemClock()
    if settings.database_url is None:
        make_private_directory(settings.data_dir)
    engine = make_engine(settings.resolved_database_url)
    keyring = Keyring(load_or_create_master_keys(settings.resolved_master_key_file))
    if upgrade:
        migrate.upgrade(engine, keyring=lambda: keyring)
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
        engine=engine,
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
    )
