"""The ``opentms`` command: merchants, profiles and the schema."""

from __future__ import annotations

import base64
import json
import stat
from pathlib import Path

import pytest
from click.testing import CliRunner
from cryptography.hazmat.primitives.serialization import pkcs12

from opentms.cli import main
from opentms.crypto import certificates


@pytest.fixture
def runner(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("OPENTMS_DATA_DIR", str(tmp_path / "data"))
    return CliRunner()


def test_merchants_create_writes_a_bundle_the_sdk_can_use(
    runner: CliRunner, tmp_path: Path
) -> None:
    out = tmp_path / "creds"
    result = runner.invoke(main, ["merchants", "create", "acme", "--out", str(out)])
    assert result.exit_code == 0, result.output
    bundle = json.loads((out / "acme.json").read_text())
    assert bundle["merchantId"] == "acme"
    assert len(base64.b64decode(bundle["httpSignature"]["sharedSecret"])) == 32
    p12 = (out / bundle["jwt"]["p12File"]).read_bytes()
    key, cert, extra = pkcs12.load_key_and_certificates(p12, bundle["jwt"]["p12Password"].encode())
    assert key is not None
    assert cert is not None
    assert certificates.subject_common_name(cert) == "acme"
    assert certificates.subject_serial_number(cert) == bundle["jwt"]["kid"]
    assert [certificates.subject_common_name(c) for c in extra] == ["CyberSource_SJC_US"]
    private = out / bundle["paymentCredentials"]["privateKeyFile"]
    public_key = certificates.load_private_key_pem(private.read_bytes()).public_key()
    assert certificates.rsa_thumbprint(public_key) == bundle["paymentCredentials"]["kid"]
    for secret_file in (out / "acme.json", out / "acme.p12", private):
        assert stat.S_IMODE(secret_file.stat().st_mode) == 0o600
    # The printed SDK configuration carries what the SDK needs.
    assert '"merchant_keyid": "' + bundle["httpSignature"]["keyId"] in result.output
    assert '"key_password": "' + bundle["jwt"]["p12Password"] in result.output
    listed = runner.invoke(main, ["merchants", "list", "--json"])
    assert [m["merchantId"] for m in json.loads(listed.output)] == ["acme"]


def test_merchants_create_registers_given_material(runner: CliRunner, tmp_path: Path) -> None:
    key = certificates.generate_rsa_key()
    cert = certificates.issue_certificate(key, "bring_your_own", "1234567890")
    cert_file = tmp_path / "jwt.pem"
    cert_file.write_bytes(certificates.certificate_pem(cert))
    public_file = tmp_path / "public.pem"
    credentials_key = certificates.generate_rsa_key().public_key()
    public_file.write_bytes(certificates.public_key_pem(credentials_key))
    secret = base64.b64encode(b"s" * 32).decode()
    out = tmp_path / "creds"
    result = runner.invoke(
        main,
        [
            "merchants",
            "create",
            "bring_your_own",
            "--out",
            str(out),
            "--key-id",
            "my-key",
            "--shared-secret",
            secret,
            "--jwt-cert",
            str(cert_file),
            "--credentials-public-key",
            str(public_file),
        ],
    )
    assert result.exit_code == 0, result.output
    bundle = json.loads((out / "bring_your_own.json").read_text())
    assert bundle["httpSignature"] == {"keyId": "my-key", "sharedSecret": secret}
    assert bundle["jwt"] == {"kid": "1234567890"}
    assert bundle["paymentCredentials"]["kid"] == certificates.rsa_thumbprint(credentials_key)
    assert "privateKeyFile" not in bundle["paymentCredentials"]
    assert not (out / "bring_your_own.p12").exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        pytest.param(["bad id!"], "merchant id", id="bad-merchant-id"),
        pytest.param(["m1", "--shared-secret", "%%%"], "base64", id="secret-not-base64"),
        pytest.param(["m1", "--shared-secret", "c2hvcnQ="], "32 bytes", id="secret-too-short"),
    ],
)
def test_merchants_create_refuses_bad_input(
    runner: CliRunner, tmp_path: Path, args: list[str], message: str
) -> None:
    result = runner.invoke(main, ["merchants", "create", *args, "--out", str(tmp_path / "o")])
    assert result.exit_code == 2
    assert message in result.output


def test_merchants_create_refuses_a_duplicate(runner: CliRunner, tmp_path: Path) -> None:
    assert (
        runner.invoke(main, ["merchants", "create", "dup", "--out", str(tmp_path)]).exit_code == 0
    )
    again = runner.invoke(main, ["merchants", "create", "dup", "--out", str(tmp_path)])
    assert again.exit_code == 2
    assert "already registered" in again.output


def test_jwt_certificate_must_name_the_merchant(runner: CliRunner, tmp_path: Path) -> None:
    key = certificates.generate_rsa_key()
    cert_file = tmp_path / "jwt.pem"
    cert_file.write_bytes(
        certificates.certificate_pem(certificates.issue_certificate(key, "someone_else", "1"))
    )
    result = runner.invoke(
        main, ["merchants", "create", "m2", "--jwt-cert", str(cert_file), "--out", str(tmp_path)]
    )
    assert result.exit_code == 2
    assert "CN must be the merchant id" in result.output


def test_profiles_create_prints_a_new_profile_id(runner: CliRunner, tmp_path: Path) -> None:
    runner.invoke(main, ["merchants", "create", "p1", "--out", str(tmp_path)])
    result = runner.invoke(main, ["profiles", "create", "p1", "--no-network-tokens"])
    assert result.exit_code == 0, result.output
    assert len(result.output.strip()) == 36
    missing = runner.invoke(main, ["profiles", "create", "nobody"])
    assert missing.exit_code == 2


def test_db_upgrade_then_current_is_head(runner: CliRunner) -> None:
    upgraded = runner.invoke(main, ["db", "upgrade"])
    assert upgraded.exit_code == 0, upgraded.output
    current = runner.invoke(main, ["db", "current"])
    assert current.output.strip() == upgraded.output.split()[-1]


def test_the_printed_configuration_points_at_the_server_url(
    runner: CliRunner, tmp_path: Path
) -> None:
    result = runner.invoke(
        main,
        [
            "merchants",
            "create",
            "far",
            "--out",
            str(tmp_path),
            "--server-url",
            "http://10.1.2.3:9000/",
        ],
    )
    assert result.exit_code == 0, result.output
    assert result.stdout.count('"run_environment": "10.1.2.3:9000"') == 2  # HTTP Signature, JWT
    assert result.stdout.count('"IntermediateHost": "http://10.1.2.3:9000"') == 2
    assert "8080" not in result.stdout


def test_a_new_database_is_pointed_out(runner: CliRunner, tmp_path: Path) -> None:
    first = runner.invoke(main, ["merchants", "create", "first", "--out", str(tmp_path)])
    assert first.exit_code == 0, first.output
    assert f"Registered merchant first (data: {tmp_path / 'data'})" in first.stdout
    assert f"there was no database in {tmp_path / 'data'}, so a new one was created" in " ".join(
        first.stderr.split()
    )
    second = runner.invoke(main, ["merchants", "create", "second", "--out", str(tmp_path)])
    assert second.exit_code == 0, second.output
    assert second.stderr == ""
