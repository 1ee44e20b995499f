"""The opentms pytest plugin (entry point ``pytest11``: ``opentms``).

Fixtures:

* ``opentms_sandbox`` (session): a running :class:`opentms.testing.Sandbox`;
* ``opentms_merchant`` (session): a merchant registered in it
  (:class:`opentms.testing.MerchantCredentials`, id ``test_merchant``);
* ``opentms_sdk_config``: that merchant's configuration for the official
  Python SDK (HTTP Signature), a fresh dict per test.

Before each test that uses one of them, the sandbox is reset (merchants kept)
and its seed file applied again; ``--opentms-no-reset`` turns that off. A
test that uses none of them starts no server and resets nothing.

Options (command line, or the ini key in brackets): ``--opentms-seed FILE``
[``opentms_seed``], ``--opentms-workers N`` [``opentms_workers``],
``--opentms-database-url URL`` [``opentms_database_url``],
``--opentms-no-reset`` [``opentms_reset = false``], and the ini key
``opentms_merchant_id``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from opentms.testing import MerchantCredentials, Sandbox

DEFAULT_MERCHANT_ID = "test_merchant"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("opentms", "opentms sandbox (opentms.testing)")
    group.addoption("--opentms-seed", metavar="FILE", help="Seed file the sandbox starts from.")
    group.addoption("--opentms-workers", metavar="N", type=int, help="Server processes.")
    group.addoption(
        "--opentms-database-url", metavar="URL", help="Database of the sandbox (default SQLite)."
    )
    group.addoption(
        "--opentms-no-reset",
        action="store_true",
        default=None,
        help="Do not reset the sandbox before each test that uses it.",
    )
    parser.addini("opentms_seed", "Seed file the opentms sandbox starts from.")
    parser.addini("opentms_workers", "Server processes of the opentms sandbox.", default="1")
    parser.addini("opentms_database_url", "Database of the opentms sandbox.")
    parser.addini(
        "opentms_reset", "Reset before each test that uses it.", type="bool", default=True
    )
    parser.addini("opentms_merchant_id", "Id of opentms_merchant.", default=DEFAULT_MERCHANT_ID)


def _option(config: pytest.Config, name: str) -> Any:
    """The command-line option, else the ini key of the same name."""
    given = config.getoption(f"opentms_{name}")
    return given if given is not None else (config.getini(f"opentms_{name}") or None)


def _seed(config: pytest.Config) -> Path | None:
    given = config.getoption("opentms_seed")
    if given is not None:
        return Path(given)
    configured = config.getini("opentms_seed")
    # An ini path is relative to the ini file's directory, as pytest's own are.
    return config.rootpath / configured if configured else None


def _resets(config: pytest.Config) -> bool:
    return not config.getoption("opentms_no_reset") and bool(config.getini("opentms_reset"))


@pytest.fixture(scope="session")
def opentms_sandbox(pytestconfig: pytest.Config) -> Iterator[Sandbox]:
    """A real ``opentms serve`` for the session (``opentms.testing.Sandbox``)."""
    from opentms.testing import Sandbox

    workers = int(_option(pytestconfig, "workers") or 1)
    database_url = _option(pytestconfig, "database_url")
    with Sandbox(_seed(pytestconfig), workers=workers, database_url=database_url) as sandbox:
        yield sandbox


@pytest.fixture(scope="session")
def opentms_merchant(opentms_sandbox: Sandbox, pytestconfig: pytest.Config) -> MerchantCredentials:
    """A merchant registered in the sandbox, with its credentials bundle."""
    merchant_id = str(pytestconfig.getini("opentms_merchant_id") or DEFAULT_MERCHANT_ID)
    return opentms_sandbox.create_merchant(merchant_id)


@pytest.fixture
def opentms_sdk_config(opentms_merchant: MerchantCredentials) -> dict[str, Any]:
    """The official Python SDK's configuration for ``opentms_merchant`` (HTTP Signature)."""
    return opentms_merchant.python_sdk_configuration("http_signature")


@pytest.fixture(autouse=True)
def _opentms_reset_between_tests(request: pytest.FixtureRequest) -> None:
    """Reset the sandbox before a test that uses it (directly or through the
    other fixtures); nothing at all for the others."""
    if "opentms_sandbox" not in request.fixturenames or not _resets(request.config):
        return
    sandbox: Sandbox = request.getfixturevalue("opentms_sandbox")
    sandbox.reset_to_seed()
