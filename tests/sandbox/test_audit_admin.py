"""The audit log in a sandbox: off unless asked for (OPENTMS_AUDIT_LOG), and
then the admin API's operations are the actor ``admin``'s."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import orjson
from sqlalchemy import select

from opentms.adapters.http.app import create_app
from opentms.adapters.storage.tables import audit_log
from opentms.bootstrap import build_services, open_database
from opentms.client import ASGIAppTransport
from tests.conftest import make_settings
from tests.support import backend_database_url

TOKEN = "an-admin-token-of-the-audit-test"


def register_over_the_admin_api(data_dir: Path, audit_log_setting: bool | None) -> list[Any]:
    with backend_database_url("opentms_audit_admin") as url:
        overrides: dict[str, object] = {"database_url": url, "admin_token": TOKEN}
        if audit_log_setting is not None:
            overrides["audit_log"] = audit_log_setting
        settings = make_settings(data_dir, **overrides)
        database = open_database(settings)
        services = build_services(settings, database=database)
        try:
            with httpx.Client(
                transport=ASGIAppTransport(create_app(services)),
                base_url="http://testserver/opentms/v1/sandbox",
                headers={"authorization": f"Bearer {TOKEN}", "v-c-correlation-id": "admin-1"},
            ) as admin:
                created = admin.post("/merchants", json={"merchantId": "by_admin"})
                assert created.status_code == 201, created.text
            with database.engine.connect() as conn:
                return list(conn.execute(select(audit_log).order_by(audit_log.c.seq)).all())
        finally:
            services.close()
            database.close()


def test_a_sandbox_records_nothing_by_default(tmp_path: Path) -> None:
    assert register_over_the_admin_api(tmp_path, None) == []


def test_admin_operations_are_the_admins(tmp_path: Path) -> None:
    (entry,) = register_over_the_admin_api(tmp_path, True)
    assert entry.actor == "admin"
    assert entry.action == "merchant.register"
    assert orjson.loads(entry.resource_ids)[0] == "by_admin"
    assert entry.correlation_id == "admin-1"
