"""The sandbox admin API under ``/opentms/v1/sandbox/`` (docs/sandbox.md),
mounted in sandbox mode only: in a vault none of these paths exist."""

from __future__ import annotations

from opentms.adapters.http.admin import AdminPipeline
from opentms.adapters.http.openapi import Operation
from opentms.adapters.http.routes.sandbox import (
    clock,
    faults,
    journal,
    merchants,
    seed,
    state,
    status,
)
from opentms.services.sandbox import SandboxControls


def operations(controls: SandboxControls, admin: AdminPipeline) -> list[Operation]:
    """Every admin route."""
    return [
        *status.operations(controls, admin),
        *clock.operations(controls, admin),
        *faults.operations(controls, admin),
        *journal.operations(controls, admin),
        *state.operations(controls, admin),
        *seed.operations(controls, admin),
        *merchants.operations(controls, admin),
    ]
