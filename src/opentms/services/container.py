"""The services the adapters drive, in one object: what the HTTP app and the
CLI are given. :mod:`opentms.bootstrap` builds it; adapters import it from
here, never from the composition root.

:class:`Ports` is what the services are built over: the implementations of
their ports. Bootstrap makes the SQL ones; a test may pass in-memory fakes."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass

from opentms.config import Settings
from opentms.crypto.keyring import Keyring
from opentms.domain.ports import (
    FaultStore,
    IdOwners,
    JournalStore,
    MerchantStore,
    NetworkUnitOfWork,
    ReadinessProbe,
    ReplayGuard,
    SandboxStateStore,
    ServerKeyStore,
    SigningKeys,
    SnapshotStore,
    StateResetter,
    UnitOfWorkFactory,
    WebhookTransport,
)
from opentms.domain.ports.audit import AuditLog
from opentms.domain.ports.webhooks import NotificationQueue, WebhookSubscriptionStore
from opentms.services.authentication import Authenticator
from opentms.services.authorizations import AuthorizationSimulator
from opentms.services.customers import CustomerService, ShippingAddressService
from opentms.services.instrument_identifiers import InstrumentIdentifierService
from opentms.services.merchants import MerchantService
from opentms.services.network_tokens import NetworkTokenService
from opentms.services.payment_credentials import PaymentCredentialService
from opentms.services.payment_instruments import PaymentInstrumentService
from opentms.services.sandbox import SandboxControls
from opentms.services.server_keys import ServerKeys
from opentms.services.webhooks.dispatcher import Dispatcher
from opentms.services.webhooks.keys import WebhookKeyService
from opentms.services.webhooks.subscriptions import WebhookService


@dataclass(frozen=True)
class Ports:
    """What the services run over, one implementation of each port: the
    master keys, the stores of merchants and of the server's own keys, the
    units of work of the vault and of the card network, the replay guard and
    the readiness probe. ``close`` releases what they hold."""

    keyring: Keyring
    merchant_store: MerchantStore
    server_key_store: ServerKeyStore
    unit_of_work: UnitOfWorkFactory
    network_unit_of_work: Callable[[], NetworkUnitOfWork]
    replay_guard: ReplayGuard
    readiness: ReadinessProbe
    close: Callable[[], None]
    # The sandbox's shared state; None where there is none (a vault, fakes).
    sandbox_state: SandboxStateStore | None = None
    # The sandbox's fault rules; likewise None where there are none.
    sandbox_faults: FaultStore | None = None
    # The sandbox's request journal; None where there is none.
    journal_store: JournalStore | None = None
    # The sandbox's reset and snapshots; None where there are none.
    state_resetter: StateResetter | None = None
    snapshots: SnapshotStore | None = None
    # Who owns a seed file's fixed ids, across merchants (sandbox seed files).
    id_owners: IdOwners | None = None
    # Webhooks: the merchants' signing keys and the transport to receivers.
    signing_keys: SigningKeys | None = None
    webhook_transport: WebhookTransport | None = None
    # Webhooks: the merchants' subscriptions and their delivery history.
    webhook_subscriptions: WebhookSubscriptionStore | None = None
    # The dispatchers' queue, and the doorbell a unit of work rings once it
    # has queued notifications (the dispatcher of this process waits on it).
    webhook_queue: NotificationQueue | None = None
    webhook_doorbell: threading.Event | None = None
    # The audit log, for what is written outside a unit of work (None: off).
    audit_log: AuditLog | None = None


@dataclass(frozen=True)
class Services:
    settings: Settings
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
    readiness: ReadinessProbe
    # Releases what the adapters hold (the database's connections).
    on_close: Callable[[], None]
    # Sandbox mode's controls; None in a vault (docs/sandbox.md).
    sandbox: SandboxControls | None = None
    # Webhooks (docs/webhooks.md): subscriptions and signing keys; None where
    # the ports have no webhook stores (in-memory fakes).
    webhooks: WebhookService | None = None
    webhook_keys: WebhookKeyService | None = None
    # The webhook dispatcher of this process; the server starts it (None
    # over ports without a queue).
    dispatcher: Dispatcher | None = None
    # The audit log (docs/security.md); None over ports without one.
    audit_log: AuditLog | None = None

    def close(self) -> None:
        if self.dispatcher is not None:
            self.dispatcher.stop()
        self.on_close()
