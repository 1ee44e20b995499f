"""The audit log with two server processes on one database (docs/security.md,
"Audit log", one serialised chain): concurrent writes and reads from both
workers leave one chain that verifies, with exactly one entry per operation.
PostgreSQL when OPENTMS_TEST_BACKEND is postgresql (the head row locked until
commit orders the workers), else SQLite (its write lock does)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
from sqlalchemy import func, select

from opentms.adapters.storage.tables import audit_log
from opentms.bootstrap import audit_chain, build_services, open_database
from opentms.client import HTTPSignatureAuth
from tests.conftest import make_settings
from tests.sandbox.served import serve
from tests.support import backend_database_url, make_pan

THREADS = 8
CARDS_PER_THREAD = 15  # each: a create and a read, so 2 entries


def test_two_processes_keep_one_verifiable_chain(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    with backend_database_url("opentms_audit_mp") as url:
        settings = make_settings(data_dir, database_url=url, mode="vault")
        database = open_database(settings)
        services = build_services(settings, database=database)
        registration = services.merchants.register("two_workers")
        services.close()
        auth = HTTPSignatureAuth(
            registration.merchant_id, registration.key_id, registration.shared_secret
        )
        environment = {"OPENTMS_MODE": "vault"}
        with serve(
            tmp_path, workers=2, database_url=url, environment=environment, data_dir=data_dir
        ) as served:

            def work(_: int) -> int:
                done = 0
                with httpx.Client(base_url=served.url, auth=auth, timeout=30) as client:
                    for _ in range(CARDS_PER_THREAD):
                        body = {"card": {"number": make_pan(), "expirationMonth": "12"}}
                        created = client.post("/tms/v1/instrumentidentifiers", json=body)
                        assert created.status_code == 201, created.text
                        ii_id = created.json()["id"]
                        read = client.get(f"/tms/v1/instrumentidentifiers/{ii_id}")
                        assert read.status_code == 200, read.text
                        done += 2
                return done

            with ThreadPoolExecutor(THREADS) as pool:
                operations = sum(pool.map(work, range(THREADS)))
        report = audit_chain(database).verify(batch=7)
        with database.engine.connect() as conn:
            count = conn.execute(select(func.count()).select_from(audit_log)).scalar_one()
            actions = conn.execute(
                select(audit_log.c.action, func.count()).group_by(audit_log.c.action)
            ).all()
        database.close()
    assert report.problem is None, report.problem
    # The registration, then one entry per operation, none lost, none doubled.
    assert count == operations + 1 == report.verified
    assert dict(actions) == {
        "merchant.register": 1,
        "instrumentIdentifier.create": THREADS * CARDS_PER_THREAD,
        "instrumentIdentifier.read": THREADS * CARDS_PER_THREAD,
    }
