"""A vault (not a sandbox) serves the webhook API too: it is part of the TMS
API, not a sandbox control."""

from __future__ import annotations

from pathlib import Path

import httpx

from opentms.adapters.http.app import create_app
from opentms.bootstrap import build_services
from opentms.client import ASGIAppTransport
from tests.conftest import make_settings
from tests.support import Merchant
from tests.webhooks.api.conftest import WEBHOOKS, Receiver, create_webhook


def test_a_vault_serves_the_webhook_api(tmp_path: Path, receiver: Receiver) -> None:
    services = build_services(
        make_settings(tmp_path / "vault", mode="vault", webhook_allowed_destinations="127.0.0.1")
    )
    try:
        assert services.sandbox is None
        merchant = Merchant(services.merchants.register("vault_merchant"))
        with httpx.Client(
            transport=ASGIAppTransport(create_app(services)),
            base_url="http://testserver",
            auth=merchant.auth("signature"),
        ) as client:
            products = client.get(f"/notification-subscriptions/v2/products/{merchant.id}")
            assert products.status_code == 200
            created = create_webhook(client, receiver.url)
            assert created["status"] == "ACTIVE"
            assert client.get(f"{WEBHOOKS}/{created['webhookId']}").status_code == 200
            key = client.post(
                "/kms/egress/v2/keys-sym",
                json={"clientRequestAction": "CREATE", "keyInformation": {}},
            )
            assert key.status_code == 201
    finally:
        services.close()
