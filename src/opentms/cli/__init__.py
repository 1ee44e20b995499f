"""The ``opentms`` command."""

from __future__ import annotations

from opentms.cli.main import main

__all__ = ["main"]
