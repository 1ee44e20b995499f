"""Modes: in vault mode no sandbox control exists (404 everywhere under
/opentms/v1/sandbox, absent from /openapi.json, no admin token made) and the
sandbox-only settings refuse to start; sandbox mode is the default."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette

from opentms.adapters.http.app import create_app
from opentms.bootstrap import Services, build_services
from opentms.client import ASGIAppTransport
from opentms.config import SANDBOX_ONLY, Settings
from tests.conformance.server import opentms_executable, server_environment
from tests.conftest import client_for
from tests.support import Merchant, backend_database_url

ADMIN_PATHS = [
    ("GET", "/opentms/v1/sandbox"),
    ("GET", "/opentms/v1/sandbox/clock"),
    ("POST", "/opentms/v1/sandbox/clock"),
    ("DELETE", "/opentms/v1/sandbox/clock"),
    ("POST", "/opentms/v1/sandbox/reset"),
    ("POST", "/opentms/v1/sandbox/snapshots"),
    ("GET", "/opentms/v1/sandbox/snapshots"),
    ("POST", "/opentms/v1/sandbox/snapshots/a/restore"),
    ("DELETE", "/opentms/v1/sandbox/snapshots/a"),
    ("POST", "/opentms/v1/sandbox/seed"),
    ("POST", "/opentms/v1/sandbox/merchants"),
    ("GET", "/opentms/v1/sandbox/merchants/m/credentials"),
    ("POST", "/opentms/v1/sandbox/merchants/m/credentials"),
    ("DELETE", "/opentms/v1/sandbox/merchants/m/credentials/k"),
    ("POST", "/opentms/v1/sandbox/merchants/m/bundle"),
    ("GET", "/opentms/v1/sandbox/journal"),
    ("GET", "/opentms/v1/sandbox/journal/1"),
    ("DELETE", "/opentms/v1/sandbox/journal"),
    ("POST", "/opentms/v1/sandbox/faults"),
    ("GET", "/opentms/v1/sandbox/faults"),
    ("DELETE", "/opentms/v1/sandbox/faults"),
]
# Values that are valid in a sandbox, for each sandbox-only setting.
SANDBOX_VALUES = {
    "OPENTMS_ADMIN_TOKEN": "an-admin-token-of-32-characters!",
    "OPENTMS_DETERMINISTIC_SEED": "42",
    "OPENTMS_SEED_FILE": "seed.yaml",
    "OPENTMS_JOURNAL_LIMIT": "100",
}


@pytest.fixture(scope="module")
def vault(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Services]:
    """A vault of its own: its own master key, so its own database too."""
    data_dir = tmp_path_factory.mktemp("vault")
    with backend_database_url("opentms_served") as database_url:
        settings = Settings(data_dir=data_dir, mode="vault", database_url=database_url)
        services = build_services(settings)
        yield services
        services.close()


def test_sandbox_is_the_default_mode(tmp_path: Path) -> None:
    assert Settings(data_dir=tmp_path).mode == "sandbox"


def test_a_vault_has_no_sandbox_controls_and_no_admin_token(vault: Services) -> None:
    assert vault.sandbox is None
    assert not vault.settings.admin_token_file.exists()


@pytest.mark.parametrize(("method", "path"), ADMIN_PATHS)
def test_every_admin_path_is_a_404_in_a_vault(
    vault: Services, admin_token: str, method: str, path: str
) -> None:
    """Even with a token that works on a sandbox."""
    with httpx.Client(transport=ASGIAppTransport(create_app(vault))) as client:
        response = client.request(
            method, f"http://testserver{path}", headers={"authorization": f"Bearer {admin_token}"}
        )
    assert response.status_code == 404
    assert response.json()["errors"][0]["type"] == "notFound"


def test_the_vaults_document_has_no_sandbox_paths(vault: Services) -> None:
    with httpx.Client(transport=ASGIAppTransport(create_app(vault))) as client:
        document = client.get("http://testserver/openapi.json").json()
    assert not [path for path in document["paths"] if path.startswith("/opentms/v1/sandbox")]


def test_the_sandboxs_document_has_the_admin_api(sandbox_app: Starlette) -> None:
    with httpx.Client(transport=ASGIAppTransport(sandbox_app)) as client:
        document = client.get("http://testserver/openapi.json").json()
    clock = document["paths"]["/opentms/v1/sandbox/clock"]
    assert set(clock) == {"get", "post", "delete"}
    assert clock["post"]["security"] == [{"adminToken": []}]
    assert "/opentms/v1/sandbox" in document["paths"]


def test_a_vault_serves_the_tms_api(vault: Services) -> None:
    merchant = Merchant(vault.merchants.register("vault_merchant"))
    with client_for(create_app(vault), merchant) as client:
        assert client.post("/tms/v2/customers", json={}).status_code == 201


@pytest.mark.parametrize("setting", sorted(SANDBOX_VALUES))
def test_a_sandbox_only_setting_stops_a_vault_from_starting(tmp_path: Path, setting: str) -> None:
    assert setting.removeprefix("OPENTMS_").lower() in SANDBOX_ONLY
    environment = {
        **server_environment(),
        "OPENTMS_MODE": "vault",
        "OPENTMS_DATA_DIR": str(tmp_path / "data"),
        setting: SANDBOX_VALUES[setting],
    }
    done = subprocess.run(
        [str(opentms_executable()), "serve", "--port=1"],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        env=environment,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert setting in done.stderr
    assert "only a sandbox has this" in done.stderr
    # Nothing was started or created.
    assert not (tmp_path / "data").exists()


def test_every_sandbox_only_setting_is_checked() -> None:
    assert {name.removeprefix("OPENTMS_").lower() for name in SANDBOX_VALUES} == SANDBOX_ONLY
