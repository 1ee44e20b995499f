"""The audit log's entries and their hash chain (docs/security.md, "Audit log").

Every entry says when, who (the actor), what (the action and the resource ids),
how it ended (the outcome) and under which correlation id. It never holds a
sensitive value: no card number, security code, cryptogram or key, and an
identifier that could be derived from a card is given as its HMAC.

Entries form one chain: entry ``n`` carries ``hash_n = SHA-256(hash_{n-1} ||
canonical(entry_n))``, with ``hash_0`` 32 zero bytes. ``canonical`` is the
entry's fields, with its sequence number, as compact JSON with sorted keys, so
anyone can recompute the chain from an export.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import UTC, datetime

from opentms.domain.card import luhn_valid

GENESIS = bytes(32)

# Actors that are not a merchant's credential.
ADMIN = "admin"
SYSTEM = "system"
# A request whose credentials did not verify: nothing vouches for who sent it.
UNAUTHENTICATED = "unauthenticated"
# Resource types whose ids are given as their HMAC (:func:`hash_id`): an
# instrument identifier id is 19 digits, and a seeded one may copy a
# CyberSource id, whose last digits are the card's.
HASHED_ID_TYPES = frozenset({"instrumentIdentifier"})
HASH_PREFIX = "hmac:"
# Details are small facts (a flag, a count, a state, a token id), never a
# value from a request body: longer strings, and strings holding a digit run
# that passes the Luhn check (token ids are drawn never to), are refused.
_DIGIT_RUN = re.compile("[0-9]{12,19}")


def _card_like(value: str) -> bool:
    return any(luhn_valid(run) for run in _DIGIT_RUN.findall(value))


def merchant_actor(merchant_id: str, key_id: str) -> str:
    """The actor of a request authenticated with ``key_id`` of ``merchant_id``."""
    return f"merchant:{merchant_id}/key:{key_id}"


def cli_actor(user: str) -> str:
    """The actor of an operator's command (``opentms keys rotate``, ...)."""
    return f"cli:{user}"


@dataclass(frozen=True)
class AuditEntry:
    """One operation as the audit log records it (before it has a place in
    the chain)."""

    at: datetime
    actor: str
    action: str  # "instrumentIdentifier.create", "keys.rotate", ...
    resource_type: str  # "instrumentIdentifier", "masterKey", "merchant", ...
    resource_ids: tuple[str, ...]
    outcome: str = "success"  # or "failure:<reason>"
    correlation_id: str | None = None
    details: Mapping[str, str | int | bool | None] = field(default_factory=dict)

    def canonical(self, seq: int) -> bytes:
        """The bytes the chain hashes for this entry at position ``seq``."""
        document = {
            "seq": seq,
            "at": self.at.astimezone(UTC).isoformat(timespec="microseconds"),
            "actor": self.actor,
            "action": self.action,
            "resourceType": self.resource_type,
            "resourceIds": list(self.resource_ids),
            "outcome": self.outcome,
            "correlationId": self.correlation_id,
            "details": dict(self.details),
        }
        return json.dumps(
            document, sort_keys=True, separators=(",", ":"), ensure_ascii=False
        ).encode()


def chain_hash(previous: bytes, canonical: bytes) -> bytes:
    """``SHA-256(previous || canonical)``: an entry's hash in the chain."""
    return hashlib.sha256(previous + canonical).digest()


def hash_id(key: bytes, value: str) -> str:
    """``hmac:`` + HMAC-SHA256(audit key, value) in hex: how an identifier
    that could be derived from a card is recorded. ``opentms audit hash``
    computes it, so an operator can look a known id up in the log."""
    return HASH_PREFIX + hmac.new(key, value.encode(), hashlib.sha256).hexdigest()


def failure(error: BaseException) -> str:
    """The outcome of an operation that raised ``error``: ``failure:`` and the
    error's kind (``notFound``, ``invalidFields``, ``declined``...); never its
    message, which may name what the request sent."""
    name = type(error).__name__
    return f"failure:{name[:1].lower()}{name[1:]}"


@dataclass
class AuditScope:
    """Who is acting and under which correlation id, for the operations run
    inside :func:`acting`; ``written`` says whether any entry was recorded
    for them (the HTTP pipeline records a failure itself when none was)."""

    actor: str
    correlation_id: str | None = None
    written: bool = False


_scope: ContextVar[AuditScope | None] = ContextVar("audit_scope", default=None)


@contextmanager
def acting(actor: str, correlation_id: str | None = None) -> Iterator[AuditScope]:
    """Entries recorded inside are ``actor``'s, with ``correlation_id``. Set
    by the HTTP pipeline once a request is authenticated (the merchant and
    key), by the admin API and by the CLI."""
    scope = AuditScope(actor, correlation_id)
    token = _scope.set(scope)
    try:
        yield scope
    finally:
        _scope.reset(token)


def current_scope() -> AuditScope:
    """The scope set by :func:`acting`; outside one, the system itself acts."""
    return _scope.get() or AuditScope(SYSTEM)


class AuditRecorder:
    """The entries of one unit of work, recorded by the services as they act
    (:meth:`record`) and written by the unit of work: appended in its
    transaction at commit, or in a short transaction of their own after a
    read (nothing to commit) or a failure (rolled back). Disabled, it records
    nothing."""

    def __init__(
        self, enabled: bool, id_key: bytes = b"", now: Callable[[], datetime] | None = None
    ) -> None:
        self.enabled = enabled
        self._id_key = id_key
        self._now = now or (lambda: datetime.now(UTC))
        self._pending: list[tuple[str, str, tuple[str, ...], dict[str, str | int | bool | None]]]
        self._pending = []

    def record(
        self,
        action: str,
        resource_type: str,
        resource_ids: str | Iterable[str] = (),
        **details: str | int | bool | None,
    ) -> None:
        """Note one operation (``instrumentIdentifier.create``...) on the
        resources ``resource_ids``; ``details`` are small facts about it."""
        if not self.enabled:
            return
        ids = (resource_ids,) if isinstance(resource_ids, str) else tuple(resource_ids)
        if resource_type in HASHED_ID_TYPES:
            ids = tuple(hash_id(self._id_key, value) for value in ids)
        for name, value in details.items():
            if isinstance(value, str) and (len(value) > 64 or _card_like(value)):
                raise ValueError(f"audit detail {name!r} is not a short, card-free value")
        self._pending.append((action, resource_type, ids, details))

    @property
    def pending(self) -> bool:
        return bool(self._pending)

    def take(self, outcome: str = "success") -> list[AuditEntry]:
        """The recorded operations as entries with ``outcome`` (each once)."""
        scope = current_scope()
        at = self._now()
        entries = [
            AuditEntry(at, scope.actor, action, kind, ids, outcome, scope.correlation_id, details)
            for action, kind, ids, details in self._pending
        ]
        self._pending = []
        if entries:
            scope.written = True
        return entries


@dataclass(frozen=True)
class ChainReport:
    """What ``opentms audit verify`` found: how many entries verified, the
    hash of the last one, and the first problem (None: the chain is whole)."""

    verified: int
    last_hash: bytes
    problem: str | None


class ChainVerifier:
    """Checks a chain entry by entry, in sequence order, keeping only the
    previous hash: sequence numbers run 1, 2, 3... without a gap, each entry
    links to the one before (``prev_hash``) and its content hashes to its
    ``hash``; at the end the head row names the last entry. The first
    problem is described as precisely as the rows allow."""

    def __init__(self) -> None:
        self.count = 0
        self.last_hash = GENESIS

    def check(self, seq: int, prev_hash: bytes, digest: bytes, entry: AuditEntry) -> str | None:
        expected = self.count + 1
        if seq != expected:
            if seq > expected:
                missing = f"{expected}" if seq == expected + 1 else f"{expected} to {seq - 1}"
                return (
                    f"entry {missing} missing: entries 1 to {self.count} verify, "
                    f"the next one is entry {seq} (deleted rows)"
                )
            return f"entry {seq} appears twice (a duplicated or inserted row)"
        content_ok = chain_hash(prev_hash, entry.canonical(seq)) == digest
        link_ok = prev_hash == self.last_hash
        if not link_ok and not content_ok:
            return (
                f"entry {seq} is out of place: it neither links to entry {seq - 1} nor "
                "hashes to its stored hash at this position (rows reordered, or a row "
                "replaced by a forged one)"
            )
        if not content_ok:
            return (
                f"entry {seq} was edited: its content no longer hashes to its stored hash "
                f"(entries 1 to {self.count} verify)"
            )
        if not link_ok:
            return (
                f"entry {seq} does not link to entry {seq - 1}: its prev_hash is not entry "
                f"{seq - 1}'s hash (a row inserted, replaced or rehashed before it)"
            )
        self.count = seq
        self.last_hash = digest
        return None

    def finish(self, head_seq: int, head_hash: bytes) -> str | None:
        """The head row against the last entry seen."""
        if head_seq > self.count:
            return (
                f"the log ends at entry {self.count} but the head says {head_seq}: "
                f"entries {self.count + 1} to {head_seq} were removed (truncated tail)"
            )
        if head_seq < self.count:
            return (
                f"entries {head_seq + 1} to {self.count} lie beyond the head (entry "
                f"{head_seq}): rows inserted at the end without the head moving"
            )
        if head_hash != self.last_hash:
            return (
                f"the head's hash is not entry {head_seq}'s hash: the head row, or the "
                "last entry, was rewritten"
            )
        return None
