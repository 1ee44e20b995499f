"""``client.customers`` with its payment instruments and shipping addresses,
in every client variant."""

from __future__ import annotations

import pytest

from opentms.client import (
    Address,
    Client,
    ClientReferenceInformation,
    Conflict,
    Customer,
    CustomerRequest,
    FailedDependency,
    IdRef,
    MerchantDefinedInformation,
    NotAvailable,
    NotFound,
    PaymentInstrumentRequest,
    PreconditionFailed,
    ShippingAddressRequest,
)
from tests.client.factories import make_customer, make_customer_with_card, pi_request

SHIP_TO = Address(first_name="Ada", last_name="Lovelace", address1="1 Main St", country="US")


def test_create_get_update_delete_a_customer(tms: Client) -> None:
    created = tms.customers.create(
        CustomerRequest(
            client_reference_information=ClientReferenceInformation(code="signup"),
            merchant_defined_information=[MerchantDefinedInformation(name="data1", value="v")],
        )
    )
    assert isinstance(created, Customer)
    assert created.status_code == 201
    assert created.links is not None
    assert set(created.links) >= {"self", "paymentInstruments"}
    fetched = tms.customers.get(created.id)
    assert fetched.client_reference_information == ClientReferenceInformation(code="signup")
    assert fetched.etag == created.etag
    updated = tms.customers.update(
        created.id,
        {"buyerInformation": {"merchantCustomerID": "c-42", "email": "ada@example.com"}},
        if_match=fetched.etag,
    )
    assert updated.buyer_information is not None
    assert updated.buyer_information.merchant_customer_id == "c-42"
    with pytest.raises(PreconditionFailed):
        tms.customers.update(created.id, {}, if_match=fetched.etag)
    tms.customers.delete(created.id)
    with pytest.raises((NotFound, NotAvailable)):
        tms.customers.get(created.id)


def test_customer_payment_instruments(tms: Client) -> None:
    customer, first = make_customer_with_card(tms)
    assert first.default is True
    second = tms.customers.payment_instruments.create(customer.id, pi_request())
    assert second.default is False

    page = tms.customers.payment_instruments.list(customer.id, limit=1)
    assert (page.offset, page.limit, page.count, page.total) == (0, 1, 1, 2)
    assert [pi.id for pi in page.items] == [first.id]
    rest = tms.customers.payment_instruments.list(customer.id, offset=1)
    assert [pi.id for pi in rest.items] == [second.id]

    fetched = tms.customers.payment_instruments.get(customer.id, second.id)
    assert fetched.links is not None
    assert "customer" in fetched.links
    made_default = tms.customers.payment_instruments.update(
        customer.id, second.id, PaymentInstrumentRequest(default=True), if_match=fetched.etag
    )
    assert made_default.default is True
    assert tms.customers.get(customer.id).default_payment_instrument == IdRef(id=second.id)

    with pytest.raises(Conflict) as caught:
        tms.customers.payment_instruments.delete(customer.id, second.id)
    assert caught.value.type == "conflict"
    tms.customers.payment_instruments.delete(customer.id, first.id)
    with pytest.raises((NotFound, NotAvailable)):
        tms.customers.payment_instruments.get(customer.id, first.id)


def test_customer_shipping_addresses(tms: Client) -> None:
    customer = make_customer(tms)
    first = tms.customers.shipping_addresses.create(
        customer.id, ShippingAddressRequest(ship_to=SHIP_TO)
    )
    assert first.ship_to == SHIP_TO
    assert first.default is True
    second = tms.customers.shipping_addresses.create(
        customer.id, {"shipTo": {"firstName": "Grace", "country": "US"}}
    )

    page = tms.customers.shipping_addresses.list(customer.id)
    assert page.total == 2
    assert [a.id for a in page.items] == [first.id, second.id]
    assert tms.customers.shipping_addresses.list(customer.id, offset=1, limit=1).count == 1

    fetched = tms.customers.shipping_addresses.get(customer.id, second.id)
    updated = tms.customers.shipping_addresses.update(
        customer.id,
        second.id,
        ShippingAddressRequest(default=True, ship_to=SHIP_TO),
        if_match=fetched.etag,
    )
    assert updated.default is True
    embedded = tms.customers.get(customer.id).embedded
    assert embedded is not None
    assert embedded.default_shipping_address is not None
    assert embedded.default_shipping_address.id == second.id

    with pytest.raises(Conflict):
        tms.customers.shipping_addresses.delete(customer.id, second.id)
    tms.customers.shipping_addresses.delete(customer.id, first.id)
    with pytest.raises((NotFound, NotAvailable)):
        tms.customers.shipping_addresses.get(customer.id, first.id)


def test_an_unknown_profile_is_a_failed_dependency(tms: Client) -> None:
    with pytest.raises(FailedDependency) as caught:
        tms.customers.create({}, profile_id="93B32398-AD51-4CC2-A682-EA3E93614EB1")
    assert caught.value.status_code == 424
    assert caught.value.type == "notFound"
    assert caught.value.message == "Profile not found"
