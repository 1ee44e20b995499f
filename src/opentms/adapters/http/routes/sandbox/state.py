"""``/opentms/v1/sandbox/reset`` and ``/opentms/v1/sandbox/snapshots``: wipe
the state, or save it under a name, list, read, restore and delete it."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from starlette.responses import Response

from opentms.adapters.http.admin import (
    ADMIN_PREFIX,
    AdminPipeline,
    AdminRequest,
    invalid,
    timestamp,
)
from opentms.adapters.http.openapi import Operation
from opentms.adapters.http.pipeline import json_response
from opentms.domain.errors import FieldError, InvalidFields
from opentms.domain.ports import ResetReport, ResetScope, SnapshotSummary
from opentms.services.merchants import MERCHANT_ID
from opentms.services.sandbox import SandboxControls
from opentms.services.sandbox.state import Restored, StateControl

RESET_PATH = f"{ADMIN_PREFIX}/reset"
SNAPSHOTS_PATH = f"{ADMIN_PREFIX}/snapshots"
SNAPSHOT_PATH = f"{SNAPSHOTS_PATH}/{{name}}"
SNAPSHOT_NAME = re.compile(r"[A-Za-z0-9._-]{1,64}")
_NAME_RULE = "1 to 64 letters, digits, '.', '_' or '-'"


def parse_reset(body: dict[str, Any]) -> ResetScope:
    """``{}``, ``{"includeMerchants": bool}`` or ``{"merchantId": str}``."""
    _only(body, ("includeMerchants", "merchantId"))
    include = body.get("includeMerchants", False)
    if not isinstance(include, bool):
        raise invalid("includeMerchants", "includeMerchants must be true or false.")
    merchant_id = body.get("merchantId")
    if merchant_id is None:
        return ResetScope(include_merchants=include)
    if not isinstance(merchant_id, str) or MERCHANT_ID.fullmatch(merchant_id) is None:
        raise invalid(
            "merchantId", "merchantId must be a merchant id: 1 to 64 letters, digits, '_' or '-'."
        )
    if include:
        raise invalid(
            "includeMerchants",
            "includeMerchants applies to a reset of every merchant; a reset of one "
            "merchant (merchantId) keeps the merchant and its credentials.",
        )
    return ResetScope(merchant_id=merchant_id)


def parse_snapshot_body(body: dict[str, Any]) -> str:
    """``{"name": "before-test"}``: the name of the snapshot to save."""
    _only(body, ("name",))
    name = body.get("name")
    if not isinstance(name, str) or SNAPSHOT_NAME.fullmatch(name) is None:
        raise invalid("name", f"name must be {_NAME_RULE}.")
    return name


def parse_snapshot_name(value: str) -> str:
    """A snapshot's name from the path."""
    if SNAPSHOT_NAME.fullmatch(value) is None:
        raise InvalidFields(f"A snapshot name is {_NAME_RULE}.", (FieldError("name", "path"),))
    return value


def _only(body: dict[str, Any], known: tuple[str, ...]) -> None:
    for key in body:
        if key not in known:
            raise invalid(key, f"Unknown field {key[:64]!r}; this call takes {', '.join(known)}.")


def render_reset(report: ResetReport) -> dict[str, Any]:
    return {
        "reset": {
            "merchantId": report.scope.merchant_id,
            "includeMerchants": report.scope.include_merchants,
            "deleted": report.deleted,
        }
    }


def render_snapshot(snapshot: SnapshotSummary) -> dict[str, Any]:
    return {
        "name": snapshot.name,
        "createdAt": timestamp(snapshot.created_at),
        "counts": snapshot.counts,
    }


def render_restored(restored: Restored) -> dict[str, Any]:
    return {
        "name": restored.snapshot.name,
        "restoredAt": timestamp(restored.restored_at),
        "counts": restored.snapshot.counts,
    }


@dataclass(frozen=True)
class StateRoutes:
    state: StateControl

    def post_sandbox_reset(self, request: AdminRequest) -> Response:
        """Reset: ``{}`` (every merchant's vault, the journal, the faults, the
        clock), ``{"includeMerchants": true}`` (merchants too) or
        ``{"merchantId": "m"}`` (that merchant's vault and journal entries)."""
        return json_response(render_reset(self.state.reset(parse_reset(request.json()))))

    def post_sandbox_snapshot(self, request: AdminRequest) -> Response:
        """Save the state under a name: ``{"name": "before-test"}``."""
        name = parse_snapshot_body(request.json())
        return json_response(render_snapshot(self.state.save_snapshot(name)), 201)

    def get_sandbox_snapshots(self, _: AdminRequest) -> Response:
        """Every snapshot, oldest first."""
        snapshots = [render_snapshot(s) for s in self.state.list_snapshots()]
        return json_response({"snapshots": snapshots})

    def get_sandbox_snapshot(self, request: AdminRequest) -> Response:
        """One snapshot: when it was saved and its rows by table."""
        name = parse_snapshot_name(request.path("name"))
        return json_response(render_snapshot(self.state.get_snapshot(name)))

    def post_sandbox_snapshot_restore(self, request: AdminRequest) -> Response:
        """Put the state back as it was saved, atomically."""
        name = parse_snapshot_name(request.path("name"))
        return json_response(render_restored(self.state.restore_snapshot(name)))

    def delete_sandbox_snapshot(self, request: AdminRequest) -> Response:
        """Delete a snapshot (the state is left as it is)."""
        self.state.delete_snapshot(parse_snapshot_name(request.path("name")))
        return Response(status_code=204)


def operations(controls: SandboxControls, admin: AdminPipeline) -> list[Operation]:
    routes = StateRoutes(controls.state)
    common: dict[str, Any] = {"tag": "Sandbox", "security": "admin"}

    def op(method: str, path: str, handler: Any, summary: str, **extra: Any) -> Operation:
        endpoint = admin.endpoint(handler)
        return Operation(
            method=method, path=path, endpoint=endpoint, summary=summary, **common, **extra
        )

    return [
        op("POST", RESET_PATH, routes.post_sandbox_reset, "Reset the sandbox's state"),
        op(
            "POST",
            SNAPSHOTS_PATH,
            routes.post_sandbox_snapshot,
            "Save a snapshot",
            status=201,
        ),
        op("GET", SNAPSHOTS_PATH, routes.get_sandbox_snapshots, "List the snapshots"),
        op("GET", SNAPSHOT_PATH, routes.get_sandbox_snapshot, "Read a snapshot"),
        op(
            "POST",
            f"{SNAPSHOT_PATH}/restore",
            routes.post_sandbox_snapshot_restore,
            "Restore a snapshot",
        ),
        op(
            "DELETE", SNAPSHOT_PATH, routes.delete_sandbox_snapshot, "Delete a snapshot", status=204
        ),
    ]
