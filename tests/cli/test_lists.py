"""``opentms merchants list`` and ``opentms profiles list``: a table for
people, ``--json`` for scripts, and the data directory named when it holds
nothing to list."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from opentms.cli import main
from opentms.crypto import certificates


@pytest.fixture
def runner(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("OPENTMS_DATA_DIR", str(tmp_path / "data"))
    return CliRunner()


def invoke(runner: CliRunner, *args: str) -> str:
    result = runner.invoke(main, list(args))
    assert result.exit_code == 0, result.output
    return result.stdout


def create(runner: CliRunner, out: Path, merchant_id: str, *args: str) -> dict[str, Any]:
    invoke(runner, "merchants", "create", merchant_id, "--out", str(out), *args)
    bundle: dict[str, Any] = json.loads((out / f"{merchant_id}.json").read_text())
    return bundle


def recent(stamp: str) -> bool:
    moment = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    return timedelta(0) <= datetime.now(UTC) - moment < timedelta(minutes=5)


def test_merchants_list_shows_ids_keys_profiles_and_creation(
    runner: CliRunner, tmp_path: Path
) -> None:
    beta = create(runner, tmp_path, "beta")
    alpha = create(runner, tmp_path, "alpha")
    invoke(runner, "profiles", "create", "beta", "--name", "second")

    listed = json.loads(invoke(runner, "merchants", "list", "--json"))
    assert [m["merchantId"] for m in listed] == ["alpha", "beta"]
    for merchant, bundle, profiles in ((listed[0], alpha, 1), (listed[1], beta, 2)):
        assert merchant["keyIds"] == [bundle["httpSignature"]["keyId"]]
        assert merchant["jwtKids"] == [bundle["jwt"]["kid"]]
        assert merchant["defaultProfileId"] == bundle["defaultProfileId"]
        assert merchant["profiles"] == profiles
        assert recent(merchant["createdAt"]), merchant

    header, *rows = invoke(runner, "merchants", "list").splitlines()
    assert re.split(r"\s{2,}", header) == ["MERCHANT", "KEY ID", "JWT KID", "PROFILES", "CREATED"]
    cells = [re.split(r"\s{2,}", row) for row in rows]
    assert cells == [
        [m["merchantId"], m["keyIds"][0], m["jwtKids"][0], str(m["profiles"]), m["createdAt"]]
        for m in listed
    ]


def test_merchants_list_shows_registered_material(runner: CliRunner, tmp_path: Path) -> None:
    key = certificates.generate_rsa_key()
    cert = tmp_path / "jwt.pem"
    cert.write_bytes(certificates.certificate_pem(certificates.issue_certificate(key, "own", "77")))
    create(runner, tmp_path, "own", "--key-id", "my-key", "--jwt-cert", str(cert))
    (merchant,) = json.loads(invoke(runner, "merchants", "list", "--json"))
    assert (merchant["keyIds"], merchant["jwtKids"]) == (["my-key"], ["77"])


def test_an_empty_list_names_the_data_directory(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(main, ["merchants", "list"])
    assert result.exit_code == 0
    assert result.stdout == ""
    assert f"No merchants are registered (data: {tmp_path / 'data'})" in result.stderr
    assert json.loads(invoke(runner, "merchants", "list", "--json")) == []


def test_profiles_list_shows_the_default_and_the_network_token_setting(
    runner: CliRunner, tmp_path: Path
) -> None:
    bundle = create(runner, tmp_path, "acme")
    create(runner, tmp_path, "other")
    extra = invoke(runner, "profiles", "create", "acme", "--name", "plain", "--no-network-tokens")

    listed = json.loads(invoke(runner, "profiles", "list", "acme", "--json"))
    assert [(p["profileId"], p["name"], p["networkTokens"], p["default"]) for p in listed] == [
        (bundle["defaultProfileId"], "default", True, True),
        (extra.strip(), "plain", False, False),
    ]
    assert all(recent(p["createdAt"]) for p in listed)

    header, *rows = invoke(runner, "profiles", "list", "acme").splitlines()
    columns = ["PROFILE", "NAME", "NETWORK TOKENS", "DEFAULT", "CREATED"]
    assert re.split(r"\s{2,}", header) == columns
    assert [re.split(r"\s{2,}", row)[:4] for row in rows] == [
        [bundle["defaultProfileId"], "default", "yes", "yes"],
        [extra.strip(), "plain", "no", "-"],
    ]


def test_profiles_list_of_an_unknown_merchant_is_a_usage_error(
    runner: CliRunner, tmp_path: Path
) -> None:
    result = runner.invoke(main, ["profiles", "list", "nobody"])
    assert result.exit_code == 2
    assert "No merchant 'nobody' is registered" in result.output
    assert str(tmp_path / "data") in result.output
