"""Ports of the sandbox's request journal (docs/sandbox.md, "Request
journal"): the entries, already masked, and the store every process writes
them to and the admin API reads them from."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal, Protocol

# "none": the request never reached authentication (an unknown path, a body
# too large); "refused": authentication failed; "authenticated": it passed.
AuthenticationVerdict = Literal["authenticated", "refused", "none"]


@dataclass(frozen=True, slots=True)
class JournalEntry:
    """One TMS request as it was answered. Every text in it is masked before
    it gets here: card numbers, security codes, cryptograms and secrets never
    reach the store. ``merchant_id`` is the authenticated merchant only;
    ``claimed_merchant_id`` is what a refused request claimed to be (nothing
    vouches for it). The bodies are JSON texts (a masked JSON value, or a
    string for what was not JSON), or None when there was no body."""

    at: datetime
    merchant_id: str | None
    claimed_merchant_id: str | None
    method: str
    path: str
    query: str
    status: int
    duration_ms: float
    correlation_id: str
    verdict: AuthenticationVerdict
    reason: str | None
    message: str | None
    signed_string: str | None
    request_body: str | None
    response_body: str | None
    id: int | None = None


@dataclass(frozen=True, slots=True)
class JournalFilter:
    """What the admin API asks for: every given criterion must hold.
    ``path`` is a glob (``*`` any run, ``?`` one character), matched
    without regard to case; ``until`` is exclusive."""

    merchant_id: str | None = None
    method: str | None = None
    path: str | None = None
    status: int | None = None
    since: datetime | None = None
    until: datetime | None = None
    limit: int = 100
    offset: int = 0


class JournalStore(Protocol):
    """The journal, shared by every process over the database."""

    def add(self, entry: JournalEntry, keep: int) -> None:
        """Record ``entry``, then drop the oldest entries beyond the newest ``keep``."""
        ...

    def find(self, criteria: JournalFilter) -> tuple[list[JournalEntry], int]:
        """A page of the matching entries, newest first, and how many match in all."""
        ...

    def get(self, entry_id: int) -> JournalEntry | None: ...

    def clear(self, merchant_id: str | None = None) -> int:
        """Drop every entry (or those of one merchant); how many were dropped."""
        ...
