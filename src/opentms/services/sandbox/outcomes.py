"""Forced outcomes (docs/sandbox.md, "Forced outcomes"): the request header
``X-Opentms-Outcome`` picks, for one request, an outcome that no magic card
gives: a network token's provisioning fails for any card, payment
credentials are refused, the authorisation simulator declines, or the answer
waits. Sandbox mode only: a vault never reads the header.

The header is a comma-separated list of ``name=value`` items, each name at
most once::

    X-Opentms-Outcome: provisioning=SERVICE_UNAVAILABLE, delay=250

The parsed :class:`ForcedOutcome` travels with the request's
:class:`~opentms.services.tenancy.Tenant` to the services that honour it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from typing import TypeVar

from opentms.domain.errors import FieldError, InvalidHeaders
from opentms.domain.network_token import ProvisioningFailure
from opentms.services.authorizations import DeclineReason

OUTCOME_HEADER = "X-Opentms-Outcome"
MAX_DELAY_MS = 30_000
_MAX_HEADER_LENGTH = 256
_E = TypeVar("_E", bound=StrEnum)
_ITEM = re.compile(r"([a-z]+)=([A-Za-z0-9_]+)")


class CredentialsRefusal(StrEnum):
    """How payment credentials are refused: as the code answers for a token
    the network suspended (403 ``forbidden``), deleted (410 ``notAvailable``),
    or one it declines to issue for (403 ``declined``)."""

    SUSPENDED = "SUSPENDED"
    DELETED = "DELETED"
    DECLINED = "DECLINED"


@dataclass(frozen=True, slots=True)
class ForcedOutcome:
    """What the header asked for; None (and 0) asks for nothing."""

    provisioning: ProvisioningFailure | None = None
    credentials: CredentialsRefusal | None = None
    authorization: DeclineReason | None = None
    delay_ms: int = 0


def _refuse(message: str) -> InvalidHeaders:
    return InvalidHeaders(
        f"{OUTCOME_HEADER}: {message} (docs/sandbox.md, Forced outcomes).",
        (FieldError(OUTCOME_HEADER, "header"),),
    )


def _delay(value: str) -> int:
    if not value.isascii() or not value.isdigit() or len(value) > 6:
        raise _refuse("delay must be a whole number of milliseconds")
    delay = int(value)
    if delay > MAX_DELAY_MS:
        raise _refuse(f"delay must be at most {MAX_DELAY_MS} milliseconds")
    return delay


def parse_outcome(header: str) -> ForcedOutcome:
    """The outcome a header value asks for; an :class:`InvalidHeaders` (400
    naming the header) for anything else, an empty value included."""
    if len(header) > _MAX_HEADER_LENGTH:
        raise _refuse(f"the value is longer than {_MAX_HEADER_LENGTH} characters")
    found: dict[str, str] = {}
    for item in header.split(","):
        match = _ITEM.fullmatch(item.strip(" \t"))
        if match is None:
            raise _refuse("each item is name=value, like provisioning=DECLINED or delay=500")
        name, value = match.groups()
        if name in found:
            raise _refuse(f"{name} is given twice")
        found[name] = value
    unknown = set(found) - {"provisioning", "credentials", "authorization", "delay"}
    if unknown:
        raise _refuse(
            f"unknown outcome {sorted(unknown)[0]}; "
            "the outcomes are provisioning, credentials, authorization and delay"
        )
    return ForcedOutcome(
        provisioning=_optional(found, "provisioning", ProvisioningFailure),
        credentials=_optional(found, "credentials", CredentialsRefusal),
        authorization=_optional(found, "authorization", DeclineReason),
        delay_ms=_delay(found["delay"]) if "delay" in found else 0,
    )


def _optional(found: dict[str, str], name: str, choices: type[_E]) -> _E | None:
    if name not in found:
        return None
    try:
        return choices(found[name])
    except ValueError:
        allowed = ", ".join(member.value for member in choices)
        raise _refuse(f"{name} must be one of {allowed}") from None
