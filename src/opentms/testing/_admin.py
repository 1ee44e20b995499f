"""A client of the sandbox admin API (``/opentms/v1/sandbox/``, docs/sandbox.md),
shared by :class:`opentms.testing.Sandbox` and ``opentms sandbox ...``.

Answers are the API's JSON documents as they come (dicts); failures raise
the :class:`SandboxError` tree, whose messages say what to do:

```
SandboxError
├── ServerUnreachable      nothing answered at the URL
├── AdminRefused           the API answered an error (status, type, message)
│   └── AdminUnauthorized  401: wrong or missing admin token
└── SandboxStartFailed     ``Sandbox`` could not start ``opentms serve``
```
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx

ADMIN_PATH = "/opentms/v1/sandbox"
DEFAULT_URL = "http://127.0.0.1:8080"
NOT_A_SANDBOX = (
    "Is it an opentms sandbox (not OPENTMS_MODE=vault), and of a version with this control?"
)


class SandboxError(Exception):
    """The root of what ``opentms.testing`` raises."""


class ServerUnreachable(SandboxError):
    """No server answered at the URL (not started, wrong port, gone)."""


class SandboxStartFailed(SandboxError):
    """``opentms serve`` exited or never became ready; the message holds its log's end."""


@dataclass(frozen=True)
class ErrorBody:
    """The TMS error envelope's first error, as far as the answer had one."""

    type: str | None
    message: str
    details: tuple[str, ...]


class AdminRefused(SandboxError):
    """The admin API answered an error: ``status``, the TMS error ``type``,
    its ``message`` and the names of the fields it blamed (``details``)."""

    def __init__(self, status: int, error: ErrorBody, method: str, path: str) -> None:
        self.status = status
        self.type = error.type
        self.message = error.message
        self.details = error.details
        self.method, self.path = method, path
        fields = f" (fields: {', '.join(error.details)})" if error.details else ""
        super().__init__(f"{method} {path} answered {status}: {error.message}{fields}")


class AdminUnauthorized(AdminRefused):
    """401: the admin token was missing or wrong."""


def error_body(response: httpx.Response) -> ErrorBody:
    """The envelope ``{"errors": [{"type", "message", "details": [{"name"}]}]}``
    of an error answer, or what can be said of an answer without one."""
    try:
        first = response.json()["errors"][0]
        kind, message = first.get("type"), str(first["message"])
        details = tuple(str(d.get("name")) for d in first.get("details") or () if d.get("name"))
    except (ValueError, LookupError, TypeError, AttributeError):
        return _bare_error(response)
    if response.status_code == 404 and message.startswith("No TMS resource at"):
        # The server has no such route: a vault, or an opentms without this control.
        message = f"{message} {NOT_A_SANDBOX}"
    return ErrorBody(kind, message, details)


def _bare_error(response: httpx.Response) -> ErrorBody:
    if response.status_code == 404:
        return ErrorBody(None, f"No such path on this server. {NOT_A_SANDBOX}", ())
    text = response.text.strip()[:200] or response.reason_phrase
    return ErrorBody(None, text or f"HTTP {response.status_code}", ())


class AdminAPI:
    """The admin API of the opentms at ``url``, with bearer ``token``.

    ```python
    admin = AdminAPI("http://127.0.0.1:8080", token)
    admin.advance_clock("P30D")
    admin.add_fault({"path": "/tms/v2/customers*", "status": 503, "times": 1})
    ```

    Every method returns the answer's JSON (``None`` for 204) or raises
    :class:`AdminRefused` / :class:`ServerUnreachable`.
    """

    def __init__(
        self,
        url: str = DEFAULT_URL,
        token: str | None = None,
        *,
        timeout: float = 30.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.url = url.rstrip("/")
        headers = {"authorization": f"Bearer {token}"} if token else {}
        self._http = httpx.Client(headers=headers, timeout=timeout, transport=transport)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> AdminAPI:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def call(
        self,
        method: str,
        path: str = "",
        *,
        json: Any = None,
        content: bytes | None = None,
        content_type: str | None = None,
        params: Mapping[str, Any] | None = None,
    ) -> Any:
        """One admin call; the JSON answer, ``None`` when it has no body."""
        headers = {"content-type": content_type} if content_type else None
        query = {k: _query_value(v) for k, v in (params or {}).items() if v is not None}
        try:
            # Absolute: GET /opentms/v1/sandbox itself has no trailing slash.
            response = self._http.request(
                method,
                self.url + ADMIN_PATH + path,
                json=json,
                content=content,
                headers=headers,
                params=query,
            )
        except httpx.TransportError as exc:
            raise ServerUnreachable(
                f"No opentms server answered at {self.url} ({type(exc).__name__}: {exc}). "
                "Is `opentms serve` running there? Give its URL with --url or OPENTMS_URL."
            ) from None
        if response.is_error:
            kind = AdminUnauthorized if response.status_code == 401 else AdminRefused
            raise kind(response.status_code, error_body(response), method, ADMIN_PATH + path)
        if response.status_code == 204 or not response.content:
            return None
        try:
            return response.json()
        except ValueError:
            raise SandboxError(
                f"{method} {ADMIN_PATH + path} answered {response.status_code} with a body that "
                f"is not JSON: is {self.url} an opentms server?"
            ) from None

    # -- status, reset, seed, merchants ---------------------------------------

    def status(self) -> dict[str, Any]:
        """``{"mode", "generation", "clock", "deterministic"}``."""
        return dict(self.call("GET"))

    def reset(self, merchant_id: str | None = None, include_merchants: bool = False) -> Any:
        body: dict[str, Any] = {}
        if merchant_id is not None:
            body["merchantId"] = merchant_id
        if include_merchants:
            body["includeMerchants"] = True
        return self.call("POST", "/reset", json=body)

    def seed(self, document: bytes, content_type: str) -> Any:
        """Apply a seed document (``application/json`` or ``application/yaml``)."""
        return self.call("POST", "/seed", content=document, content_type=content_type)

    def create_merchant(
        self, merchant_id: str, key_id: str | None = None, shared_secret: str | None = None
    ) -> dict[str, Any]:
        """Register a merchant; its credentials bundle (secrets included)."""
        body = {"merchantId": merchant_id, "keyId": key_id, "sharedSecret": shared_secret}
        return dict(self.call("POST", "/merchants", json=_present(body)))

    # -- snapshots ------------------------------------------------------------

    def save_snapshot(self, name: str) -> Any:
        return self.call("POST", "/snapshots", json={"name": name})

    def snapshots(self) -> list[dict[str, Any]]:
        return list(self.call("GET", "/snapshots")["snapshots"])

    def snapshot(self, name: str) -> Any:
        return self.call("GET", f"/snapshots/{_segment(name)}")

    def restore_snapshot(self, name: str) -> Any:
        return self.call("POST", f"/snapshots/{_segment(name)}/restore")

    def delete_snapshot(self, name: str) -> None:
        self.call("DELETE", f"/snapshots/{_segment(name)}")

    # -- journal --------------------------------------------------------------

    def journal(self, **filters: Any) -> dict[str, Any]:
        """``{"entries": [...], "total": n}``; filters as the API names them
        (``merchantId``, ``method``, ``path``, ``status``, ``since``, ``until``,
        ``limit``, ``offset``) or in snake_case (``merchant_id``)."""
        params = {_camel(name): value for name, value in filters.items()}
        return dict(self.call("GET", "/journal", params=params))

    def journal_entry(self, entry_id: str | int) -> Any:
        return self.call("GET", f"/journal/{_segment(str(entry_id))}")

    def clear_journal(self) -> None:
        self.call("DELETE", "/journal")

    # -- faults ---------------------------------------------------------------

    def add_fault(self, rule: Mapping[str, Any]) -> dict[str, Any]:
        return dict(self.call("POST", "/faults", json={_camel(k): v for k, v in rule.items()}))

    def faults(self) -> list[dict[str, Any]]:
        return list(self.call("GET", "/faults")["faults"])

    def fault(self, fault_id: str) -> Any:
        return self.call("GET", f"/faults/{_segment(str(fault_id))}")

    def delete_fault(self, fault_id: str) -> None:
        self.call("DELETE", f"/faults/{_segment(str(fault_id))}")

    def clear_faults(self) -> None:
        self.call("DELETE", "/faults")

    # -- clock ----------------------------------------------------------------

    def clock(self) -> dict[str, Any]:
        """``{"now", "realNow", "offsetSeconds"}``."""
        return dict(self.call("GET", "/clock"))

    def advance_clock(self, by: float | str) -> dict[str, Any]:
        """Move the clock by seconds or an ISO 8601 duration (``"P30D"``)."""
        return dict(self.call("POST", "/clock", json={"advance": by}))

    def set_clock(self, moment: str | datetime) -> dict[str, Any]:
        """Set the clock to an ISO 8601 date-time with a zone."""
        value = moment.isoformat() if isinstance(moment, datetime) else moment
        return dict(self.call("POST", "/clock", json={"set": value}))

    def reset_clock(self) -> dict[str, Any]:
        return dict(self.call("DELETE", "/clock"))


def _camel(name: str) -> str:
    """``merchant_id`` -> ``merchantId``; camelCase names pass unchanged."""
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def _present(document: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in document.items() if v is not None}


def _segment(value: str) -> str:
    """A path segment, percent-encoded: a name never reaches another path."""
    from urllib.parse import quote

    return quote(value, safe="")


def _query_value(value: Any) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)
