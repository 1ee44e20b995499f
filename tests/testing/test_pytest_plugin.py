"""The pytest plugin (entry point ``pytest11``: ``opentms``), run the way a
user's suite runs it: test files in a pytest of their own (``pytester``, a
subprocess), with the plugin loaded from the installed entry point."""

from __future__ import annotations

import re
from importlib import metadata
from pathlib import Path

import pytest

FIXTURES = ("opentms_sandbox", "opentms_merchant", "opentms_sdk_config")
# A database URL no server starts with: a test that started a sandbox would fail.
UNSTARTABLE = "--opentms-database-url=nosuchdriver://nowhere"


def test_the_plugin_is_registered_as_a_pytest11_entry_point() -> None:
    (entry,) = [e for e in metadata.entry_points(group="pytest11") if e.name == "opentms"]
    assert entry.value == "opentms.testing.pytest_plugin"


def test_no_fixture_of_this_repository_has_the_plugins_names() -> None:
    tests = Path(__file__).resolve().parents[1]
    for path in tests.rglob("*.py"):
        for name in FIXTURES:
            assert not re.search(rf"def {name}\b", path.read_text()), f"{path} defines {name}"


def test_a_test_without_the_fixtures_starts_and_resets_nothing(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("def test_plain():\n    assert True\n")
    result = pytester.runpytest_subprocess(UNSTARTABLE, "-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)


def test_a_server_that_cannot_start_fails_the_test_with_its_log(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile("def test_uses(opentms_sandbox):\n    pass\n")
    result = pytester.runpytest_subprocess(UNSTARTABLE, "-p", "no:cacheprovider")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*opentms serve did not become ready; its log ends:*"])


def test_one_sandbox_serves_the_session(
    pytester: pytest.Pytester, database_options: list[str]
) -> None:
    """Without resets, what a test did is what the next one sees: the same
    server, and its clock and URL."""
    pytester.makepyfile(
        """
        URLS = []

        def test_first(opentms_sandbox):
            URLS.append(opentms_sandbox.url)
            opentms_sandbox.clock.advance(3600)

        def test_second(opentms_sandbox):
            assert URLS == [opentms_sandbox.url]
            assert opentms_sandbox.admin.clock()["offsetSeconds"] == 3600
            assert opentms_sandbox.workers == 2
        """
    )
    result = pytester.runpytest_subprocess(
        "--opentms-no-reset", "--opentms-workers=2", "-p", "no:cacheprovider", *database_options
    )
    result.assert_outcomes(passed=2)


def test_the_options_can_come_from_the_ini_file(pytester: pytest.Pytester) -> None:
    pytester.makeini("[pytest]\nopentms_reset = false\nopentms_workers = 2\n")
    pytester.makepyfile(
        """
        def test_it(opentms_sandbox, pytestconfig):
            assert opentms_sandbox.workers == 2
            opentms_sandbox.clock.advance(60)

        def test_not_reset(opentms_sandbox):
            assert opentms_sandbox.admin.clock()["offsetSeconds"] == 60
        """
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=2)


def test_each_test_that_uses_the_sandbox_starts_reset(
    pytester: pytest.Pytester, database_options: list[str]
) -> None:
    pytester.makepyfile(
        """
        from opentms.testing import AdminAPI

        def test_moves_the_clock(opentms_sandbox):
            opentms_sandbox.clock.advance(3600)

        def test_sees_real_time(opentms_sandbox):
            for _ in range(6):  # a connection each, so that both workers answer
                with AdminAPI(opentms_sandbox.url, opentms_sandbox.admin_token) as admin:
                    assert admin.clock()["offsetSeconds"] == 0
        """
    )
    # Two workers: the reset is seen by both.
    options = ["--opentms-workers=2", *database_options]
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", *options)
    result.assert_outcomes(passed=2)


def test_the_merchant_fixtures_give_working_credentials(
    pytester: pytest.Pytester, database_options: list[str]
) -> None:
    """``opentms_merchant`` lives through resets; its client and SDK
    configuration sign as it."""
    pytester.makepyfile(
        """
        import pytest
        from opentms.client import NotFound

        CUSTOMERS = []

        def test_create(opentms_merchant, opentms_sdk_config):
            assert opentms_sdk_config["merchantid"] == "test_merchant"
            assert opentms_sdk_config["authentication_type"] == "http_signature"
            with opentms_merchant.client() as client:
                customer = client.customers.create({"buyerInformation": {"email": "a@b.co"}})
                CUSTOMERS.append(customer.id)

        def test_reset_kept_the_merchant_not_its_customer(opentms_merchant, opentms_sandbox):
            with opentms_merchant.client() as client, pytest.raises(NotFound):
                client.customers.get(CUSTOMERS[0])
            assert opentms_sandbox.journal(merchant_id="test_merchant")
        """
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", *database_options)
    result.assert_outcomes(passed=2)


SEED_SECRET = "c2VlZGVkLXNoYXJlZC1zZWNyZXQtb2YtMzItYnl0ZXM="  # 32 bytes


def test_the_ini_seed_file_is_where_the_sandbox_starts(
    pytester: pytest.Pytester, database_options: list[str]
) -> None:
    """``opentms_seed``, relative to the ini file: its merchant signs from the
    first test on, and still after the reset before the next."""
    pytester.makeini("[pytest]\nopentms_seed = fixtures/seed.yaml\n")
    fixtures = pytester.mkdir("fixtures")
    (fixtures / "seed.yaml").write_text(
        "version: 1\n"
        "merchants:\n"
        "  - merchantId: seeded\n"
        "    keyId: seeded-key\n"
        f"    sharedSecret: {SEED_SECRET}\n"
    )
    pytester.makepyfile(
        f"""
        import pytest
        from opentms.client import Client, HTTPSignatureAuth

        AUTH = HTTPSignatureAuth("seeded", "seeded-key", "{SEED_SECRET}")

        @pytest.mark.parametrize("run", [1, 2])
        def test_the_seeded_merchant_signs(opentms_sandbox, run):
            assert opentms_sandbox.seed_file.name == "seed.yaml"
            with Client(opentms_sandbox.url, auth=AUTH) as client:
                client.customers.create({{"buyerInformation": {{"email": "a@b.co"}}}})
        """
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", *database_options)
    result.assert_outcomes(passed=2)
