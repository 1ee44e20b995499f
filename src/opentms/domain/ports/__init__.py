"""The ports the services depend on, one module per area; adapters implement
them, and tests/services/fakes.py fakes them. Import them from here.

- :mod:`~opentms.domain.ports.system`: the clock, the readiness probe;
- :mod:`~opentms.domain.ports.vault`: the repositories, the credential chain,
  the unit of work and its factory;
- :mod:`~opentms.domain.ports.network`: the networks' token services, the
  network's directory and unit of work;
- :mod:`~opentms.domain.ports.merchants`: the merchant and server-key stores;
- :mod:`~opentms.domain.ports.authentication`: the credential directory, the
  replay guard;
- :mod:`~opentms.domain.ports.sandbox`: the sandbox's shared state;
- :mod:`~opentms.domain.ports.faults`: the sandbox's fault rules.
- :mod:`~opentms.domain.ports.journal`: the sandbox's request journal.
- :mod:`~opentms.domain.ports.state`: the sandbox's reset and snapshots.
- :mod:`~opentms.domain.ports.randomness`: where ids and generated keys come from;
- :mod:`~opentms.domain.ports.seed`: who owns a seed file's fixed ids;
- :mod:`~opentms.domain.ports.webhooks`: the outbox, the transport to receivers.
"""

from opentms.domain.ports.authentication import (
    CredentialDirectory,
    ReplayGuard,
)
from opentms.domain.ports.faults import (
    ConnectionFault,
    Fault,
    FaultRule,
    FaultStore,
)
from opentms.domain.ports.journal import (
    AuthenticationVerdict,
    JournalEntry,
    JournalFilter,
    JournalStore,
)
from opentms.domain.ports.merchants import (
    MerchantStore,
    ServerKeyStore,
)
from opentms.domain.ports.network import (
    NetworkDirectory,
    NetworkUnitOfWork,
    TokenProvider,
)
from opentms.domain.ports.randomness import (
    Counter,
    RandomSource,
)
from opentms.domain.ports.sandbox import (
    SandboxState,
    SandboxStateStore,
)
from opentms.domain.ports.seed import IdKind, IdOwners
from opentms.domain.ports.state import (
    ResetReport,
    ResetScope,
    SnapshotStore,
    SnapshotSummary,
    StateResetter,
)
from opentms.domain.ports.system import (
    Clock,
    ReadinessProbe,
)
from opentms.domain.ports.vault import (
    Chain,
    CredentialChain,
    CustomerRepository,
    InstrumentIdentifierRepository,
    NetworkTokenRepository,
    PaymentInstrumentRepository,
    SealingKeys,
    ShippingAddressRepository,
    UnitOfWork,
    UnitOfWorkFactory,
)
from opentms.domain.ports.webhooks import (
    DestinationRefused,
    Outbox,
    SigningKey,
    SigningKeys,
    TransportResult,
    WebhookTransport,
)

__all__ = [
    "AuthenticationVerdict",
    "Chain",
    "Clock",
    "ConnectionFault",
    "Counter",
    "CredentialChain",
    "CredentialDirectory",
    "CustomerRepository",
    "DestinationRefused",
    "Fault",
    "FaultRule",
    "FaultStore",
    "IdKind",
    "IdOwners",
    "InstrumentIdentifierRepository",
    "JournalEntry",
    "JournalFilter",
    "JournalStore",
    "MerchantStore",
    "NetworkDirectory",
    "NetworkTokenRepository",
    "NetworkUnitOfWork",
    "Outbox",
    "PaymentInstrumentRepository",
    "RandomSource",
    "ReadinessProbe",
    "ReplayGuard",
    "ResetReport",
    "ResetScope",
    "SandboxState",
    "SandboxStateStore",
    "SealingKeys",
    "ServerKeyStore",
    "ShippingAddressRepository",
    "SigningKey",
    "SigningKeys",
    "SnapshotStore",
    "SnapshotSummary",
    "StateResetter",
    "TokenProvider",
    "TransportResult",
    "UnitOfWork",
    "UnitOfWorkFactory",
    "WebhookTransport",
]
