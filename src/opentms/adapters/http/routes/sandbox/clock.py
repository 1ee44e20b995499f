"""``/opentms/v1/sandbox/clock``: read, advance, set and reset the service clock."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
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
from opentms.services.sandbox import SandboxControls
from opentms.services.sandbox.clock import ClockControl, ClockOutOfRange, ClockReading

PATH = f"{ADMIN_PREFIX}/clock"
# ISO 8601 durations of days, hours, minutes and seconds: P30D, PT1H30M, P1DT2S.
_DURATION = re.compile(
    r"(?P<sign>-)?P(?:(?P<days>\d{1,6})D)?"
    r"(?:T(?:(?P<hours>\d{1,7})H)?(?:(?P<minutes>\d{1,9})M)?(?:(?P<seconds>\d{1,11})S)?)?"
)


def render(reading: ClockReading) -> dict[str, Any]:
    return {
        "now": timestamp(reading.now),
        "realNow": timestamp(reading.real_now),
        "offsetSeconds": reading.offset.total_seconds(),
    }


def parse_duration(value: object, field: str) -> timedelta:
    """Seconds (a number) or an ISO 8601 duration of days to seconds (``P30D``)."""
    if isinstance(value, bool):
        raise invalid(field, f"{field} must be a number of seconds or a duration like P30D.")
    if isinstance(value, int | float):
        if not abs(value) <= 10**10:
            raise invalid(field, f"{field} is out of range.")
        return timedelta(seconds=value)
    if isinstance(value, str):
        match = _DURATION.fullmatch(value)
        if match and value not in ("P", "-P") and not value.endswith("T"):
            parts = {k: int(v) for k, v in match.groupdict().items() if k != "sign" and v}
            delta = timedelta(**parts)
            return -delta if match["sign"] else delta
    raise invalid(field, f"{field} must be a number of seconds or a duration like P30D or PT2H.")


def parse_moment(value: object, field: str) -> datetime:
    """An ISO 8601 date-time with a zone (``2031-01-01T00:00:00Z``)."""
    if isinstance(value, str) and len(value) <= 64:
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            pass
        else:
            if moment.tzinfo is not None:
                return moment
    raise invalid(
        field, f"{field} must be an ISO 8601 date-time with a zone, like 2031-01-01T00:00:00Z."
    )


@dataclass(frozen=True)
class ClockRoutes:
    clock: ClockControl

    def get_sandbox_clock(self, _: AdminRequest) -> Response:
        """The service clock, real time and the offset between them."""
        return json_response(render(self.clock.read()))

    def post_sandbox_clock(self, request: AdminRequest) -> Response:
        """Move the service clock: ``{"advance": 86400}`` (seconds, or ``"P30D"``)
        or ``{"set": "2031-01-01T00:00:00Z"}``."""
        body = request.json()
        given = [name for name in ("advance", "set") if name in body]
        if len(given) != 1:
            raise invalid("advance", "Send exactly one of advance or set.")
        try:
            if given == ["advance"]:
                reading = self.clock.advance(parse_duration(body["advance"], "advance"))
            else:
                reading = self.clock.set(parse_moment(body["set"], "set"))
        except ClockOutOfRange as exc:
            raise invalid(given[0], str(exc)) from None
        return json_response(render(reading))

    def delete_sandbox_clock(self, _: AdminRequest) -> Response:
        """Put the service clock back to real time."""
        return json_response(render(self.clock.reset()))


def operations(controls: SandboxControls, admin: AdminPipeline) -> list[Operation]:
    routes = ClockRoutes(controls.clock)
    common: dict[str, Any] = {"path": PATH, "tag": "Sandbox", "security": "admin"}
    return [
        Operation(
            method="GET",
            endpoint=admin.endpoint(routes.get_sandbox_clock),
            summary="Read the service clock",
            **common,
        ),
        Operation(
            method="POST",
            endpoint=admin.endpoint(routes.post_sandbox_clock),
            summary="Advance or set the service clock",
            **common,
        ),
        Operation(
            method="DELETE",
            endpoint=admin.endpoint(routes.delete_sandbox_clock),
            summary="Put the service clock back to real time",
            **common,
        ),
    ]
