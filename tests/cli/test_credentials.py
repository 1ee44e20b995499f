"""``opentms merchants show``, ``merchants keys add|revoke|list`` and
``merchants bundle`` on SQLite (or PostgreSQL in that pass): what show prints
(never a secret), JSON for scripts, the refusals and their exit statuses, and
a re-exported bundle that works with our client beside the old one until the
old one is revoked."""

from __future__ import annotations

import json
import stat
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal

import pytest
from click.testing import CliRunner, Result
from starlette.applications import Starlette

from opentms.adapters.http.app import create_app
from opentms.bootstrap import build_services
from opentms.cli import main
from opentms.client import ASGIAppTransport, AuthenticationError, Client, NotFound
from opentms.config import Settings
from opentms.crypto import certificates
from tests.support import backend_database_url

AuthMode = Literal["signature", "jwt", "hs256"]


@pytest.fixture
def settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Settings]:
    """The environment the CLI runs with: a data directory, and in the
    PostgreSQL pass a fresh schema."""
    with backend_database_url("opentms_cli_creds") as url:
        monkeypatch.setenv("OPENTMS_DATA_DIR", str(tmp_path / "data"))
        if url is not None:
            monkeypatch.setenv("OPENTMS_DATABASE_URL", url)
        yield Settings()


@pytest.fixture
def runner(settings: Settings) -> CliRunner:
    return CliRunner()


@pytest.fixture
def app(runner: CliRunner, settings: Settings) -> Iterator[Starlette]:
    """A server over the CLI's database (its schema made by a first command)."""
    run(runner, "db", "upgrade")
    services = build_services(settings)
    yield create_app(services)
    services.close()


def run(runner: CliRunner, *args: str, status: int = 0) -> Result:
    result = runner.invoke(main, list(args))
    assert result.exit_code == status, (result.stdout, result.stderr)
    return result


def create(runner: CliRunner, out: Path, merchant_id: str) -> dict[str, Any]:
    run(runner, "merchants", "create", merchant_id, "--out", str(out))
    bundle: dict[str, Any] = json.loads((out / f"{merchant_id}.json").read_text())
    return bundle


def show(runner: CliRunner, merchant_id: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(
        run(runner, "merchants", "show", merchant_id, "--json").stdout
    )
    return document


def answer(bundle: Path, app: Starlette, auth: AuthMode = "signature") -> int:
    """What the server answers our client configured from ``bundle``: 404
    for an instrument identifier that does not exist once authenticated,
    401 when its key is refused."""
    with Client.from_credentials_file(
        bundle, base_url="http://testserver", auth=auth, transport=ASGIAppTransport(app)
    ) as client:
        try:
            client.instrument_identifiers.get(uuid.uuid4().hex.upper())
        except NotFound:
            return 404
        except AuthenticationError:
            return 401
    raise AssertionError("an instrument identifier that does not exist was found")


def test_show_lists_what_is_registered_and_never_a_secret(
    runner: CliRunner, tmp_path: Path
) -> None:
    bundle = create(runner, tmp_path / "b", "acme")
    added = json.loads(
        run(runner, "merchants", "keys", "add", "acme", "--http-signature", "--json").stdout
    )

    document = show(runner, "acme")
    assert document["merchantId"] == "acme"
    assert document["state"] == "active"
    assert document["shreddedAt"] is None
    assert document["defaultProfileId"] == bundle["defaultProfileId"]
    assert [p["profileId"] for p in document["profiles"]] == [bundle["defaultProfileId"]]
    assert {(c["kind"], c["keyId"], c["revokedAt"]) for c in document["credentials"]} == {
        ("http_signature", bundle["httpSignature"]["keyId"], None),
        ("http_signature", added["keyId"], None),
        ("jwt_certificate", bundle["jwt"]["kid"], None),
        ("payment_credentials", bundle["paymentCredentials"]["kid"], None),
    }

    text = run(runner, "merchants", "show", "acme").stdout
    assert "State:            active" in text
    for credential in document["credentials"]:
        assert credential["keyId"] in text
    secrets = [
        bundle["httpSignature"]["sharedSecret"],
        added["sharedSecret"],
        bundle["jwt"]["p12Password"],
        (tmp_path / "b" / "acme-credentials-private.pem").read_text(),
        "PRIVATE KEY",
    ]
    for output in (text, json.dumps(document)):
        for secret in secrets:
            assert secret not in output


def test_keys_add_shows_the_secret_once_or_writes_it_privately(
    runner: CliRunner, tmp_path: Path, app: Starlette
) -> None:
    create(runner, tmp_path / "b", "acme")
    secret_file = tmp_path / "secret"
    printed = run(
        runner,
        "merchants", "keys", "add", "acme", "--http-signature",
        "--key-id", "acme-2", "--shared-secret-file", str(secret_file),
    ).stdout  # fmt: skip
    secret = secret_file.read_text().strip()
    assert stat.S_IMODE(secret_file.stat().st_mode) == 0o600
    assert secret not in printed
    assert "acme-2" in printed

    jwt = json.loads(
        run(
            runner, "merchants", "keys", "add", "acme", "--jwt", "--out", str(tmp_path / "j"),
            "--json",
        ).stdout
    )  # fmt: skip
    p12 = Path(jwt["p12File"])
    assert stat.S_IMODE(p12.stat().st_mode) == 0o600
    assert jwt["p12Password"]
    assert p12.name == f"acme-{jwt['keyId']}.p12"

    # A bundle of the new keys authenticates with our client, in both modes.
    mine = tmp_path / "mine"
    mine.mkdir()
    p12.rename(mine / "acme.p12")
    (mine / "acme.json").write_text(
        json.dumps(
            {
                "merchantId": "acme",
                "httpSignature": {"keyId": "acme-2", "sharedSecret": secret},
                "jwt": {"kid": jwt["keyId"], "p12File": "acme.p12",
                        "p12Password": jwt["p12Password"], "keyAlias": "acme"},
            }
        )
    )  # fmt: skip
    assert answer(mine / "acme.json", app, "signature") == 404
    assert answer(mine / "acme.json", app, "jwt") == 404


def test_keys_add_registers_a_given_secret_and_certificate(
    runner: CliRunner, tmp_path: Path
) -> None:
    create(runner, tmp_path / "b", "acme")
    given = tmp_path / "given"
    given.write_text("QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWY=\n")
    key = certificates.generate_rsa_key()
    pem = tmp_path / "cert.pem"
    pem.write_bytes(
        certificates.certificate_pem(certificates.issue_certificate(key, "acme", "4242"))
    )

    printed = run(
        runner, "merchants", "keys", "add", "acme", "--http-signature",
        "--key-id", "given-1", "--shared-secret-from", str(given),
    ).stdout  # fmt: skip
    assert "QUJDREVG" not in printed
    run(runner, "merchants", "keys", "add", "acme", "--jwt", "--certificate", str(pem))

    kinds = {(c["kind"], c["keyId"]) for c in show(runner, "acme")["credentials"]}
    assert {("http_signature", "given-1"), ("jwt_certificate", "4242")} <= kinds

    other = tmp_path / "other.pem"
    other.write_bytes(
        certificates.certificate_pem(certificates.issue_certificate(key, "someone", "4343"))
    )
    refused = run(
        runner, "merchants", "keys", "add", "acme", "--jwt", "--certificate", str(other), status=2
    )
    assert "CN must be the merchant id" in refused.stderr
    misplaced = run(runner, "merchants", "keys", "add", "acme", "--jwt", "--key-id", "x", status=2)
    assert "--key-id does not apply to --jwt" in misplaced.stderr


def test_revoke_refusals_and_their_statuses(runner: CliRunner, tmp_path: Path) -> None:
    acme = create(runner, tmp_path / "a", "acme")
    other = create(runner, tmp_path / "o", "other")

    theirs = run(
        runner, "merchants", "keys", "revoke", "acme", other["httpSignature"]["keyId"], status=1
    )
    assert "No such key" in theirs.stderr
    assert all(c["revokedAt"] is None for c in show(runner, "other")["credentials"])

    unknown = run(runner, "merchants", "keys", "revoke", "nobody", "k", status=2)
    assert "No merchant 'nobody' is registered" in unknown.stderr

    run(runner, "merchants", "keys", "revoke", "acme", acme["jwt"]["kid"])
    last = run(
        runner, "merchants", "keys", "revoke", "acme", acme["httpSignature"]["keyId"], status=1
    )
    assert "last active authentication credential" in last.stderr
    assert "--force" in last.stderr
    again = run(runner, "merchants", "keys", "revoke", "acme", acme["jwt"]["kid"], status=1)
    assert "already revoked" in again.stderr
    payment = acme["paymentCredentials"]["kid"]
    not_auth = run(runner, "merchants", "keys", "revoke", "acme", payment, status=1)
    assert "not an authentication credential" in not_auth.stderr

    forced = json.loads(
        run(
            runner, "merchants", "keys", "revoke", "acme", acme["httpSignature"]["keyId"],
            "--force", "--json",
        ).stdout
    )  # fmt: skip
    assert forced["revokedAt"] is not None
    assert forced["active"] is False
    # `merchants list` names the keys a merchant authenticates with: none left.
    (listed,) = [m for m in json.loads(run(runner, "merchants", "list", "--json").stdout)
                 if m["merchantId"] == "acme"]  # fmt: skip
    assert (listed["keyIds"], listed["jwtKids"]) == ([], [])


def test_a_re_exported_bundle_works_beside_the_old_one_until_it_is_revoked(
    runner: CliRunner, tmp_path: Path, app: Starlette
) -> None:
    old = create(runner, tmp_path / "old", "acme")
    old_file = tmp_path / "old" / "acme.json"
    private_key = tmp_path / "old" / "acme-credentials-private.pem"
    printed = run(
        runner, "merchants", "bundle", "acme", "--out", str(tmp_path / "new"),
        "--credentials-private-key", str(private_key),
    ).stdout  # fmt: skip
    new_file = tmp_path / "new" / "acme.json"
    new = json.loads(new_file.read_text())
    assert set(new) == set(old)
    assert new["defaultProfileId"] == old["defaultProfileId"]
    assert new["httpSignature"]["keyId"] != old["httpSignature"]["keyId"]
    assert new["jwt"]["kid"] != old["jwt"]["kid"]
    assert new["paymentCredentials"]["kid"] == old["paymentCredentials"]["kid"]
    assert (tmp_path / "new" / "acme-credentials-private.pem").read_bytes() == (
        private_key.read_bytes()
    )
    assert new["httpSignature"]["keyId"] in printed  # the SDK configuration

    modes: tuple[AuthMode, ...] = ("signature", "jwt", "hs256")
    for mode in modes:
        assert answer(old_file, app, mode) == 404, mode
        assert answer(new_file, app, mode) == 404, mode

    run(runner, "merchants", "keys", "revoke", "acme", old["httpSignature"]["keyId"])
    run(runner, "merchants", "keys", "revoke", "acme", old["jwt"]["kid"])
    for mode in modes:
        assert answer(old_file, app, mode) == 401, mode
        assert answer(new_file, app, mode) == 404, mode

    # Never over the bundle in use, and never with someone else's key.
    again = run(runner, "merchants", "bundle", "acme", "--out", str(tmp_path / "new"), status=2)
    assert "already holds a bundle" in again.stderr
    stranger = tmp_path / "stranger.pem"
    stranger.write_bytes(certificates.private_key_pem(certificates.generate_rsa_key()))
    wrong = run(
        runner, "merchants", "bundle", "acme", "--out", str(tmp_path / "x"),
        "--credentials-private-key", str(stranger), status=2,
    )  # fmt: skip
    assert "not the private key" in wrong.stderr


def test_keys_list_prints_a_table_and_json(runner: CliRunner, tmp_path: Path) -> None:
    acme = create(runner, tmp_path / "a", "acme")
    header, *rows = run(runner, "merchants", "keys", "list", "acme").stdout.splitlines()
    assert header.split() == ["KIND", "KEY", "ID", "CREATED", "REVOKED"]
    assert len(rows) == 3
    listed = json.loads(run(runner, "merchants", "keys", "list", "acme", "--json").stdout)
    assert {c["keyId"] for c in listed} == {
        acme["httpSignature"]["keyId"],
        acme["jwt"]["kid"],
        acme["paymentCredentials"]["kid"],
    }
