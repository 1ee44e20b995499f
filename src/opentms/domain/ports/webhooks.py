"""Ports of TMS webhooks (docs/webhooks.md): the outbox a unit of work queues
events into, the transport that carries a notification to a receiver, and
the merchants' signing keys."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:  # domain.webhooks imports the ports (through randomness): no cycle at run time
    from opentms.domain.webhooks import Event


class Outbox(Protocol):
    """Part of a :class:`~opentms.domain.ports.UnitOfWork`: what it publishes
    commits with the change that caused it, or not at all."""

    def publish(self, event: Event) -> int:
        """Queue ``event`` for every subscription of its merchant that wants
        it (not INACTIVE, not deleted); the number of notifications queued
        (0: nothing is written)."""
        ...


@dataclass(frozen=True)
class TransportResult:
    """What one request to a receiver got: its status (None: no answer, and
    ``error`` says why), how long it took, and at most 1 KiB of its body."""

    status_code: int | None
    latency_ms: float
    error: str | None = None
    response: bytes = field(default=b"", repr=False)

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


class DestinationRefused(ValueError):
    """A webhook URL this server will not call (not http(s), or in vault mode
    a loopback, private or link-local address not allowed by a setting)."""


class WebhookTransport(Protocol):
    def check_destination(self, url: str) -> None:
        """Raise :class:`DestinationRefused` (its message says why) for a URL
        that :meth:`post` would refuse."""

    def post(self, url: str, headers: Mapping[str, str], body: bytes) -> TransportResult:
        """POST ``body``; never follows a redirect, never raises for a
        receiver's failure (it is in the result)."""
        ...

    def get(self, url: str) -> TransportResult:
        """GET ``url`` (the health check), likewise."""
        ...


@dataclass(frozen=True)
class SigningKey:
    """A merchant's webhook signing key (``/kms/egress/v2/keys-sym``)."""

    key_id: str
    secret: bytes = field(repr=False)


class SigningKeys(Protocol):
    def create(
        self,
        merchant_id: str,
        now: datetime,
        overlap: timedelta,
        lifetime: timedelta,
        client_reference_code: str | None = None,
    ) -> tuple[SigningKey, datetime]:
        """A new key (32 random bytes, stored sealed) and when it expires. It
        signs from ``now``, or, when the merchant has a key already, from
        ``now + overlap`` (the older key signs meanwhile)."""
        ...

    def current(self, merchant_id: str, now: datetime) -> SigningKey | None:
        """The key that signs at ``now``: the newest whose time has come."""
        ...
