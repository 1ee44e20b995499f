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
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

GENESIS = bytes(32)

# Actors that are not a merchant's credential.
ADMIN = "admin"
SYSTEM = "system"


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
