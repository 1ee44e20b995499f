"""``/opentms/v1/sandbox/journal``: query, read and clear the request journal."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from starlette.responses import Response

from opentms.adapters.http.admin import ADMIN_PREFIX, AdminPipeline, AdminRequest, timestamp
from opentms.adapters.http.openapi import Operation
from opentms.adapters.http.pipeline import json_response, no_content
from opentms.adapters.http.routes.sandbox.clock import parse_moment
from opentms.domain.errors import FieldError, InvalidFields, NotFound
from opentms.domain.ports import JournalEntry, JournalFilter
from opentms.services.sandbox import SandboxControls
from opentms.services.sandbox.journal import RequestJournal

PATH = f"{ADMIN_PREFIX}/journal"
ENTRY_PATH = f"{PATH}/{{entryId}}"
DEFAULT_LIMIT = 20
MAX_LIMIT = 1000
_STRING = {"type": "string"}
_INTEGER = {"type": "integer"}
QUERY_SCHEMAS: dict[str, dict[str, Any]] = {
    "merchantId": _STRING,
    "method": _STRING,
    "path": {**_STRING, "description": "A glob: * any run of characters, ? one."},
    "status": {**_INTEGER, "minimum": 100, "maximum": 599},
    "since": {**_STRING, "format": "date-time"},
    "until": {**_STRING, "format": "date-time", "description": "Exclusive."},
    "limit": {**_INTEGER, "minimum": 1, "maximum": 1000, "default": 20},
    "offset": {**_INTEGER, "minimum": 0, "default": 0},
}
_PRINTABLE = re.compile(r"[^\x00-\x1f\x7f]+")
_METHOD = re.compile(r"[A-Za-z]{1,16}")
_ID = re.compile(r"[0-9]{1,18}")


def render(entry: JournalEntry) -> dict[str, Any]:
    """An entry as the admin API shows it (docs/sandbox.md, "Request journal")."""
    return {
        "id": entry.id,
        "at": timestamp(entry.at),
        "merchantId": entry.merchant_id,
        "method": entry.method,
        "path": entry.path,
        "query": entry.query,
        "status": entry.status,
        "durationMs": entry.duration_ms,
        "correlationId": entry.correlation_id,
        "authentication": {
            "verdict": entry.verdict,
            "reason": entry.reason,
            "message": entry.message,
            "signedString": entry.signed_string,
            # What a refused request claimed to be; unverified, never its merchant.
            "claimedMerchantId": entry.claimed_merchant_id,
        },
        "requestBody": _body(entry.request_body),
        "responseBody": _body(entry.response_body),
    }


def _body(stored: str | None) -> Any:
    return None if stored is None else json.loads(stored)


def _bad(name: str, message: str) -> InvalidFields:
    return InvalidFields(message, (FieldError(name, "query"),))


def _integer(raw: str, name: str, low: int, high: int) -> int:
    if raw.isascii() and raw.isdigit() and len(raw) <= 12 and low <= int(raw) <= high:
        return int(raw)
    raise _bad(name, f"The query parameter {name} must be an integer from {low} to {high}.")


def _moment(raw: str, name: str) -> datetime:
    try:
        return parse_moment(raw, name).astimezone(UTC)
    except InvalidFields as exc:
        raise _bad(name, str(exc)) from None
    except OverflowError:
        raise _bad(name, f"The query parameter {name} is out of range.") from None


def _text(params: Any, name: str, what: str) -> str | None:
    """A text parameter: 1 to 1024 printable characters."""
    value: str | None = params.get(name)
    if value is not None and not (0 < len(value) <= 1024 and _PRINTABLE.fullmatch(value)):
        raise _bad(name, f"The query parameter {name} must be {what}.")
    return value


def parse_filter(request: AdminRequest) -> JournalFilter:
    """The query parameters, read strictly: each at most once, none unknown."""
    params = request.http_request.query_params
    for name in params:
        if name not in QUERY_SCHEMAS:
            raise _bad(
                name,
                f"Unknown query parameter {name[:64]!r}; the journal takes "
                + ", ".join(QUERY_SCHEMAS)
                + ".",
            )
        if len(params.getlist(name)) > 1:
            raise _bad(name, f"The query parameter {name} is given more than once.")
    method = params.get("method")
    if method is not None and not _METHOD.fullmatch(method):
        raise _bad("method", "The query parameter method must be an HTTP method, like POST.")
    path = _text(params, "path", "a glob of 1 to 1024 printable characters")
    merchant = _text(params, "merchantId", "a merchant id")
    if merchant is not None and len(merchant) > 64:
        raise _bad("merchantId", "The query parameter merchantId must be a merchant id.")
    status = params.get("status")
    since, until = params.get("since"), params.get("until")
    return JournalFilter(
        merchant_id=merchant,
        method=None if method is None else method.upper(),
        path=path,
        status=None if status is None else _integer(status, "status", 100, 599),
        since=None if since is None else _moment(since, "since"),
        until=None if until is None else _moment(until, "until"),
        limit=_integer(params.get("limit", str(DEFAULT_LIMIT)), "limit", 1, MAX_LIMIT),
        offset=_integer(params.get("offset", "0"), "offset", 0, 10**9),
    )


@dataclass(frozen=True)
class JournalRoutes:
    journal: RequestJournal

    def get_sandbox_journal(self, request: AdminRequest) -> Response:
        """The journal's entries that match the query, newest first, and how many match."""
        entries, total = self.journal.find(parse_filter(request))
        return json_response({"entries": [render(entry) for entry in entries], "total": total})

    def get_sandbox_journal_entry(self, request: AdminRequest) -> Response:
        """One entry by its id."""
        raw = request.path("entryId")
        entry = self.journal.get(int(raw)) if _ID.fullmatch(raw) else None
        if entry is None:
            raise NotFound(f"No journal entry has the id {raw[:32]!r}.")
        return json_response(render(entry))

    def delete_sandbox_journal(self, _: AdminRequest) -> Response:
        """Drop every entry."""
        self.journal.clear()
        return no_content()


def operations(controls: SandboxControls, admin: AdminPipeline) -> list[Operation]:
    routes = JournalRoutes(controls.journal)
    common: dict[str, Any] = {"tag": "Sandbox", "security": "admin"}
    return [
        Operation(
            method="GET",
            path=PATH,
            endpoint=admin.endpoint(routes.get_sandbox_journal),
            summary="Query the request journal",
            parameters=[
                {"name": name, "in": "query", "required": False, "schema": schema}
                for name, schema in QUERY_SCHEMAS.items()
            ],
            extra_statuses=(400,),
            **common,
        ),
        Operation(
            method="DELETE",
            path=PATH,
            endpoint=admin.endpoint(routes.delete_sandbox_journal),
            summary="Clear the request journal",
            status=204,
            **common,
        ),
        Operation(
            method="GET",
            path=ENTRY_PATH,
            endpoint=admin.endpoint(routes.get_sandbox_journal_entry),
            summary="Read one entry of the request journal",
            extra_statuses=(404,),
            **common,
        ),
    ]
