"""Drive a running opentms with the official CyberSource Python SDK.

This module runs in the SDK's own virtualenv (``cybersource-rest-client-python``
0.0.80), never in the project's: the SDK replaces urllib3 with urllib3-future.
It imports only the standard library, the SDK (and its own dependencies) and
its sibling modules; ``test_python_sdk.py`` starts it as
``python -m tests.conformance.python_sdk_driver`` with that venv's interpreter
and the repository root on ``PYTHONPATH``, once per authentication mode.

The scenarios live in three modules: this one (instrument identifiers, payment
instruments, customers and their shipping addresses), ``python_sdk_network.py``
(network tokens: payment credentials, tokenized cards, the issuer life cycle,
card art, enrollment) and ``python_sdk_encryption.py`` (tokenize with request
MLE, response MLE). ``python_sdk_support.py`` holds what they share.

It calls the SDK the way its users and the official samples do: the config
dicts of ``sdk-wire-captures.md`` §2 (numbers, never booleans, in them), request
bodies as JSON strings (sample-style from the SDK's models with
``json.dumps(del_none(model.__dict__))``, or plain camelCase dicts), and the
``*_with_http_info`` variants, the only ones that expose response headers
(``ETag``).

Every expectation is a named check. The report written to ``--report`` is
``{"mode", "completed", "checks": [{"name", "passed", "detail"}]}``; nothing is
written to stdout on purpose, because the SDK prints notices there.

The SDK is untyped and absent from the project venv, so its imports carry
``type: ignore[import-not-found]`` and its objects are ``Any``; everything else
passes ``mypy --strict`` like the rest of ``tests/``.
"""

from __future__ import annotations

import argparse
import json
import secrets
import sys
import uuid
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any

from CyberSource import (  # type: ignore[import-not-found]
    CustomerApi,
    CustomerPaymentInstrumentApi,
    CustomerShippingAddressApi,
    DefaultShippingAddressShipTo,
    InstrumentIdentifierApi,
    PatchCustomerPaymentInstrumentRequest,
    PatchCustomerRequest,
    PatchCustomerShippingAddressRequest,
    PaymentInstrumentApi,
    PostCustomerPaymentInstrumentRequest,
    Tmsv2tokenizeTokenInformationCustomerDefaultPaymentInstrument,
)

from tests.conformance.python_sdk_encryption import EncryptionScenarios
from tests.conformance.python_sdk_network import NetworkScenarios
from tests.conformance.python_sdk_support import (
    GONE,
    MODES,
    Merchant,
    Report,
    address_body,
    customer_body,
    etag_of,
    failure,
    ii_body,
    make_pan,
    masked,
    merchant_config,
    pi_body,
    sample_body,
)

PREVIOUS_TRANSACTION_ID = "123456789012345"

Scenario = Callable[[], None]


# -- scenarios ----------------------------------------------------------------


class Driver:
    """The scenarios, for merchant ``m`` (and ``other``, who must see nothing of it)."""

    def __init__(self, report: Report, m: Merchant, other: Merchant, extra_profile: str) -> None:
        self.r = report
        self.m = m
        self.other = other
        self.extra_profile = extra_profile
        self.iis = m.api(InstrumentIdentifierApi)
        self.pis = m.api(PaymentInstrumentApi)
        self.customers = m.api(CustomerApi)
        self.cpis = m.api(CustomerPaymentInstrumentApi)
        self.addresses = m.api(CustomerShippingAddressApi)

    def scenarios(self) -> list[Scenario]:
        return [self.instrument_identifiers, self.customer_lifecycle]

    # -- instrument identifiers and standalone payment instruments ----------

    def instrument_identifiers(self) -> None:
        r, pan = self.r, make_pan()
        ii, status, headers = self.iis.post_instrument_identifier_with_http_info(ii_body(pan))
        r.equal("ii.create: status 201", status, 201)
        r.check("ii.create: has an id", isinstance(ii.id, str) and ii.id, f"id {ii.id!r}")
        r.equal("ii.create: card number masked", ii.card.number if ii.card else None, masked(pan))
        r.equal("ii.create: object", ii.object, "instrumentIdentifier")
        r.equal("ii.create: state", ii.state, "ACTIVE")
        r.check("ii.create: ETag header", etag_of(headers), dict(headers))
        with r.step("ii.create same card"):
            again, status, _ = self.iis.post_instrument_identifier_with_http_info(ii_body(pan))
            r.equal("ii.create same card: status 200", status, 200)
            r.equal("ii.create same card: same id", again.id, ii.id)
        with r.step("ii.retrieve/patch"):
            self.ii_retrieve_and_patch(ii.id)

        pi = self.standalone_pi(ii.id)
        with r.step("ii.list payment instruments"):
            self.ii_payment_instruments(ii.id, pi.id)
        with r.step("pi.retrieve/patch"):
            self.pi_retrieve_and_patch(pi.id)
        self.ii_delete_rules(ii.id, pi.id)

    def ii_retrieve_and_patch(self, ii_id: str) -> None:
        r = self.r
        got, status, headers = self.iis.get_instrument_identifier_with_http_info(
            ii_id, retrieve_bin_details=True
        )
        r.equal("ii.retrieve(retrieve_bin_details=True): status 200", status, 200)
        r.equal("ii.retrieve: id", got.id, ii_id)
        lookup = got.embedded.bin_lookup if got.embedded else None
        r.check("ii.retrieve: _embedded.binLookup present", lookup is not None, got.embedded)
        card = lookup.payment_account_information.card if lookup else None
        r.equal("ii.retrieve: binLookup card type (visa)", getattr(card, "type", None), "001")
        etag = etag_of(headers)
        r.check("ii.retrieve: ETag header", etag, dict(headers))

        mit = {"merchantInitiatedTransaction": {"previousTransactionId": PREVIOUS_TRANSACTION_ID}}
        patch = json.dumps({"processingInformation": {"authorizationOptions": {"initiator": mit}}})
        patched, status, headers = self.iis.patch_instrument_identifier_with_http_info(
            ii_id, patch, if_match=etag
        )
        r.equal("ii.patch(if_match=ETag): status 200", status, 200)
        info = patched.processing_information
        options = info.authorization_options if info else None
        stored = options.initiator.merchant_initiated_transaction if options else None
        r.equal(
            "ii.patch: previousTransactionId stored",
            getattr(stored, "previous_transaction_id", None),
            PREVIOUS_TRANSACTION_ID,
        )
        new_etag = etag_of(headers)
        r.check("ii.patch: ETag changed", new_etag and new_etag != etag, f"{etag} -> {new_etag}")
        stale = failure(
            self.iis.patch_instrument_identifier_with_http_info, ii_id, patch, if_match=etag
        )
        r.error("ii.patch(if_match=stale ETag): 412 conflict", stale, (412,), "conflict")
        current = etag_of(stale.headers) if stale is not None else None
        r.equal("ii.patch(if_match=stale ETag): the 412 gives the current ETag", current, new_etag)
        _, status, _ = self.iis.patch_instrument_identifier_with_http_info(
            ii_id, patch, if_match=current
        )
        r.equal("ii.patch(if_match=the 412's ETag): status 200", status, 200)
        r.error(
            'ii.patch(if_match="999999"): 412 conflict',
            failure(self.iis.patch_instrument_identifier, ii_id, patch, if_match='"999999"'),
            (412,),
            "conflict",
        )

    def standalone_pi(self, ii_id: str) -> Any:
        r = self.r
        pi, status, _ = self.pis.post_payment_instrument_with_http_info(pi_body(ii_id))
        r.equal("pi.create: status 201", status, 201)
        r.check("pi.create: has an id", isinstance(pi.id, str) and pi.id, f"id {pi.id!r}")
        r.equal("pi.create: object", pi.object, "paymentInstrument")
        r.equal("pi.create: instrumentIdentifier.id", pi.instrument_identifier.id, ii_id)
        embedded = pi.embedded.instrument_identifier if pi.embedded else None
        r.equal(
            "pi.create: _embedded.instrumentIdentifier.id", getattr(embedded, "id", None), ii_id
        )
        r.equal(
            "pi.create: billTo.firstName", pi.bill_to.first_name if pi.bill_to else None, "John"
        )
        r.equal("pi.create: card.type", pi.card.type if pi.card else None, "001")
        return pi

    def ii_payment_instruments(self, ii_id: str, pi_id: str) -> None:
        listed, status, _ = (
            self.iis.get_instrument_identifier_payment_instruments_list_with_http_info(
                ii_id, offset=0, limit=10
            )
        )
        self.r.equal("ii.list payment instruments: status 200", status, 200)
        items = listed.embedded.payment_instruments if listed.embedded else None
        self.r.equal(
            "ii.list payment instruments: total/count/ids",
            (listed.total, listed.count, [p.id for p in items or []]),
            (1, 1, [pi_id]),
        )

    def pi_retrieve_and_patch(self, pi_id: str) -> None:
        r = self.r
        got, status, headers = self.pis.get_payment_instrument_with_http_info(
            pi_id, retrieve_bin_details=True
        )
        r.equal("pi.retrieve(retrieve_bin_details=True): status 200", status, 200)
        r.equal("pi.retrieve: id", got.id, pi_id)
        etag = etag_of(headers)
        r.check("pi.retrieve: ETag header", etag, dict(headers))
        patch = json.dumps({"billTo": {"email": "updated@example.com"}})
        patched, status, _ = self.pis.patch_payment_instrument_with_http_info(
            pi_id, patch, if_match=etag
        )
        r.equal("pi.patch(if_match=ETag): status 200", status, 200)
        email = patched.bill_to.email if patched.bill_to else None
        r.equal("pi.patch: billTo.email updated", email, "updated@example.com")
        r.error(
            "pi.patch(if_match=stale ETag): 412 conflict",
            failure(self.pis.patch_payment_instrument, pi_id, patch, if_match=etag),
            (412,),
            "conflict",
        )

    def ii_delete_rules(self, ii_id: str, pi_id: str) -> None:
        r, iis, pis = self.r, self.iis, self.pis
        r.error(
            "ii.delete while a PI links it: 409 instrumentIdentifierDeletionError",
            failure(iis.delete_instrument_identifier, ii_id),
            (409,),
            "instrumentIdentifierDeletionError",
        )
        _, status, _ = pis.delete_payment_instrument_with_http_info(pi_id)
        r.equal("pi.delete: status 204", status, 204)
        r.error(
            "pi.retrieve after delete: 404/410", failure(pis.get_payment_instrument, pi_id), GONE
        )
        _, status, _ = iis.delete_instrument_identifier_with_http_info(ii_id)
        r.equal("ii.delete once unlinked: status 204", status, 204)
        r.error(
            "ii.retrieve after delete: 404/410", failure(iis.get_instrument_identifier, ii_id), GONE
        )
        unknown_ii = "7" + "".join(str(secrets.randbelow(10)) for _ in range(18))
        r.error(
            "ii.retrieve unknown id: 404 notFound",
            failure(iis.get_instrument_identifier, unknown_ii),
            (404,),
            "notFound",
        )
        r.error(
            "pi.retrieve unknown id: 404 notFound",
            failure(pis.get_payment_instrument, secrets.token_hex(16).upper()),
            (404,),
            "notFound",
        )

    # -- customers, their payment instruments and shipping addresses ---------

    def customer_lifecycle(self) -> None:
        r = self.r
        customer_id = self.create_customers()
        ii_id, first_id, second_id = self.add_customer_pis(customer_id)
        with r.step("customer.retrieve with default PI"):
            self.customer_default_pi(customer_id, first_id, ii_id)
        with r.step("customer pi.list"):
            self.customer_pi_pages(customer_id, first_id, second_id)
        with r.step("customer pi.patch default"):
            self.customer_pi_make_default(customer_id, first_id, second_id)
        with r.step("customer.patch defaultPaymentInstrument"):
            self.customer_make_default(customer_id, first_id)
        remaining_id = self.customer_pi_delete_rules(customer_id, first_id, second_id)
        with r.step("shipping addresses"):
            self.shipping_addresses(customer_id)
        with r.step("customer.patch"):
            self.customer_patch(customer_id)
        with r.step("profiles"):
            self.profiles(customer_id)
        with r.step("merchant isolation"):
            self.isolation(customer_id, ii_id)
        self.customer_delete(customer_id, remaining_id)

    def create_customers(self) -> str:
        r = self.r
        sample_id = "cust-" + uuid.uuid4().hex[:12]
        customer, status, _ = self.customers.post_customer_with_http_info(customer_body(sample_id))
        r.equal("customer.create (sample style, merchantCustomerId): status 201", status, 201)
        buyer = customer.buyer_information
        r.equal(
            "customer.create (merchantCustomerId): model carries merchant_customer_id",
            getattr(buyer, "merchant_customer_id", None),
            sample_id,
        )
        r.equal(
            "customer.create: merchantDefinedInformation echoed",
            [(x.name, x.value) for x in customer.merchant_defined_information or []],
            [("data1", "Your customer data")],
        )
        r.check("customer.create: has an id", customer.id, f"id {customer.id!r}")

        with r.step("customer.create (merchantCustomerID)"):
            camel_id = "cust-" + uuid.uuid4().hex[:12]
            buyer_json = {"merchantCustomerID": camel_id, "email": "b@example.com"}
            body = json.dumps({"buyerInformation": buyer_json})
            camel, status, _ = self.customers.post_customer_with_http_info(body)
            r.equal("customer.create (merchantCustomerID): status 201", status, 201)
            r.equal(
                "customer.create (merchantCustomerID): model carries merchant_customer_id",
                getattr(camel.buyer_information, "merchant_customer_id", None),
                camel_id,
            )
            _, status, _ = self.customers.delete_customer_with_http_info(camel.id)
            r.equal("customer.delete (no instruments): status 204", status, 204)

        with r.step("customer.retrieve"):
            got, status, headers = self.customers.get_customer_with_http_info(customer.id)
            r.equal("customer.retrieve: status 200", status, 200)
            r.equal(
                "customer.retrieve: merchant_customer_id round-trips",
                getattr(got.buyer_information, "merchant_customer_id", None),
                sample_id,
            )
            r.check("customer.retrieve: ETag header", etag_of(headers), dict(headers))
        return str(customer.id)

    def add_customer_pis(self, customer_id: str) -> tuple[str, str, str]:
        """Two payment instruments: the first by instrument identifier id (it
        becomes the default), the second with its card inline."""
        r, cpis = self.r, self.cpis
        ii, _, _ = self.iis.post_instrument_identifier_with_http_info(ii_body(make_pan()))
        first, status, _ = cpis.post_customer_payment_instrument_with_http_info(
            customer_id, pi_body(ii.id, PostCustomerPaymentInstrumentRequest)
        )
        r.equal("customer pi.create #1: status 201", status, 201)
        r.equal("customer pi.create #1: default (first PI)", first.default, True)
        pan = make_pan("510510")
        inline = {
            "card": {"expirationMonth": "11", "expirationYear": "2032", "type": "002"},
            "instrumentIdentifier": {"card": {"number": pan}},
        }
        second, status, _ = cpis.post_customer_payment_instrument_with_http_info(
            customer_id, json.dumps(inline)
        )
        r.equal("customer pi.create #2 (inline card): status 201", status, 201)
        r.equal("customer pi.create #2: not default", second.default, False)
        second_ii = second.embedded.instrument_identifier if second.embedded else None
        r.equal(
            "customer pi.create #2: _embedded II card masked",
            getattr(getattr(second_ii, "card", None), "number", None),
            masked(pan),
        )
        return str(ii.id), str(first.id), str(second.id)

    def customer_default_pi(self, customer_id: str, default_id: str, ii_id: str) -> None:
        r = self.r
        got, status, _ = self.customers.get_customer_with_http_info(customer_id)
        r.equal("customer.retrieve with PIs: status 200", status, 200)
        r.equal(
            "customer.retrieve: defaultPaymentInstrument.id",
            getattr(got.default_payment_instrument, "id", None),
            default_id,
        )
        default_pi = got.embedded.default_payment_instrument if got.embedded else None
        r.equal(
            "customer.retrieve: _embedded.defaultPaymentInstrument.id",
            getattr(default_pi, "id", None),
            default_id,
        )
        embedded = getattr(default_pi, "embedded", None)
        r.equal(
            "customer.retrieve: _embedded default PI carries its II",
            getattr(getattr(embedded, "instrument_identifier", None), "id", None),
            ii_id,
        )

    def customer_pi_pages(self, customer_id: str, first_id: str, second_id: str) -> None:
        r, cpis = self.r, self.cpis
        page1, status, _ = cpis.get_customer_payment_instruments_list_with_http_info(
            customer_id, offset=0, limit=1
        )
        r.equal("customer pi.list(offset=0, limit=1): status 200", status, 200)
        r.equal(
            "customer pi.list(offset=0, limit=1): offset/limit/count/total",
            (page1.offset, page1.limit, page1.count, page1.total),
            (0, 1, 1, 2),
        )
        items1 = page1.embedded.payment_instruments if page1.embedded else []
        r.equal("customer pi.list: default listed first", [p.id for p in items1], [first_id])
        next_href = getattr(getattr(page1.links, "next", None), "href", None)
        r.check("customer pi.list: _links.next present", next_href, page1.links)
        page2, status, _ = cpis.get_customer_payment_instruments_list_with_http_info(
            customer_id, offset=1, limit=1
        )
        items2 = page2.embedded.payment_instruments if page2.embedded else []
        r.equal(
            "customer pi.list(offset=1, limit=1): the other PI",
            ([p.id for p in items2], page2.offset, page2.count),
            ([second_id], 1, 1),
        )

    def customer_pi_make_default(self, customer_id: str, first_id: str, second_id: str) -> None:
        r, cpis = self.r, self.cpis
        got, status, headers = cpis.get_customer_payment_instrument_with_http_info(
            customer_id, second_id
        )
        r.equal("customer pi.retrieve: status 200", status, 200)
        r.equal("customer pi.retrieve: id", got.id, second_id)
        etag = etag_of(headers)
        r.check("customer pi.retrieve: ETag header", etag, dict(headers))
        body = sample_body(PatchCustomerPaymentInstrumentRequest(default=True))
        patched, status, _ = cpis.patch_customers_payment_instrument_with_http_info(
            customer_id, second_id, body, if_match=etag
        )
        r.equal('customer pi.patch {"default": true}: status 200', status, 200)
        r.equal("customer pi.patch: now default", patched.default, True)
        customer, _, _ = self.customers.get_customer_with_http_info(customer_id)
        r.equal(
            "customer.retrieve after pi.patch: defaultPaymentInstrument is PI #2",
            getattr(customer.default_payment_instrument, "id", None),
            second_id,
        )
        old, _, _ = cpis.get_customer_payment_instrument_with_http_info(customer_id, first_id)
        r.equal("customer pi #1 after pi.patch: no longer default", old.default, False)
        r.error(
            "customer pi.patch(if_match=stale ETag): 412 conflict",
            failure(
                cpis.patch_customers_payment_instrument, customer_id, second_id, body, if_match=etag
            ),
            (412,),
            "conflict",
        )

    def customer_make_default(self, customer_id: str, pi_id: str) -> None:
        """As the update-customers-default-payment-instrument sample."""
        r = self.r
        _, _, headers = self.customers.get_customer_with_http_info(customer_id)
        default = Tmsv2tokenizeTokenInformationCustomerDefaultPaymentInstrument(id=pi_id)
        body = sample_body(PatchCustomerRequest(default_payment_instrument=default.__dict__))
        patched, status, _ = self.customers.patch_customer_with_http_info(
            customer_id, body, if_match=etag_of(headers)
        )
        r.equal("customer.patch defaultPaymentInstrument.id: status 200", status, 200)
        r.equal(
            "customer.patch: defaultPaymentInstrument is PI #1 again",
            getattr(patched.default_payment_instrument, "id", None),
            pi_id,
        )
        embedded = patched.embedded.default_payment_instrument if patched.embedded else None
        r.equal("customer.patch: _embedded default PI", getattr(embedded, "id", None), pi_id)
        pi, _, _ = self.cpis.get_customer_payment_instrument_with_http_info(customer_id, pi_id)
        r.equal("customer pi #1 after customer.patch: default again", pi.default, True)

    def customer_pi_delete_rules(self, customer_id: str, first_id: str, second_id: str) -> str:
        """The default PI may not go while another exists; returns the one left."""
        r, cpis = self.r, self.cpis
        current, _, _ = self.customers.get_customer_with_http_info(customer_id)
        default_id = str(current.default_payment_instrument.id)
        other_id = second_id if default_id == first_id else first_id
        r.error(
            "customer pi.delete default with siblings: 409",
            failure(cpis.delete_customer_payment_instrument, customer_id, default_id),
            (409,),
        )
        _, status, _ = cpis.delete_customer_payment_instrument_with_http_info(customer_id, other_id)
        r.equal("customer pi.delete non-default: status 204", status, 204)
        r.error(
            "customer pi.retrieve after delete: 404/410",
            failure(cpis.get_customer_payment_instrument, customer_id, other_id),
            GONE,
        )
        listed, _, _ = cpis.get_customer_payment_instruments_list_with_http_info(customer_id)
        r.equal("customer pi.list after delete: total", listed.total, 1)
        return default_id

    def shipping_addresses(self, customer_id: str) -> None:
        r, addresses = self.r, self.addresses
        first, status, _ = addresses.post_customer_shipping_address_with_http_info(
            customer_id, address_body("1 Market St")
        )
        r.equal("address.create #1: status 201", status, 201)
        r.equal("address.create #1: default (first address)", first.default, True)
        r.equal("address.create #1: shipTo.address1", first.ship_to.address1, "1 Market St")
        second, status, _ = addresses.post_customer_shipping_address_with_http_info(
            customer_id, address_body("2 Main St", default=False)
        )
        r.equal("address.create #2: status 201", status, 201)
        r.equal("address.create #2: not default", second.default, False)
        listed, status, _ = addresses.get_customer_shipping_addresses_list_with_http_info(
            customer_id, offset=0, limit=10
        )
        r.equal("address.list(offset=0, limit=10): status 200", status, 200)
        items = listed.embedded.shipping_addresses if listed.embedded else []
        r.equal(
            "address.list: total/count and ids (default first)",
            (listed.total, listed.count, [a.id for a in items]),
            (2, 2, [first.id, second.id]),
        )
        self.shipping_address_changes(customer_id, first.id, second.id)

    def shipping_address_changes(self, customer_id: str, default_id: str, other_id: str) -> None:
        r, addresses = self.r, self.addresses
        got, status, headers = addresses.get_customer_shipping_address_with_http_info(
            customer_id, other_id
        )
        r.equal("address.retrieve: status 200", status, 200)
        r.equal("address.retrieve: id", got.id, other_id)
        etag = etag_of(headers)
        r.check("address.retrieve: ETag header", etag, dict(headers))
        ship_to = DefaultShippingAddressShipTo(address1="3 New Rd")
        patch = sample_body(PatchCustomerShippingAddressRequest(ship_to=ship_to.__dict__))
        patched, status, _ = addresses.patch_customers_shipping_address_with_http_info(
            customer_id, other_id, patch, if_match=etag
        )
        r.equal("address.patch(if_match=ETag): status 200", status, 200)
        address1 = patched.ship_to.address1 if patched.ship_to else None
        r.equal("address.patch: shipTo.address1 updated", address1, "3 New Rd")
        r.error(
            "address.patch(if_match=stale ETag): 412 conflict",
            failure(
                addresses.patch_customers_shipping_address,
                customer_id,
                other_id,
                patch,
                if_match=etag,
            ),
            (412,),
            "conflict",
        )
        r.error(
            "address.delete default with siblings: 409",
            failure(addresses.delete_customer_shipping_address, customer_id, default_id),
            (409,),
        )
        _, status, _ = addresses.delete_customer_shipping_address_with_http_info(
            customer_id, other_id
        )
        r.equal("address.delete non-default: status 204", status, 204)
        r.error(
            "address.retrieve after delete: 404/410",
            failure(addresses.get_customer_shipping_address, customer_id, other_id),
            GONE,
        )
        customer, _, _ = self.customers.get_customer_with_http_info(customer_id)
        embedded = customer.embedded.default_shipping_address if customer.embedded else None
        r.equal(
            "customer.retrieve: _embedded.defaultShippingAddress.id",
            getattr(embedded, "id", None),
            default_id,
        )

    def customer_patch(self, customer_id: str) -> None:
        r = self.r
        patch = json.dumps({"buyerInformation": {"email": "new@example.com"}})
        _, _, headers = self.customers.get_customer_with_http_info(customer_id)
        etag = etag_of(headers)
        patched, status, _ = self.customers.patch_customer_with_http_info(
            customer_id, patch, if_match=etag
        )
        r.equal("customer.patch(if_match=ETag): status 200", status, 200)
        email = getattr(patched.buyer_information, "email", None)
        r.equal("customer.patch: email updated", email, "new@example.com")
        r.error(
            "customer.patch(if_match=stale ETag): 412 conflict",
            failure(self.customers.patch_customer, customer_id, patch, if_match=etag),
            (412,),
            "conflict",
        )

    def profiles(self, customer_id: str) -> None:
        r = self.r
        got, status, _ = self.customers.get_customer_with_http_info(
            customer_id, profile_id=self.m.default_profile_id
        )
        r.equal("profile_id=default profile: customer.retrieve status 200", status, 200)
        r.equal("profile_id=default profile: same customer", got.id, customer_id)
        _, status, _ = self.iis.post_instrument_identifier_with_http_info(
            ii_body(make_pan()), profile_id=self.extra_profile
        )
        r.equal("profile_id=second profile (profiles create): ii.create status 201", status, 201)
        r.error(
            "profile_id=unknown profile: 424 notFound",
            failure(self.customers.get_customer, customer_id, profile_id=str(uuid.uuid4()).upper()),
            (424,),
            "notFound",
        )

    def isolation(self, customer_id: str, ii_id: str) -> None:
        r, their_customers = self.r, self.other.api(CustomerApi)
        r.error(
            "merchant B: customer.retrieve of A's customer: 404",
            failure(their_customers.get_customer, customer_id),
            (404,),
            "notFound",
        )
        r.error(
            "merchant B: customer.delete of A's customer: 404",
            failure(their_customers.delete_customer, customer_id),
            (404,),
            "notFound",
        )
        r.error(
            "merchant B: ii.retrieve of A's instrument identifier: 404",
            failure(self.other.api(InstrumentIdentifierApi).get_instrument_identifier, ii_id),
            (404,),
            "notFound",
        )
        still, status, _ = self.customers.get_customer_with_http_info(customer_id)
        r.equal(
            "merchant A: customer intact after B's attempts",
            (status, still.id),
            (200, customer_id),
        )

    def customer_delete(self, customer_id: str, pi_id: str) -> None:
        r = self.r
        _, status, _ = self.customers.delete_customer_with_http_info(customer_id)
        r.equal("customer.delete: status 204", status, 204)
        r.error(
            "customer.retrieve after delete: 404/410",
            failure(self.customers.get_customer, customer_id),
            GONE,
        )
        r.error(
            "customer pi.retrieve after customer delete: 404/410",
            failure(self.cpis.get_customer_payment_instrument, customer_id, pi_id),
            GONE,
        )
        r.error(
            "customer.retrieve unknown id: 404 notFound",
            failure(self.customers.get_customer, secrets.token_hex(16).upper()),
            (404,),
            "notFound",
        )


# -- entry point --------------------------------------------------------------


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description="Drive opentms with the CyberSource SDK.")
    parser.add_argument("--mode", choices=MODES, required=True)
    parser.add_argument("--server-url", required=True, help="http://127.0.0.1:PORT")
    parser.add_argument("--bundle-dir", type=Path, required=True)
    parser.add_argument("--merchant", required=True)
    parser.add_argument("--other-merchant", required=True)
    parser.add_argument("--extra-profile-id", required=True)
    parser.add_argument(
        "--plain-profile-id", required=True, help="a profile without network tokens"
    )
    parser.add_argument("--report", type=Path, required=True)
    args = parser.parse_args(argv)

    def load(merchant_id: str) -> Merchant:
        bundle = json.loads((args.bundle_dir / f"{merchant_id}.json").read_text())
        return merchant_config(args.mode, bundle, args.bundle_dir.resolve(), args.server_url)

    report = Report(args.mode)
    try:
        merchant, other = load(args.merchant), load(args.other_merchant)
        scenarios = [
            *Driver(report, merchant, other, args.extra_profile_id).scenarios(),
            *NetworkScenarios(report, merchant, other, args.plain_profile_id).scenarios(),
            *EncryptionScenarios(report, merchant, args.report.parent.resolve()).scenarios(),
        ]
        for scenario in scenarios:
            with report.step(scenario.__name__):
                scenario()
        report.completed = True
    finally:
        args.report.write_text(json.dumps(asdict(report), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
