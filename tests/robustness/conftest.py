"""Fixtures and switches of the robustness tests (docs/robustness.md).

Every test here drives a real ``opentms serve`` process over HTTP. Tests marked
``slow`` run only with ``OPENTMS_TEST_SLOW=1``; the others fit in CI. Each test
records its figures (requests sent, failures, data lost, attacks accepted),
printed at the end of the run under "opentms robustness figures".
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from tests.robustness.support import (
    FIGURES,
    Deployment,
    database,
    environment,
    register_merchant,
    start_server,
)

SLOW = "OPENTMS_TEST_SLOW"
HERE = os.path.dirname(__file__)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", f"slow: a longer robustness run; only with {SLOW}=1 (docs/robustness.md)"
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if os.environ.get(SLOW) == "1":
        return
    skip = pytest.mark.skip(reason=f"slow robustness test: set {SLOW}=1 to run it")
    for item in items:
        if str(item.path).startswith(HERE) and item.get_closest_marker("slow"):
            item.add_marker(skip)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not FIGURES:
        return
    terminalreporter.section("opentms robustness figures")
    for title, figures in FIGURES:
        values = ", ".join(f"{name}={value}" for name, value in figures.items())
        terminalreporter.write_line(f"{title}: {values}")


@pytest.fixture(scope="session")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    """One ``opentms serve`` for the authentication-attack and schemathesis
    tests (SQLite; a fresh PostgreSQL schema in the suite's PostgreSQL pass),
    with merchants ``robust_a`` and ``robust_b``."""
    root = tmp_path_factory.mktemp("robustness-server")
    with database(root) as settings:
        env = environment(**settings)
        merchant = register_merchant(env, "robust_a", root / "bundles")
        other = register_merchant(env, "robust_b", root / "bundles")
        server = start_server(root / "server.log", env)
        try:
            yield Deployment(server, merchant, other)
        finally:
            server.stop()
