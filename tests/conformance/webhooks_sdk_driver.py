"""Drives TMS webhooks with the official CyberSource Python SDK (issue 12,
"Done when"): ``CreateNewWebhooksApi`` creates a signing key and a v2
subscription to ``tms.networktoken.*`` pointing at the receiver the test runs,
``ManageWebhooksApi`` lists, gets and test-sends it, and ``NetworkTokensApi``
creates a tokenized card and runs issuer life-cycle simulations on it. The
test (``test_webhooks_sdk.py``) then waits for the notifications at its
receiver and verifies them with the key written into the report.

Runs in the SDK's virtualenv (like ``python_sdk_driver.py``):
``python -m tests.conformance.webhooks_sdk_driver --server-url URL
--admin-token T --merchant M --receiver-url URL --report FILE``.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict
from pathlib import Path
from typing import Any

from CyberSource import (  # type: ignore[import-not-found]
    CreateNewWebhooksApi,
    CreateWebhook,
    Kmsegressv2keyssymClientReferenceInformation,
    Kmsegressv2keyssymKeyInformation,
    ManageWebhooksApi,
    NetworkTokensApi,
    Notificationsubscriptionsv2webhooksProducts1,
    Notificationsubscriptionsv2webhooksRetryPolicy,
    Notificationsubscriptionsv2webhooksSecurityPolicy,
    SaveSymEgressKey,
)

from tests.conformance.python_sdk_network import life_cycle_body, tokenized_card_body
from tests.conformance.python_sdk_support import (
    MODES,
    Merchant,
    Report,
    attr,
    del_none,
    make_pan,
    merchant_config,
    sample_body,
)
from tests.sandbox.sdk_controls_driver import Admin

PRODUCT = "tokenManagement"
EVENT_TYPES = ["tms.networktoken.provisioned", "tms.networktoken.updated"]
# What the test expects at its receiver for the tokenized card, in any order:
# (eventType, payload.data.reason, the tokenized card's state in _links).
EXPECTED = [
    ("tms.networktoken.provisioned", "PROVISIONED", "ACTIVE"),
    ("tms.networktoken.updated", "TOKEN_STATUS_UPDATED", "SUSPENDED"),
    ("tms.networktoken.updated", "TOKEN_STATUS_UPDATED", "ACTIVE"),
    ("tms.networktoken.updated", "CARD_UPDATED", "ACTIVE"),
]


def key_body(merchant_id: str) -> str:
    """As CyberSource's sample ``create-webhook-symmetric-key.py``."""
    information = Kmsegressv2keyssymKeyInformation(
        provider="nrtd",
        tenant=merchant_id,
        key_type="sharedSecret",
        organization_id=merchant_id,
        expiry_duration="365",
    )
    reference = Kmsegressv2keyssymClientReferenceInformation(code="opentms-webhooks-e2e")
    return sample_body(
        SaveSymEgressKey(
            client_reference_information=reference.__dict__,
            client_request_action="CREATE",
            key_information=information.__dict__,
        )
    )


def webhook_body(merchant_id: str, receiver: str) -> str:
    """A v2 subscription (SDK ``docs/CreateWebhook.md``) to the network-token events."""
    products = Notificationsubscriptionsv2webhooksProducts1(
        product_id=PRODUCT, event_types=EVENT_TYPES
    )
    retry = Notificationsubscriptionsv2webhooksRetryPolicy(
        algorithm="ARITHMETIC",
        first_retry=1,
        interval=1,
        number_of_retries=3,
        deactivate_flag="false",
        repeat_sequence_count=0,
        repeat_sequence_wait_time=0,
    )
    security = Notificationsubscriptionsv2webhooksSecurityPolicy(security_type="key")
    return sample_body(
        CreateWebhook(
            name="opentms e2e",
            description="network-token life cycle, verified by the test's receiver",
            organization_id=merchant_id,
            products=[del_none(dict(products.__dict__))],
            webhook_url=f"{receiver}/webhooks",
            health_check_url=f"{receiver}/health",
            retry_policy=retry.__dict__,
            notification_scope="SELF",
            security_policy=security.__dict__,
        )
    )


class Scenario:
    def __init__(self, report: Report, m: Merchant, receiver: str) -> None:
        self.r = report
        self.m = m
        self.receiver = receiver
        self.create = m.api(CreateNewWebhooksApi)
        self.manage = m.api(ManageWebhooksApi)
        self.tokens = m.api(NetworkTokensApi)
        self.result: dict[str, Any] = {}

    def signing_key(self) -> None:
        r, merchant = self.r, self.m.merchant_id
        answer, status, _ = self.create.save_sym_egress_key_with_http_info(
            save_sym_egress_key=key_body(merchant)
        )
        r.check("key: created (2xx)", 200 <= status < 300, status)
        key_id, key = attr(answer, "key_information.key_id"), attr(answer, "key_information.key")
        r.check("key: a keyId", key_id, answer)
        r.check("key: the key, shown once", key, "no keyInformation.key")
        r.equal("key: sharedSecret", attr(answer, "key_information.key_type"), "sharedSecret")
        r.equal("key: for the merchant", attr(answer, "key_information.organization_id"), merchant)
        self.result |= {"keyId": key_id, "key": key}

    def products(self) -> None:
        products, status, _ = self.create.find_products_to_subscribe_with_http_info(
            self.m.merchant_id
        )
        self.r.equal("products: 200", status, 200)
        tms = [p for p in products or [] if attr(p, "product_id") == PRODUCT]
        names = {attr(e, "event_name") for p in tms for e in (attr(p, "event_types") or [])}
        self.r.check(
            "products: tokenManagement offers the network-token events",
            set(EVENT_TYPES) <= names,
            names,
        )

    def subscribe(self) -> None:
        r, merchant = self.r, self.m.merchant_id
        webhook, status, _ = self.create.notification_subscriptions_v2_webhooks_post_with_http_info(
            create_webhook=webhook_body(merchant, self.receiver)
        )
        r.check("create: 2xx", 200 <= status < 300, status)
        webhook_id = attr(webhook, "webhook_id")
        r.check("create: a webhookId", webhook_id, webhook)
        r.equal("create: for the merchant", attr(webhook, "organization_id"), merchant)
        r.equal(
            "create: the receiver's URL", attr(webhook, "webhook_url"), f"{self.receiver}/webhooks"
        )
        # The health check answered inline, at create.
        r.equal("create: ACTIVE (the health check answered)", attr(webhook, "status"), "ACTIVE")
        products = [
            (attr(p, "product_id"), sorted(attr(p, "event_types") or []))
            for p in attr(webhook, "products") or []
        ]
        r.equal("create: the products", products, [(PRODUCT, sorted(EVENT_TYPES))])
        self.result["webhookId"] = webhook_id

        listed, status, _ = self.manage.get_webhook_subscriptions_by_org_with_http_info(
            merchant, product_id=PRODUCT
        )
        r.equal("list: 200", status, 200)
        r.check(
            "list: the new webhook is listed",
            webhook_id in [attr(w, "webhook_id") for w in listed or []],
            listed,
        )
        fetched, status, _ = self.manage.get_webhook_subscription_by_id_with_http_info(webhook_id)
        r.equal("get: 200", status, 200)
        r.equal("get: the same webhook", attr(fetched, "webhook_id"), webhook_id)
        r.equal("get: ACTIVE", attr(fetched, "status"), "ACTIVE")
        r.equal(
            "get: its health-check URL",
            attr(fetched, "health_check_url"),
            f"{self.receiver}/health",
        )

    def test_send(self) -> None:
        webhook_id = self.result["webhookId"]
        sample, status, _ = (
            self.manage.notification_subscriptions_v1_webhooks_webhook_id_post_with_http_info(
                webhook_id
            )
        )
        self.r.check("test-send: 2xx", 200 <= status < 300, status)
        self.r.equal("test-send: this webhook", attr(sample, "webhook_id"), webhook_id)
        self.r.check("test-send: a sample payloads member", attr(sample, "payloads"), sample)

    def life_cycle(self) -> None:
        r, pan = self.r, make_pan("411111")
        created, status, _ = self.tokens.post_tokenized_card_with_http_info(
            tokenized_card_body(pan)
        )
        card = created.tokenized_card
        r.check("tokenized card: 200/201", status in (200, 201), status)
        r.equal("tokenized card: ACTIVE", attr(card, "state"), "ACTIVE")
        self.result |= {"tokenizedCardId": card.id, "cardNumber": pan}
        profile = self.m.default_profile_id
        for name, body in (
            ("SUSPENDED", life_cycle_body("SUSPENDED")),
            ("ACTIVE", life_cycle_body("ACTIVE")),
            ("card update", life_cycle_body(last4="9876")),
        ):
            _, status, _ = self.tokens.post_issuer_life_cycle_simulation(profile, card.id, body)
            r.equal(f"life cycle {name}: 204", status, 204)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--server-url", required=True)
    parser.add_argument("--admin-token", required=True)
    parser.add_argument("--merchant", required=True)
    parser.add_argument("--receiver-url", required=True)
    parser.add_argument("--mode", choices=MODES, default="http_signature")
    parser.add_argument("--report", type=Path, required=True)
    args = parser.parse_args(argv)
    admin = Admin(args.server_url, args.admin_token)
    report = Report(args.mode)
    scenario: Scenario | None = None
    try:
        status, bundle = admin.call("POST", "/merchants", {"merchantId": args.merchant})
        if status != 201:
            raise RuntimeError(f"POST /merchants: HTTP {status} {bundle}")
        m = merchant_config(args.mode, bundle, args.report.parent, args.server_url)
        scenario = Scenario(report, m, args.receiver_url.rstrip("/"))
        for step in (
            scenario.signing_key,
            scenario.products,
            scenario.subscribe,
            scenario.test_send,
            scenario.life_cycle,
        ):
            with report.step(step.__name__):
                step()
        report.completed = True
    finally:
        result = scenario.result if scenario else {}
        args.report.write_text(
            json.dumps({**asdict(report), "result": result, "expected": EXPECTED}, indent=2)
        )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
