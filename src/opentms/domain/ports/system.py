"""Ports of the system around the services: the time, and whether the
database is ready."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime: ...


class ReadinessProbe(Protocol):
    """Whether the service can answer requests (``GET /readyz``)."""

    def unready_reason(self) -> str | None:
        """None when the database answers at the schema the code expects;
        otherwise why not, in a sentence for the operator."""
