"""``POST /opentms/v1/sandbox/seed``: apply a seed document (docs/sandbox.md
"Seed files"), JSON or YAML by the request's Content-Type."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from starlette.responses import Response

from opentms.adapters.http.admin import ADMIN_PREFIX, AdminPipeline, AdminRequest, invalid
from opentms.adapters.http.openapi import Operation
from opentms.adapters.http.pipeline import json_response
from opentms.adapters.seed_file import parse_seed, seed_format_of
from opentms.services.sandbox import SandboxControls
from opentms.services.sandbox.seed import SeedOutcome, SeedService

PATH = f"{ADMIN_PREFIX}/seed"


def render(outcome: SeedOutcome) -> dict[str, Any]:
    return {
        "merchants": list(outcome.merchants),
        "created": dict(outcome.created),
        "unchanged": dict(outcome.unchanged),
    }


@dataclass(frozen=True)
class SeedRoutes:
    seed: SeedService

    def post_sandbox_seed(self, request: AdminRequest) -> Response:
        """Apply a seed document: ``application/json`` or ``application/yaml``."""
        seed_format = seed_format_of(request.header("content-type"))
        if seed_format is None:
            raise invalid(
                "Content-Type",
                "Send the seed document as application/json or application/yaml.",
            )
        document = parse_seed(request.body, seed_format, None)
        return json_response(render(self.seed.apply(document)))


def operations(controls: SandboxControls, admin: AdminPipeline) -> list[Operation]:
    routes = SeedRoutes(controls.seed)
    return [
        Operation(
            method="POST",
            path=PATH,
            endpoint=admin.endpoint(routes.post_sandbox_seed),
            summary="Apply a seed file (merchants, profiles, customers, cards)",
            tag="Sandbox",
            security="admin",
        ),
    ]
