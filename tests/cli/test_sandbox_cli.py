"""``opentms sandbox ...``: the admin API from the command line.

The clock, the token's sources and the failures run against a real
``opentms serve``; the controls whose server side is built on other branches
run against the fake admin server of ``tests/testing/fake_admin.py``, which
records what the CLI sent."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner, Result

from opentms.cli import main
from opentms.client import Client
from opentms.testing import Sandbox
from tests.conformance.server import free_port, start_server, stop
from tests.sandbox.served import serve
from tests.testing.fake_admin import TOKEN, RunningFake, running_fake_admin


def run(*args: str, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(main, ["sandbox", *args], env=env, terminal_width=200)


@pytest.fixture(scope="module")
def server() -> Iterator[Sandbox]:
    with Sandbox() as sandbox:
        yield sandbox


@pytest.fixture
def fake() -> Iterator[RunningFake]:
    with running_fake_admin() as running:
        yield running


def on(server: Sandbox | RunningFake, *args: str) -> Result:
    token = server.admin_token if isinstance(server, Sandbox) else TOKEN
    return run(*args, "--url", server.url, "--token", token)


def ok(server: Sandbox | RunningFake, *args: str) -> str:
    result = on(server, *args)
    assert result.exit_code == 0, result.output
    return result.output


# -- against opentms serve ----------------------------------------------------


def server_offset(server: Sandbox) -> float:
    return float(server.admin.clock()["offsetSeconds"])


def test_clock_advance_set_show_and_reset_move_the_servers_clock(server: Sandbox) -> None:
    assert "offset    86400.0 s" in ok(server, "clock", "advance", "86400")
    assert server_offset(server) == 86400
    ok(server, "clock", "advance", "P1D")
    assert server_offset(server) == 2 * 86400
    document = json.loads(ok(server, "clock", "set", "2031-01-01T00:00:00Z", "--json"))
    assert document["now"].startswith("2031-01-01T00:00:0")
    assert "now       2031-01-01T00:00:0" in ok(server, "clock", "show")
    ok(server, "clock", "reset")
    assert server_offset(server) == 0


def test_an_api_error_shows_the_envelopes_message_and_field(server: Sandbox) -> None:
    result = on(server, "clock", "set", "tomorrow")
    assert result.exit_code == 1
    assert "set must be an ISO 8601 date-time with a zone" in result.output
    assert "(fields: set) [400]" in result.output


def test_the_token_can_come_from_the_environment(server: Sandbox) -> None:
    env = {"OPENTMS_ADMIN_TOKEN": server.admin_token, "OPENTMS_URL": server.url}
    result = run("clock", "show", "--json", env=env)
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["offsetSeconds"] == 0


def test_a_refused_token_says_where_it_came_from(server: Sandbox) -> None:
    result = run("clock", "show", "--url", server.url, "--token", "wrong-token-wrong-token")
    assert result.exit_code == 1
    assert f"The server at {server.url} refused the admin token (from --token)" in result.output
    env = {"OPENTMS_ADMIN_TOKEN": "wrong-token-wrong-token"}
    result = run("clock", "show", "--url", server.url, env=env)
    assert "(from OPENTMS_ADMIN_TOKEN)" in result.output


def test_a_server_that_is_down_is_named(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    result = run("clock", "show", "--url", url, "--token", "some-token-some-token")
    assert result.exit_code == 1
    assert f"No opentms server answered at {url}" in result.output


def test_the_token_is_read_from_the_data_directory(tmp_path: Path) -> None:
    """No token given: the admin-token file `opentms serve` generated."""
    data_dir, stale = tmp_path / "data", tmp_path / "other"
    stale.mkdir()
    (stale / "admin-token").write_text("not-the-servers-token\n")
    process, url = start_server(data_dir, tmp_path / "server.log")
    try:
        result = run("clock", "show", "--url", url, "--data-dir", str(data_dir))
        assert result.exit_code == 0, result.output
        assert "offset    0.0 s" in result.output
        refused = run("clock", "show", "--url", url, "--data-dir", str(stale))
    finally:
        stop(process)
    assert refused.exit_code == 1
    assert f"refused the admin token (from {stale / 'admin-token'})" in refused.output


def test_no_token_at_all_says_how_to_give_one(tmp_path: Path) -> None:
    result = run("clock", "show", "--data-dir", str(tmp_path))
    assert result.exit_code == 1
    assert "No admin token: give --token or OPENTMS_ADMIN_TOKEN" in result.output
    assert str(tmp_path / "admin-token") in result.output


def test_a_vault_is_said_not_to_be_a_sandbox(tmp_path: Path) -> None:
    """A vault has no admin API: its 404 comes with what to check."""
    with serve(tmp_path, data_dir=tmp_path, environment={"OPENTMS_MODE": "vault"}) as vault:
        result = run("snapshot", "list", "--url", vault.url, "--token", "any-token-any-token")
    assert result.exit_code == 1
    assert "No TMS resource at /opentms/v1/sandbox/snapshots." in result.output
    assert "Is it an opentms sandbox (not OPENTMS_MODE=vault)" in result.output


def test_a_bare_404_says_the_same(fake: RunningFake) -> None:
    result = run("snapshot", "list", "--url", fake.url + "/elsewhere", "--token", TOKEN)
    assert result.exit_code == 1
    assert "No such path on this server. Is it an opentms sandbox" in result.output


# -- against the fake admin server ---------------------------------------------


def test_status_shows_mode_generation_and_clock(fake: RunningFake) -> None:
    output = ok(fake, "status")
    assert "mode           sandbox" in output
    assert "generation     7" in output
    assert json.loads(ok(fake, "status", "--json"))["generation"] == 7


@pytest.mark.parametrize(
    ("args", "sent", "said"),
    [
        ([], {}, "Reset everything (merchants kept)"),
        (["--merchant", "acme"], {"merchantId": "acme"}, "Reset merchant acme;"),
        (["--include-merchants"], {"includeMerchants": True}, "Reset everything;"),
    ],
    ids=["everything", "one merchant", "with merchants"],
)
def test_reset_sends_what_was_asked(
    fake: RunningFake, args: list[str], sent: dict[str, object], said: str
) -> None:
    output = ok(fake, "reset", *args)
    assert (fake.last().method, fake.last().path, fake.last().json()) == ("POST", "/reset", sent)
    assert said in output
    assert "instrument_identifiers 3" in output


def test_reset_of_one_merchant_with_merchants_is_refused(fake: RunningFake) -> None:
    result = on(fake, "reset", "--merchant", "acme", "--include-merchants")
    assert result.exit_code == 2
    assert fake.state.requests == []


def test_snapshots_save_list_restore_delete(fake: RunningFake) -> None:
    assert "Saved snapshot before-test" in ok(fake, "snapshot", "save", "before-test")
    assert fake.last().json() == {"name": "before-test"}
    duplicate = on(fake, "snapshot", "save", "before-test")
    assert duplicate.exit_code == 1
    assert "A snapshot named before-test exists. (fields: name) [409]" in duplicate.output
    listed = ok(fake, "snapshot", "list")
    assert listed.splitlines()[0].split() == ["NAME", "CREATED", "HOLDS"]
    assert listed.splitlines()[1].startswith("before-test")
    assert [s["name"] for s in json.loads(ok(fake, "snapshot", "list", "--json"))] == [
        "before-test"
    ]
    assert "Restored snapshot before-test" in ok(fake, "snapshot", "restore", "before-test")
    assert fake.last().path == "/snapshots/before-test/restore"
    ok(fake, "snapshot", "delete", "before-test")
    assert fake.last().method == "DELETE"
    assert fake.state.snapshots == {}
    missing = on(fake, "snapshot", "restore", "gone")
    assert (missing.exit_code, "No snapshot named gone." in missing.output) == (1, True)


@pytest.mark.parametrize(
    ("name", "content_type"),
    [
        ("seed.yaml", "application/yaml"),
        ("seed.yml", "application/yaml"),
        ("seed.json", "application/json"),
    ],
)
def test_seed_sends_the_file_as_it_is(
    fake: RunningFake, tmp_path: Path, name: str, content_type: str
) -> None:
    file = tmp_path / name
    file.write_bytes(
        b'{"merchants": [{"merchantId": "seeded"}]}' if "json" in name else b"merchants: []\n"
    )
    output = ok(fake, "seed", str(file))
    assert (fake.last().content_type, fake.last().body) == (content_type, file.read_bytes())
    assert "created: merchants 1, customers 2" in output


def test_merchants_create_writes_a_bundle_the_client_loads(
    fake: RunningFake, tmp_path: Path
) -> None:
    out = tmp_path / "credentials"
    output = ok(fake, "merchants", "create", "acme", "--key-id", "k1", "--out", str(out))
    assert fake.last().json() == {"merchantId": "acme", "keyId": "k1"}
    written = sorted(p.name for p in out.iterdir())
    assert written == [
        "acme-credentials-private.pem",
        "acme-credentials-public.pem",
        "acme.json",
        "acme.p12",
    ]
    assert (out / "acme.p12").stat().st_mode & 0o777 == 0o600
    bundle = json.loads((out / "acme.json").read_text())
    assert bundle["httpSignature"]["keyId"] == "k1"
    assert bundle["jwt"]["p12File"] == "acme.p12"
    assert '"merchant_keyid": "k1"' in output
    assert f'"keys_directory": "{out}"' in output
    with Client.from_credentials_file(out / "acme.json", base_url=fake.url, auth="jwt") as client:
        assert client.profile_id == "acme-profile"
    again = on(fake, "merchants", "create", "acme", "--out", str(out))
    assert (again.exit_code, "Merchant acme exists." in again.output) == (1, True)


def journal_entry(entry_id: int, merchant: str, path: str, status: int) -> dict[str, object]:
    return {
        "id": entry_id,
        "at": "2026-12-04T19:00:00.000Z",
        "merchantId": merchant,
        "method": "POST",
        "path": path,
        "query": "",
        "status": status,
        "durationMs": 3.2,
        "correlationId": f"c{entry_id}",
        "authentication": {"verdict": "refused", "reason": "SIGNATURE_MISMATCH"},
        "requestBody": None,
        "responseBody": None,
    }


def test_journal_list_filters_show_and_clear(fake: RunningFake) -> None:
    fake.state.journal += [
        journal_entry(2, "acme", "/tms/v2/customers", 401),
        journal_entry(1, "other", "/tms/v1/instrumentidentifiers", 201),
    ]
    output = ok(
        fake, "journal", "list", "--merchant", "acme", "--path", "/tms/v2/*", "--limit", "5"
    )
    assert fake.last().query == {"merchantId": "acme", "path": "/tms/v2/*", "limit": "5"}
    header, row = output.splitlines()[:2]
    assert header.split()[:6] == ["ID", "AT", "MERCHANT", "METHOD", "PATH", "STATUS"]
    assert row.split() == [
        "2", "2026-12-04T19:00:00.000Z", "acme", "POST", "/tms/v2/customers", "401", "3.2",
        "refused:", "SIGNATURE_MISMATCH",
    ]  # fmt: skip
    assert "1 of 1 entries" in output
    assert json.loads(ok(fake, "journal", "list", "--status", "201", "--json"))["total"] == 1
    assert json.loads(ok(fake, "journal", "show", "2"))["correlationId"] == "c2"
    ok(fake, "journal", "clear")
    assert (fake.last().method, fake.state.journal) == ("DELETE", [])
    assert "No journal entries (of 0)." in ok(fake, "journal", "list")


def test_faults_add_list_delete_clear(fake: RunningFake) -> None:
    args = ["--method", "POST", "--path", "/tms/v2/customers*", "--merchant", "acme"]
    output = ok(fake, "faults", "add", *args, "--status", "503", "--times", "1", "--delay-ms", "20")
    assert fake.last().json() == {
        "method": "POST",
        "path": "/tms/v2/customers*",
        "merchantId": "acme",
        "status": 503,
        "delayMs": 20,
        "times": 1,
    }
    assert "Added fault f1: POST /tms/v2/customers* of acme -> answer 503 after 20 ms" in output
    ok(fake, "faults", "add", "--connection", "reset", "--probability", "0.5")
    assert fake.last().json() == {"connection": "reset", "probability": 0.5}
    listed = ok(fake, "faults", "list").splitlines()
    assert listed[0].split() == ["ID", "RULE", "HITS", "LEFT", "PROBABILITY"]
    assert listed[2].split() == [
        "f2",
        "*",
        "*",
        "->",
        "connection",
        "reset",
        "0",
        "unlimited",
        "0.5",
    ]
    ok(fake, "faults", "delete", "f1")
    assert [f["id"] for f in json.loads(ok(fake, "faults", "list", "--json"))] == ["f2"]
    ok(fake, "faults", "clear")
    assert fake.state.faults == {}
    refused = on(fake, "faults", "add", "--status", "500", "--connection", "empty")
    assert (refused.exit_code, "Give status or connection" in refused.output) == (1, True)


def test_a_name_cannot_reach_another_path(fake: RunningFake) -> None:
    on(fake, "snapshot", "delete", "../faults")
    assert fake.last().path == "/snapshots/..%2Ffaults"


def test_clock_set_passes_the_moment_as_given(fake: RunningFake) -> None:
    moment = datetime(2031, 1, 1, tzinfo=UTC).isoformat()
    on(fake, "clock", "set", moment)
    assert fake.last().json() == {"set": moment}


def test_the_default_url_is_the_servers_default() -> None:
    assert httpx.URL("http://127.0.0.1:8080") == httpx.URL(
        main.commands["sandbox"].commands["status"].params[-1].default  # type: ignore[attr-defined]
    )
