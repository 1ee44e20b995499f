"""GET /readyz answers what the readiness port says."""

from __future__ import annotations

import dataclasses

from opentms.adapters.http.app import create_app
from opentms.bootstrap import Services
from tests.conftest import client_for
from tests.support import Merchant


class NotReady:
    def unready_reason(self) -> str | None:
        return "The schema is at 0003, not 0004."


def test_readyz_is_a_503_with_the_reason_when_the_database_is_not_ready(
    services: Services, merchant: Merchant
) -> None:
    app = create_app(dataclasses.replace(services, readiness=NotReady()))
    with client_for(app, merchant) as client:
        response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json() == {
        "errors": [{"type": "notAvailable", "message": "The schema is at 0003, not 0004."}]
    }
