"""Fixtures of the conformance tests: one real ``opentms serve`` for the session
(a subprocess on a free port, SQLite in a temporary directory) and two merchants
registered with ``opentms merchants create``, whose credentials bundles the
official SDKs are configured from."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.conformance.server import (
    MERCHANT,
    OTHER_MERCHANT,
    MerchantBundles,
    RunningServer,
    run_cli,
    start_server,
    stop,
)


@pytest.fixture(scope="session")
def opentms_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    root = tmp_path_factory.mktemp("opentms-server")
    data_dir, log_file = root / "data", root / "server.log"
    process, url = start_server(data_dir, log_file)
    try:
        yield RunningServer(url, data_dir, log_file)
    finally:
        stop(process)


@pytest.fixture(scope="session")
def merchant_bundles(
    opentms_server: RunningServer, tmp_path_factory: pytest.TempPathFactory
) -> MerchantBundles:
    directory = tmp_path_factory.mktemp("merchant-bundles")
    data_dir = str(opentms_server.data_dir)
    for merchant_id in (MERCHANT, OTHER_MERCHANT):
        run_cli(
            "merchants",
            "create",
            merchant_id,
            "--out",
            str(directory),
            "--data-dir",
            data_dir,
            "--server-url",
            opentms_server.url,
        )
    extra_profile = run_cli("profiles", "create", MERCHANT, "--data-dir", data_dir).strip()
    return MerchantBundles(directory, MERCHANT, OTHER_MERCHANT, extra_profile)
