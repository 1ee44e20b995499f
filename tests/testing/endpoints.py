"""Which admin endpoints the opentms under test serves.

The reset, snapshot, seed, merchant, journal and fault endpoints are built on
other branches than the plugin; the tests that need them are marked with
:data:`needs_controls`, which skips them while this opentms answers 404 on one
of their paths (remove the mark once every control is merged). The probe
starts one sandbox per test process, only when such a test is about to run:
the skip conditions are strings, evaluated by pytest at setup."""

from __future__ import annotations

import functools

import httpx
import pytest

from opentms.testing import Sandbox

# A GET on each: 404 when the path does not exist; 200, or 405 for a path
# that takes POST only, when it does.
CONTROL_PATHS = ("/reset", "/snapshots", "/seed", "/merchants", "/journal", "/faults")


@functools.cache
def served_paths() -> frozenset[str]:
    with Sandbox() as sandbox:
        headers = {"authorization": f"Bearer {sandbox.admin_token}"}
        return frozenset(
            path
            for path in CONTROL_PATHS
            if httpx.get(f"{sandbox.url}/opentms/v1/sandbox{path}", headers=headers).status_code
            != 404
        )


def controls_missing() -> bool:
    """Whether one of the controls' endpoints answers 404."""
    return not served_paths() >= set(CONTROL_PATHS)


needs_controls = pytest.mark.skipif(
    "controls_missing()",
    reason="this opentms has no reset/snapshot/seed/merchant/journal/fault endpoints yet "
    "(their branches are not merged): the admin API answered 404",
)
