"""The services over the in-memory fakes (tests/services/unit's fixtures):
the events a use case publishes are in ``fakes.vault.state.events`` once it
has committed."""

from tests.services.unit.conftest import (  # noqa: F401 - fixtures
    clock,
    fakes,
    other_tenant,
    plain_tenant,
    services,
    tenant,
)
