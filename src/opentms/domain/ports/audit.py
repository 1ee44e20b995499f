"""The audit log as the services and the HTTP layer see it (docs/security.md,
"Audit log"). Operations inside a unit of work record through its
:class:`~opentms.domain.audit.AuditRecorder` (``uow.audit``); what happens
outside one (a refused authentication, a request refused before any unit of
work) is written through :class:`AuditLog`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from opentms.domain.audit import AuditEntry


class AuditLog(Protocol):
    @property
    def enabled(self) -> bool: ...

    def write(self, entries: Sequence[AuditEntry]) -> None:
        """Append ``entries`` to the chain in a transaction of their own."""
