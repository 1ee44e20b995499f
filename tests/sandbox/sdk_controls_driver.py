"""Drives one sandbox's controls with the official CyberSource Python SDK as
the TMS client (issue 11, "Done when"): reset between two SDK scenarios, the
journal naming an SDK request's failed signature, a fault the SDK raises on
and recovers from, a snapshot round trip, token expiry by the clock, and the
ids a fixed sequence of SDK calls is given (compared across two servers by
``test_sdk_controls.py``).

Runs in the SDK's virtualenv (like ``tests/conformance/python_sdk_driver.py``):
``python -m tests.sandbox.sdk_controls_driver --server-url URL --admin-token T
--merchant M --mode MODE --report FILE [--ids-only]``. The admin API is called
with the standard library.
"""

from __future__ import annotations

import argparse
import base64
import json
import secrets
import sys
import urllib.error
import urllib.request
from dataclasses import asdict
from pathlib import Path
from typing import Any

from CyberSource import (  # type: ignore[import-not-found]
    CustomerApi,
    InstrumentIdentifierApi,
    NetworkTokensApi,
    PaymentInstrumentApi,
)

from tests.conformance.python_sdk_network import credentials_body
from tests.conformance.python_sdk_support import (
    MODES,
    Merchant,
    Report,
    attr,
    customer_body,
    failure,
    ii_body,
    make_pan,
    merchant_config,
    pi_body,
)

REPORT_IDS = "ids"


class Admin:
    """The sandbox admin API, over urllib."""

    def __init__(self, url: str, token: str) -> None:
        self.base = url.rstrip("/") + "/opentms/v1/sandbox"
        self.token = token

    def call(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(  # noqa: S310 - the test server's URL
            self.base + path,
            data=data,
            method=method,
            headers={"authorization": f"Bearer {self.token}", "content-type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
                raw = response.read()
                return response.status, json.loads(raw) if raw else None
        except urllib.error.HTTPError as error:
            raw = error.read()
            return error.code, json.loads(raw) if raw else None

    def ok(self, method: str, path: str, body: Any = None) -> Any:
        status, answer = self.call(method, path, body)
        if status >= 300:
            raise RuntimeError(f"admin {method} {path}: HTTP {status} {answer}")
        return answer


class Scenarios:
    def __init__(self, report: Report, admin: Admin, m: Merchant) -> None:
        self.r = report
        self.admin = admin
        self.m = m
        self.customers = m.api(CustomerApi)

    def new_customer(self, api: Any = None) -> Any:
        created, _, _ = (api or self.customers).post_customer_with_http_info(
            customer_body("sdk-" + secrets.token_hex(6))
        )
        return created

    def reset_between_scenarios(self) -> None:
        r = self.r
        first = self.new_customer()
        self.admin.ok("POST", "/reset", {})
        r.error(
            "reset: the first scenario's customer is gone (404)",
            failure(self.customers.get_customer, first.id),
            (404,),
        )
        second = self.new_customer()
        r.check("reset: the merchant still authenticates; a new customer", second.id, second)
        r.check("reset: the second customer is not the first", second.id != first.id, second.id)

    def journal_names_a_failed_signature(self) -> None:
        r = self.r
        self.admin.ok("DELETE", "/journal")
        wrong = base64.b64encode(secrets.token_bytes(32)).decode()
        forged = self.m.with_config({"merchant_secretkey": wrong})
        exc = failure(forged.api(CustomerApi).post_customer, customer_body("forged"))
        r.error("journal: the SDK with a wrong secret gets 401", exc, (401,))
        answer = self.admin.ok("GET", "/journal?status=401")
        entries = answer["entries"]
        r.check("journal: the refused request is there", entries, answer)
        if not entries:
            return
        entry = entries[0]
        auth = entry["authentication"]
        r.equal("journal: verdict refused", auth["verdict"], "refused")
        r.check("journal: a reason code", auth["reason"], auth)
        r.equal(
            "journal: POST /tms/v2/customers",
            (entry["method"], entry["path"]),
            ("POST", "/tms/v2/customers"),
        )
        if self.m.config["authentication_type"] == "http_signature":
            r.equal("journal: reason bad_signature", auth["reason"], "bad_signature")
            signed = auth.get("signedString") or ""
            r.check(
                "journal: the string the server signed, request-target and merchant in it",
                "request-target: post /tms/v2/customers" in signed
                and f"v-c-merchant-id: {self.m.merchant_id}" in signed,
                signed,
            )
        r.check("journal: the wrong secret is not in it", wrong not in json.dumps(entry), entry)

    def fault_then_recovery(self) -> None:
        r = self.r
        rule = self.admin.ok(
            "POST",
            "/faults",
            {"method": "POST", "path": "/tms/v2/customers", "status": 503, "times": 1},
        )
        before = self.admin.ok("GET", "/journal?path=/tms/v2/customers&method=POST")["total"]
        r.error(
            "fault: the SDK raises HTTP 503",
            failure(self.customers.post_customer, customer_body("f1")),
            (503,),
        )
        r.check("fault: the next call succeeds", self.new_customer().id, "")
        fired = self.admin.ok("GET", f"/faults/{rule['id']}")
        r.equal("fault: fired once", fired["hits"], 1)
        after = self.admin.ok("GET", "/journal?path=/tms/v2/customers&method=POST")["total"]
        r.equal("fault: both calls journalled", after - before, 2)
        self.admin.ok(
            "POST", "/faults", {"path": "/tms/v2/customers", "connection": "reset", "times": 1}
        )
        try:
            self.customers.post_customer(customer_body("f2"))
        except Exception as exc:  # urllib3's error, as the SDK raises it
            r.check("fault: a reset connection makes the SDK raise", True, type(exc).__name__)
        else:
            r.check("fault: a reset connection makes the SDK raise", False, "the call succeeded")
        r.check("fault: after the reset, the next call succeeds", self.new_customer().id, "")
        self.admin.ok("DELETE", "/faults")

    def snapshot_round_trip(self) -> None:
        r = self.r
        kept = self.new_customer()
        self.admin.call("DELETE", "/snapshots/sdk-round-trip")
        self.admin.ok("POST", "/snapshots", {"name": "sdk-round-trip"})
        later = self.new_customer()
        self.customers.delete_customer(kept.id)
        r.error(
            "snapshot: the customer is deleted",
            failure(self.customers.get_customer, kept.id),
            (404, 410),
        )
        self.admin.ok("POST", "/snapshots/sdk-round-trip/restore")
        back, _, _ = self.customers.get_customer_with_http_info(kept.id)
        r.equal("snapshot: the deleted customer is back", back.id, kept.id)
        r.equal(
            "snapshot: with its merchantCustomerID",
            attr(back, "client_reference_information.code"),
            attr(kept, "client_reference_information.code"),
        )
        r.error(
            "snapshot: the later customer is gone",
            failure(self.customers.get_customer, later.id),
            (404,),
        )
        self.admin.ok("DELETE", "/snapshots/sdk-round-trip")

    def expiry_by_the_clock(self) -> None:
        r = self.r
        tokens = self.m.api(NetworkTokensApi)
        ii, _, _ = self.m.api(InstrumentIdentifierApi).post_instrument_identifier_with_http_info(
            ii_body(make_pan("411111"))
        )
        r.equal(
            "clock: the II has an active network token", attr(ii, "tokenized_card.state"), "ACTIVE"
        )
        body = credentials_body(2)
        _, status, _ = tokens.post_token_payment_credentials(ii.id, body)
        r.equal("clock: credentials before the expiry", status, 201)
        self.admin.ok("POST", "/clock", {"advance": f"P{4 * 366}D"})
        try:
            exc = failure(tokens.post_token_payment_credentials, ii.id, body)
            r.error("clock: past the token's expiry the SDK gets 403", exc, (403,))
            message = json.loads(exc.body)["errors"][0]["message"] if exc is not None else ""
            r.check("clock: the message says it expired", "expired" in message, message)
        finally:
            self.admin.ok("DELETE", "/clock")
        _, status, _ = tokens.post_token_payment_credentials(ii.id, body)
        r.equal("clock: back in real time, credentials again", status, 201)


def id_sequence(m: Merchant) -> list[str]:
    """The ids a fixed sequence of SDK calls is given: a customer, an II with
    a fixed card, its network token, a payment instrument."""
    customer, _, _ = m.api(CustomerApi).post_customer_with_http_info(customer_body("deterministic"))
    ii, _, _ = m.api(InstrumentIdentifierApi).post_instrument_identifier_with_http_info(
        ii_body("4111111111111111")
    )
    pi, _, _ = m.api(PaymentInstrumentApi).post_payment_instrument_with_http_info(pi_body(ii.id))
    token = attr(ii, "tokenized_card") or {}
    return [customer.id, ii.id, pi.id, str(attr(token, "number"))]


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--server-url", required=True)
    parser.add_argument("--admin-token", required=True)
    parser.add_argument("--merchant", required=True)
    parser.add_argument("--mode", choices=MODES, default="http_signature")
    parser.add_argument("--report", type=Path, required=True)
    parser.add_argument("--ids-only", action="store_true")
    args = parser.parse_args(argv)
    admin = Admin(args.server_url, args.admin_token)
    report = Report(args.mode)
    result: dict[str, Any] = {}
    try:
        status, bundle = admin.call("POST", "/merchants", {"merchantId": args.merchant})
        if status == 409:
            raise SystemExit(f"merchant {args.merchant} exists; give a new one")
        if status != 201:
            raise RuntimeError(f"POST /merchants: HTTP {status} {bundle}")
        m = merchant_config(args.mode, bundle, args.report.parent, args.server_url)
        if args.ids_only:
            result[REPORT_IDS] = id_sequence(m)
        else:
            scenarios = Scenarios(report, admin, m)
            for scenario in (
                scenarios.reset_between_scenarios,
                scenarios.journal_names_a_failed_signature,
                scenarios.fault_then_recovery,
                scenarios.snapshot_round_trip,
                scenarios.expiry_by_the_clock,
            ):
                with report.step(scenario.__name__):
                    scenario()
        report.completed = True
    finally:
        args.report.write_text(json.dumps({**asdict(report), **result}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
