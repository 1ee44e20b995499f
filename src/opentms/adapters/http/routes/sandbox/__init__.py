"""The sandbox admin API under ``/opentms/v1/sandbox/`` (docs/sandbox.md),
mounted in sandbox mode only: in a vault none of these paths exist."""

from __future__ import annotations

from opentms.adapters.http.admin import AdminPipeline
from opentms.adapters.http.openapi import Operation
from opentms.adapters.http.routes.sandbox import clock, merchants, seed
from opentms.services.sandbox import SandboxControls


def operations(controls: SandboxControls, admin: AdminPipeline) -> list[Operation]:
    """Every admin route."""
    return [
        *clock.operations(controls, admin),
        *seed.operations(controls, admin),
        *merchants.operations(controls, admin),
    ]
