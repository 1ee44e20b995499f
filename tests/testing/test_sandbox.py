"""``opentms.testing.Sandbox``: a real ``opentms serve`` started and stopped
around a ``with`` block, driven over its admin API."""

from __future__ import annotations

import json
import socket
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from opentms.client import AuthenticationError, Client, HTTPSignatureAuth, NotFound, ServerError
from opentms.testing import (
    AdminAPI,
    AdminRefused,
    AdminUnauthorized,
    Fault,
    MerchantCredentials,
    Sandbox,
    SandboxStartFailed,
)
from tests.support import backend_database_url, fresh_postgres_schema
from tests.testing.conftest import PREFIX
from tests.testing.fake_admin import TOKEN, RunningFake, running_fake_admin


@pytest.fixture(scope="module")
def sandbox(plugin_database_url: str | None) -> Iterator[Sandbox]:
    with Sandbox(database_url=plugin_database_url) as running:
        yield running


@pytest.fixture
def fake() -> Iterator[RunningFake]:
    with running_fake_admin() as running:
        yield running


def test_the_server_runs_for_the_block_and_its_directory_goes_after() -> None:
    with Sandbox() as sandbox:
        assert httpx.get(f"{sandbox.url}/readyz").status_code == 200
        assert (sandbox.data_dir / "opentms.db").exists()
        assert "in sandbox mode" in sandbox.log_file.read_text()
        root, url = sandbox.root, sandbox.url
    assert not root.exists()
    with pytest.raises(httpx.TransportError):
        httpx.get(f"{url}/readyz", timeout=2)


def test_the_callers_settings_do_not_reach_the_sandbox(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The developer's data directory and admin token are left alone."""
    monkeypatch.setenv("OPENTMS_DATA_DIR", str(tmp_path / "mine"))
    monkeypatch.setenv("OPENTMS_ADMIN_TOKEN", "the-developers-own-token")
    with Sandbox() as sandbox:
        assert sandbox.admin_token != "the-developers-own-token"
        with (
            AdminAPI(sandbox.url, "the-developers-own-token") as theirs,
            pytest.raises(AdminUnauthorized),
        ):
            theirs.clock()
        assert sandbox.admin.clock()["offsetSeconds"] == 0
    assert not (tmp_path / "mine").exists()


@pytest.fixture
def taken_port() -> Iterator[int]:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        yield int(taken.getsockname()[1])


@pytest.fixture
def temporary_root(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """Where the sandboxes of the test make their temporary directories."""
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    return tmp_path


def test_a_server_that_cannot_start_raises_with_its_log(
    taken_port: int, temporary_root: Path
) -> None:
    with pytest.raises(SandboxStartFailed, match="did not become ready") as raised:
        Sandbox(port=taken_port).start()
    assert f"cannot listen on 127.0.0.1:{taken_port}" in str(raised.value)
    assert list(temporary_root.glob("opentms-sandbox-*")) == []


def test_a_missing_seed_file_is_named(tmp_path: Path, temporary_root: Path) -> None:
    with pytest.raises(FileNotFoundError, match=r"seed file .*nowhere\.yaml"):
        Sandbox(seed=tmp_path / "nowhere.yaml").start()
    assert list(temporary_root.glob("opentms-sandbox-*")) == []


def test_a_seed_document_is_given_to_the_server_as_a_file(taken_port: int) -> None:
    sandbox = Sandbox(seed={"merchants": []}, port=taken_port, deterministic="suite-1")
    environment = {}

    def launch() -> None:
        environment.update(sandbox._environment())
        assert sandbox.seed_file is not None
        assert json.loads(sandbox.seed_file.read_text()) == {"merchants": []}
        raise SandboxStartFailed("stopped here")

    sandbox._launch = launch  # type: ignore[method-assign]
    with pytest.raises(SandboxStartFailed, match="stopped here"):
        sandbox.start()
    assert environment["OPENTMS_SEED_FILE"].endswith("seed.json")
    assert environment["OPENTMS_ADMIN_TOKEN"] == sandbox.admin_token
    assert environment["OPENTMS_DETERMINISTIC_SEED"] == "suite-1"


def test_a_sandbox_not_started_says_so() -> None:
    with pytest.raises(RuntimeError, match="not started"):
        Sandbox().reset()


def test_the_clock_helpers_move_the_service_clock(sandbox: Sandbox) -> None:
    before = sandbox.clock.now()
    moved = sandbox.clock.advance(timedelta(days=30))
    assert timedelta(days=30) <= moved - before < timedelta(days=30, minutes=1)
    later = sandbox.clock.advance("P1D")
    assert later - moved >= timedelta(days=1)
    # Back an hour (the readings are to the millisecond).
    assert timedelta(minutes=59) < later - sandbox.clock.advance(-3600) <= timedelta(hours=1)
    target = datetime(2031, 1, 1, tzinfo=UTC)
    assert sandbox.clock.set(target) - target < timedelta(seconds=1)
    assert sandbox.admin.clock()["now"].startswith("2031-01-01T00:00:0")
    real = sandbox.clock.real_time()
    assert abs(real - datetime.now(UTC)) < timedelta(seconds=5)
    assert sandbox.admin.clock()["offsetSeconds"] == 0


def test_an_admin_error_carries_the_envelope(sandbox: Sandbox) -> None:
    with pytest.raises(AdminRefused) as raised:
        sandbox.clock.set("not a date")
    assert (raised.value.status, raised.value.details) == (400, ("set",))
    assert "ISO 8601" in raised.value.message


def test_two_workers_share_the_clock() -> None:
    with Sandbox(workers=2) as sandbox:
        # Ready once one worker answers; the other may still be starting.
        deadline = time.monotonic() + 30
        while sandbox.log_file.read_text().count("Started server process") < 2:
            assert time.monotonic() < deadline, sandbox.log_file.read_text()
            time.sleep(0.05)
        sandbox.clock.advance(86400)
        offsets = set()
        for _ in range(8):  # a connection each, so that both workers answer
            with AdminAPI(sandbox.url, sandbox.admin_token) as admin:
                offsets.add(admin.clock()["offsetSeconds"])
        assert offsets == {86400}


@pytest.mark.postgres
def test_a_sandbox_on_postgresql(postgres_url: str) -> None:
    import sqlalchemy

    with (
        fresh_postgres_schema(postgres_url, PREFIX) as url,
        Sandbox(database_url=url) as sandbox,
    ):
        assert not (sandbox.data_dir / "opentms.db").exists()
        sandbox.clock.advance(60)
        engine = sqlalchemy.create_engine(url)  # the schema is its search_path
        try:
            with engine.connect() as connection:
                offset = connection.execute(
                    sqlalchemy.text("SELECT clock_offset_us FROM sandbox_state")
                ).scalar_one()
        finally:
            engine.dispose()
        assert offset == 60_000_000


# -- the admin API client and the merchant's credentials, over the fake --------


def test_create_merchant_writes_the_bundle_and_its_configurations(
    fake: RunningFake, tmp_path: Path
) -> None:
    with AdminAPI(fake.url, TOKEN) as admin:
        bundle = admin.create_merchant("acme", shared_secret="c2VjcmV0")
    merchant = MerchantCredentials.from_bundle(bundle, tmp_path, fake.url)
    assert "c2VjcmV0" not in repr(merchant)
    assert merchant.python_sdk_configuration() == {
        "authentication_type": "http_signature",
        "merchantid": "acme",
        "run_environment": fake.url.removeprefix("http://"),
        "IntermediateHost": fake.url,
        "merchant_keyid": "acme-key",
        "merchant_secretkey": "c2VjcmV0",
    }
    jwt = merchant.python_sdk_configuration("jwt")
    p12 = Path(jwt["keys_directory"]) / f"{jwt['key_file_name']}.p12"
    assert p12.read_bytes() == __import__("base64").b64decode(bundle["jwt"]["p12Base64"])
    assert (jwt["key_alias"], jwt["key_password"]) == ("acme", bundle["jwt"]["p12Password"])
    written = json.loads(merchant.bundle_file.read_text())
    assert written["paymentCredentials"]["privateKeyFile"] == "acme-credentials-private.pem"
    with merchant.client(auth="jwt") as client:
        assert client.profile_id == "acme-profile"
    with pytest.raises(ValueError, match="mode must be"):
        merchant.python_sdk_configuration("basic")  # type: ignore[arg-type]


def test_admin_calls_send_the_contracts_bodies(fake: RunningFake) -> None:
    with AdminAPI(fake.url, TOKEN) as admin:
        admin.reset(merchant_id="acme")
        assert fake.last().json() == {"merchantId": "acme"}
        admin.reset(include_merchants=True)
        assert fake.last().json() == {"includeMerchants": True}
        admin.journal(merchant_id="acme", status=401, since=datetime(2031, 1, 1, tzinfo=UTC))
        assert fake.last().query == {
            "merchantId": "acme",
            "status": "401",
            "since": "2031-01-01T00:00:00+00:00",
        }
        rule = Fault(admin, admin.add_fault({"path": "/tms/*", "delay_ms": 5, "times": 2}))
        assert fake.last().json() == {"path": "/tms/*", "delayMs": 5, "times": 2}
        assert (rule.id, rule["remaining"]) == ("f1", 2)
        with rule:
            assert rule.refresh()["hits"] == 0
        assert fake.state.faults == {}
        rule.delete()  # already gone: no error


def test_a_bare_404_says_the_server_may_not_be_a_sandbox(fake: RunningFake) -> None:
    with AdminAPI(fake.url + "/nowhere", TOKEN) as admin, pytest.raises(AdminRefused) as raised:
        admin.snapshots()
    assert raised.value.status == 404
    assert "Is it an opentms sandbox" in str(raised.value)


# -- end to end, once the controls' branches are merged -------------------------


def test_reset_snapshot_fault_and_journal_through_the_client(sandbox: Sandbox) -> None:
    sandbox.reset(include_merchants=True)
    merchant = sandbox.create_merchant("plugin_e2e")
    # No retries: the client would retry a GET answered 503, and pass the fault.
    with merchant.client(max_retries=0) as client:
        customer = client.customers.create({"buyerInformation": {"email": "ada@example.com"}})
        assert sandbox.snapshot("with-customer")["name"] == "with-customer"
        assert "with-customer" in [s["name"] for s in sandbox.snapshots()]
        entries = sandbox.journal(merchant_id="plugin_e2e", method="POST")
        assert entries[0]["path"] == "/tms/v2/customers"
        assert entries[0]["status"] == 201
        sandbox.reset()
        with pytest.raises(NotFound):
            client.customers.get(customer.id)
        sandbox.restore("with-customer")
        assert client.customers.get(customer.id).id == customer.id
        sandbox.delete_snapshot("with-customer")
        with sandbox.fault(method="GET", path="/tms/v2/customers/*", status=503, times=1):
            with pytest.raises(ServerError):
                client.customers.get(customer.id)
            assert client.customers.get(customer.id).id == customer.id
        assert sandbox.faults() == []
        sandbox.clear_journal()
        assert sandbox.journal() == []


def test_reset_to_seed_brings_the_seeded_merchant_back() -> None:
    """A seeded merchant, deleted by a reset that takes the merchants, is
    back after :meth:`Sandbox.reset_to_seed`, with the seed's credentials."""
    secret = "c2VlZGVkLXNoYXJlZC1zZWNyZXQtb2YtMzItYnl0ZXM="
    merchant = {"merchantId": "seeded", "keyId": "seeded-key", "sharedSecret": secret}
    seed = {"version": 1, "merchants": [merchant]}
    # A database of its own: another sandbox's has server keys under another master key.
    with (
        backend_database_url(PREFIX) as database_url,
        Sandbox(seed=seed, database_url=database_url) as sandbox,
    ):
        auth = HTTPSignatureAuth("seeded", "seeded-key", secret)
        with Client(sandbox.url, auth=auth, max_retries=0) as client:
            client.customers.create({"buyerInformation": {"email": "ada@example.com"}})
            sandbox.reset(include_merchants=True)
            with pytest.raises(AuthenticationError):
                client.customers.create({"buyerInformation": {"email": "ada@example.com"}})
            sandbox.reset_to_seed()
            client.customers.create({"buyerInformation": {"email": "ada@example.com"}})
        assert sandbox.seed(seed)["merchants"] == ["seeded"]
