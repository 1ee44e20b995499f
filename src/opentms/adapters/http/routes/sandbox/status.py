"""``GET /opentms/v1/sandbox``: what this sandbox is (a vault answers 404)."""

from __future__ import annotations

from dataclasses import dataclass

from starlette.responses import Response

from opentms.adapters.http.admin import ADMIN_PREFIX, AdminPipeline, AdminRequest
from opentms.adapters.http.openapi import Operation
from opentms.adapters.http.pipeline import json_response
from opentms.adapters.http.routes.sandbox.clock import render
from opentms.services.sandbox import SandboxControls


@dataclass(frozen=True)
class StatusRoutes:
    controls: SandboxControls

    def get_sandbox_status(self, _: AdminRequest) -> Response:
        """The mode, the state's generation (it changes with every reset,
        restore and seed), the service clock and whether ids are deterministic."""
        state = self.controls.state_store.read()
        return json_response(
            {
                "mode": "sandbox",
                "generation": state.generation,
                "clock": render(self.controls.clock.read()),
                "deterministic": self.controls.deterministic,
            }
        )


def operations(controls: SandboxControls, admin: AdminPipeline) -> list[Operation]:
    routes = StatusRoutes(controls)
    return [
        Operation(
            method="GET",
            path=ADMIN_PREFIX,
            endpoint=admin.endpoint(routes.get_sandbox_status),
            summary="What this sandbox is: mode, generation, clock",
            tag="Sandbox",
            security="admin",
        )
    ]
