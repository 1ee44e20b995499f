"""``python -m opentms.cli``: the ``opentms`` command (how `opentms serve
--workers` restarts itself with the data directory in its environment)."""

from __future__ import annotations

from opentms.cli.main import main

main(prog_name="opentms")
