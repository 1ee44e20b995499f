"""The audit log (issue 13, point 6; docs/security.md "Audit log"): what each
audited HTTP operation records, failures and refused authentications, no
card data in any entry, an audit write that fails failing its operation,
and `opentms audit verify` finding every kind of tampering."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from click.testing import CliRunner
from sqlalchemy import delete, func, select, text, update
from starlette.applications import Starlette

from opentms.adapters.http.app import create_app
from opentms.adapters.storage.tables import audit_head, audit_log, instrument_identifiers
from opentms.bootstrap import Database, Services, audit_chain, audit_id_key, build_services
from opentms.bootstrap import open_database as open_db
from opentms.cli.main import main as cli
from opentms.domain.audit import (
    AuditEntry,
    chain_hash,
    cli_actor,
    current_scope,
    hash_id,
    merchant_actor,
)
from tests.api.conftest import _ErrorRecords
from tests.api.tokens_support import credentials_path, decrypt
from tests.conftest import make_settings
from tests.support import Merchant, backend_database_url, make_pan

II = "/tms/v1/instrumentidentifiers"
EXPIRY = {"expirationMonth": "12", "expirationYear": "2031"}


@pytest.fixture(autouse=True)
def no_server_errors(request: pytest.FixtureRequest) -> Iterator[None]:
    """As tests/api/conftest.py's, except where the test makes the audit
    write fail on purpose (the app answers 500 and logs it)."""
    handler = _ErrorRecords()
    logger = logging.getLogger("opentms.http")
    logger.addHandler(handler)
    try:
        yield
    finally:
        logger.removeHandler(handler)
    if request.node.name != "test_a_failing_audit_write_fails_the_operation":
        assert not handler.records, [record.getMessage() for record in handler.records]


@pytest.fixture(scope="module")
def audited(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Database, Services]]:
    """A vault (audit log on by default) of its own: the chain starts empty."""
    data_dir = tmp_path_factory.mktemp("audited")
    with backend_database_url("opentms_audit") as url:
        database = open_db(make_settings(data_dir, database_url=url, mode="vault"))
        services = build_services(database.settings, database=database)
        yield database, services
        services.close()
        database.close()


@pytest.fixture(scope="module")
def database(audited: tuple[Database, Services]) -> Database:
    return audited[0]


@pytest.fixture(scope="module")
def app(audited: tuple[Database, Services]) -> Starlette:
    return create_app(audited[1])


@pytest.fixture(scope="module")
def merchant(audited: tuple[Database, Services]) -> Merchant:
    return Merchant(audited[1].merchants.register("audited_merchant"))


@pytest.fixture
def client(app: Starlette, merchant: Merchant) -> Iterator[httpx.Client]:
    from opentms.client import ASGIAppTransport

    with httpx.Client(
        transport=ASGIAppTransport(app),
        base_url="http://testserver",
        auth=merchant.signature_auth(),
    ) as c:
        yield c


def rows(database: Database, after: int = 0) -> list[Any]:
    with database.engine.connect() as conn:
        return list(
            conn.execute(
                select(audit_log).where(audit_log.c.seq > after).order_by(audit_log.c.seq)
            ).all()
        )


def last_seq(database: Database) -> int:
    with database.engine.connect() as conn:
        return int(conn.execute(select(func.coalesce(func.max(audit_log.c.seq), 0))).scalar_one())


def summary(row: Any) -> tuple[str, str, list[str], str]:
    return (row.action, row.resource_type, orjson.loads(row.resource_ids), row.outcome)


def hashed(database: Database, ii_id: str) -> str:
    return hash_id(audit_id_key(database), ii_id)


def test_every_audited_operation_records_its_entry(
    database: Database, client: httpx.Client, merchant: Merchant
) -> None:
    start = last_seq(database)
    pan = make_pan()
    created = client.post(II, json={"card": {"number": pan, **EXPIRY}})
    assert created.status_code == 201, created.text
    ii_id = created.json()["id"]
    read = client.get(f"{II}/{ii_id}")
    patched = client.patch(f"{II}/{ii_id}", json={"processingInformation": {}})
    customer = client.post("/tms/v2/customers", json={"buyerInformation": {"email": "a@b.c"}})
    customer_id = customer.json()["id"]
    pi = client.post(
        "/tms/v1/paymentinstruments",
        json={"card": EXPIRY, "instrumentIdentifier": {"id": ii_id}},
    )
    pi_id = pi.json()["id"]
    listed = client.get(f"{II}/{ii_id}/paymentinstruments")
    deleted_pi = client.delete(f"/tms/v1/paymentinstruments/{pi_id}")
    deleted_customer = client.delete(f"/tms/v2/customers/{customer_id}")
    responses = [read, patched, customer, pi, listed, deleted_pi, deleted_customer]
    assert all(r.status_code < 300 for r in responses), [r.text for r in responses]

    entries = rows(database, start)
    actor = merchant_actor(merchant.id, merchant.registration.key_id)
    ii_ref = [hashed(database, ii_id)]
    assert [summary(e) for e in entries] == [
        ("instrumentIdentifier.create", "instrumentIdentifier", ii_ref, "success"),
        ("instrumentIdentifier.read", "instrumentIdentifier", ii_ref, "success"),
        ("instrumentIdentifier.update", "instrumentIdentifier", ii_ref, "success"),
        ("customer.create", "customer", [customer_id], "success"),
        ("paymentInstrument.create", "paymentInstrument", [pi_id], "success"),
        ("instrumentIdentifier.listPaymentInstruments", "instrumentIdentifier", ii_ref, "success"),
        ("paymentInstrument.delete", "paymentInstrument", [pi_id], "success"),
        ("customer.delete", "customer", [customer_id], "success"),
    ]
    assert {e.actor for e in entries} == {actor}
    # One request, one entry here: each carries its response's correlation id.
    answered = [created, *responses]
    assert [e.correlation_id for e in entries] == [
        r.headers["v-c-correlation-id"] for r in answered
    ]
    assert orjson.loads(entries[0].details) == {"created": True}


def test_failures_are_recorded_after_the_rollback(
    database: Database, client: httpx.Client, merchant: Merchant
) -> None:
    start = last_seq(database)
    unknown = "7012345678901234560"
    missing = client.get(f"{II}/{unknown}")
    assert missing.status_code == 404
    invalid = client.post(II, json={"card": {"number": "12"}})
    assert invalid.status_code == 400
    entries = rows(database, start)
    assert [summary(e) for e in entries] == [
        (
            "instrumentIdentifier.read",
            "instrumentIdentifier",
            [hashed(database, unknown)],
            "failure:notFound",
        ),
        ("request", "operation", [], "failure:invalidFields"),
    ]
    assert orjson.loads(entries[1].details) == {"operation": "post_instrument_identifier"}
    assert [e.correlation_id for e in entries] == [
        missing.headers["v-c-correlation-id"],
        invalid.headers["v-c-correlation-id"],
    ]


def test_refused_authentications_are_recorded(
    database: Database, app: Starlette, merchant: Merchant
) -> None:
    from opentms.client import ASGIAppTransport, HTTPSignatureAuth

    start = last_seq(database)
    forged = HTTPSignatureAuth(merchant.id, merchant.registration.key_id, "AAAA" * 11)
    with httpx.Client(
        transport=ASGIAppTransport(app), base_url="http://testserver", auth=forged
    ) as c:
        refused = c.get(f"{II}/7012345678901234560")
    assert refused.status_code == 401
    (entry,) = rows(database, start)
    assert entry.actor == "unauthenticated"
    assert summary(entry) == (
        "authentication",
        "credential",
        [merchant.registration.key_id],
        "failure:bad_signature",
    )
    assert entry.correlation_id == refused.headers["v-c-correlation-id"]


def test_no_card_data_in_the_log(
    database: Database, client: httpx.Client, merchant: Merchant
) -> None:
    pans = [make_pan("411111"), make_pan("545454")]
    cryptograms: list[str] = []
    for pan in list(pans):
        ii = client.post(II, json={"card": {"number": pan, **EXPIRY}})
        assert ii.status_code == 201, ii.text
        ii_id = ii.json()["id"]
        client.get(f"{II}/{ii_id}")
        issued = client.post(credentials_path(ii_id), json={})
        assert issued.status_code == 201, issued.text
        key = merchant.registration.credentials_private_key_pem
        assert key is not None
        payload = json.loads(decrypt(issued.text, key))
        cryptograms.append(payload["tokenizedCard"]["cryptogram"])
        number = payload["tokenizedCard"]["number"]
        pans.append(number)
    # Cards tokenised: the tokenized-card number is card-like too.
    dumped = json.dumps([list(map(str, r)) for r in rows(database)])
    for pan in pans:
        assert pan not in dumped
        assert pan[:6] + pan[-4:] not in dumped
        assert pan[-4:] + pan[:6] not in dumped
    for cryptogram in cryptograms:
        assert cryptogram not in dumped
    actions = [r.action for r in rows(database)]
    assert "paymentCredentials.issue" in actions


def test_a_failing_audit_write_fails_the_operation(
    database: Database, client: httpx.Client
) -> None:
    with database.engine.connect() as conn:
        before = conn.execute(select(func.count()).select_from(instrument_identifiers)).scalar()
    head_before = audit_chain(database).head()
    with database.engine.begin() as conn:
        conn.execute(text("ALTER TABLE audit_log RENAME TO audit_log_away"))
    try:
        response = client.post(II, json={"card": {"number": make_pan(), **EXPIRY}})
    finally:
        with database.engine.begin() as conn:
            conn.execute(text("ALTER TABLE audit_log_away RENAME TO audit_log"))
    assert response.status_code >= 500
    with database.engine.connect() as conn:
        after = conn.execute(select(func.count()).select_from(instrument_identifiers)).scalar()
    assert after == before
    assert audit_chain(database).head() == head_before
    assert audit_chain(database).verify().problem is None


# Tampering -----------------------------------------------------------------


@pytest.fixture
def chain(tmp_path: Path) -> Iterator[tuple[Database, list[int]]]:
    """A vault of its own with 6 entries, to tamper with."""
    with backend_database_url("opentms_tamper") as url:
        database = open_db(make_settings(tmp_path, database_url=url, mode="vault"))
        services = build_services(database.settings, database=database)
        services.merchants.register("tampered")
        app = create_app(services)
        merchant = Merchant(services.merchants.register("tampered_2"))
        from opentms.client import ASGIAppTransport

        with httpx.Client(
            transport=ASGIAppTransport(app),
            base_url="http://testserver",
            auth=merchant.signature_auth(),
        ) as c:
            for _ in range(2):
                ii = c.post(II, json={"card": {"number": make_pan(), **EXPIRY}}).json()
                c.get(f"{II}/{ii['id']}")
        seqs = [r.seq for r in rows(database)]
        assert seqs == [1, 2, 3, 4, 5, 6]
        yield database, seqs
        services.close()
        database.close()


def verify_cli(database: Database) -> tuple[int, str]:
    env = {"OPENTMS_MODE": "vault", "OPENTMS_DATA_DIR": str(database.settings.data_dir)}
    if database.settings.database_url:
        env["OPENTMS_DATABASE_URL"] = database.settings.database_url
    result = CliRunner().invoke(cli, ["audit", "verify", "--batch", "2"], env=env)
    return result.exit_code, result.output


def test_verify_passes_on_an_intact_chain(chain: tuple[Database, list[int]]) -> None:
    database, _ = chain
    code, output = verify_cli(database)
    assert code == 0, output
    _, digest = audit_chain(database).head()
    assert f"head: seq 6 hash {digest.hex()}" in output


def test_verify_finds_an_edited_entry(chain: tuple[Database, list[int]]) -> None:
    database, _ = chain
    with database.engine.begin() as conn:
        conn.execute(update(audit_log).where(audit_log.c.seq == 3).values(outcome="failure:x"))
    code, output = verify_cli(database)
    assert code == 1
    assert "entry 3 was edited" in output


def test_verify_finds_a_deleted_middle_entry(chain: tuple[Database, list[int]]) -> None:
    database, _ = chain
    with database.engine.begin() as conn:
        conn.execute(delete(audit_log).where(audit_log.c.seq == 4))
    code, output = verify_cli(database)
    assert code == 1
    assert "entry 4 missing" in output
    assert "the next one is entry 5" in output


def test_verify_finds_a_truncated_tail(chain: tuple[Database, list[int]]) -> None:
    database, _ = chain
    with database.engine.begin() as conn:
        conn.execute(delete(audit_log).where(audit_log.c.seq == 6))
    code, output = verify_cli(database)
    assert code == 1
    assert "ends at entry 5 but the head says 6" in output


def test_verify_finds_an_inserted_entry(chain: tuple[Database, list[int]]) -> None:
    """A forged entry, hashed correctly onto the last one (anyone can compute
    the chain): only the head betrays it."""
    database, _ = chain
    (last,) = rows(database, 5)
    forged = {**last._asdict(), "seq": 7, "prev_hash": last.hash}
    entry = AuditEntry(
        last.at,
        last.actor,
        last.action,
        last.resource_type,
        tuple(orjson.loads(last.resource_ids)),
        last.outcome,
        last.correlation_id,
        orjson.loads(last.details) if last.details else {},
    )
    forged["hash"] = chain_hash(last.hash, entry.canonical(7))
    with database.engine.begin() as conn:
        conn.execute(audit_log.insert().values(**forged))
    code, output = verify_cli(database)
    assert code == 1
    assert "entries 7 to 7 lie beyond the head" in output


def test_verify_finds_swapped_entries(chain: tuple[Database, list[int]]) -> None:
    database, _ = chain
    with database.engine.begin() as conn:
        conn.execute(update(audit_log).where(audit_log.c.seq == 2).values(seq=-2))
        conn.execute(update(audit_log).where(audit_log.c.seq == 4).values(seq=2))
        conn.execute(update(audit_log).where(audit_log.c.seq == -2).values(seq=4))
    code, output = verify_cli(database)
    assert code == 1
    assert "entry 2 is out of place" in output


def test_verify_finds_a_rewritten_head(chain: tuple[Database, list[int]]) -> None:
    database, _ = chain
    with database.engine.begin() as conn:
        conn.execute(update(audit_head).values(hash=bytes(32)))
    code, output = verify_cli(database)
    assert code == 1
    assert "head's hash is not entry 6's hash" in output


def test_export_recomputes_by_hand(chain: tuple[Database, list[int]], tmp_path: Path) -> None:
    """The export is enough to recompute every hash without opentms's code
    beyond the formula: SHA-256(prevHash || canonical JSON)."""
    import hashlib

    database, _ = chain
    out = tmp_path / "audit.jsonl"
    env = {"OPENTMS_MODE": "vault", "OPENTMS_DATA_DIR": str(database.settings.data_dir)}
    if database.settings.database_url:
        env["OPENTMS_DATABASE_URL"] = database.settings.database_url
    result = CliRunner().invoke(
        cli, ["audit", "export", "--since", "2000-01-01", "--out", str(out)], env=env
    )
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert [line["seq"] for line in lines] == [1, 2, 3, 4, 5, 6]
    previous = bytes(32).hex()
    for line in lines:
        assert line["prevHash"] == previous
        content = {k: v for k, v in line.items() if k not in ("prevHash", "hash")}
        canonical = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        digest = hashlib.sha256(bytes.fromhex(previous) + canonical.encode()).hexdigest()
        assert digest == line["hash"]
        previous = digest
    assert previous == audit_chain(database).head()[1].hex()
    ii_entry = lines[2]
    assert ii_entry["action"] == "instrumentIdentifier.create"
    hashed_cli = CliRunner().invoke(cli, ["audit", "hash", "7011111111111111111"], env=env)
    assert hashed_cli.output.strip() == hash_id(audit_id_key(database), "7011111111111111111")


def test_registration_is_recorded_as_the_cli_operator(chain: tuple[Database, list[int]]) -> None:
    database, _ = chain
    first = rows(database)[0]
    assert first.action == "merchant.register"
    assert first.resource_type == "merchant"
    assert orjson.loads(first.resource_ids)[0] == "tampered"


def test_a_webhook_signing_key_is_recorded_with_its_creation(
    database: Database, client: httpx.Client, merchant: Merchant
) -> None:
    start = last_seq(database)
    key = client.post(
        "/kms/egress/v2/keys-sym",
        json={"clientRequestAction": "CREATE", "keyInformation": {}},
    )
    assert key.status_code == 201, key.text
    (entry,) = rows(database, start)
    assert entry.action == "webhookKey.create"
    assert entry.actor == merchant_actor(merchant.id, merchant.registration.key_id)
    assert entry.correlation_id == key.headers["v-c-correlation-id"]
    # The key id, never the key.
    assert key.json()["keyInformation"]["key"] not in str(tuple(entry))


def test_a_cli_registration_is_the_operators(
    chain: tuple[Database, list[int]], tmp_path: Path
) -> None:
    import getpass

    database, _ = chain
    env = {"OPENTMS_MODE": "vault", "OPENTMS_DATA_DIR": str(database.settings.data_dir)}
    if database.settings.database_url:
        env["OPENTMS_DATABASE_URL"] = database.settings.database_url
    result = CliRunner().invoke(
        cli, ["merchants", "create", "by_cli", "--out", str(tmp_path / "bundle")], env=env
    )
    assert result.exit_code == 0, result.output
    (entry,) = rows(database, 6)
    assert (entry.actor, entry.action) == (cli_actor(getpass.getuser()), "merchant.register")
    assert orjson.loads(entry.resource_ids)[0] == "by_cli"
    # The operator's scope ended with the command.
    assert current_scope().actor == "system"
