"""CustomerService over the fakes: create, retrieve, PATCH with If-Match and
defaults, and the cascade of a deletion."""

from __future__ import annotations

from typing import Any

import pytest

from opentms.bootstrap import Services
from opentms.domain.card import PAN
from opentms.domain.errors import (
    InvalidFields,
    NotAvailable,
    NotFound,
    PreconditionFailed,
)
from opentms.domain.network_token import TokenState
from opentms.services.instrument_identifiers import CardExpiry
from opentms.services.payment_instruments import InstrumentIdentifierRef
from opentms.services.tenancy import Tenant
from tests.services.fakes import FakePorts
from tests.support import make_pan

EMAIL = {"buyerInformation": {"email": "ada@example.com"}}


def card(pan: str | None = None) -> InstrumentIdentifierRef:
    return InstrumentIdentifierRef(
        instrument=PAN.parse(pan or make_pan()), expiry=CardExpiry("12", "2031")
    )


def new_customer(services: Services, tenant: Tenant, attributes: Any = None) -> str:
    view = services.customers.create(tenant, attributes if attributes is not None else EMAIL)
    return view.customer.id


def test_create_answers_the_customer_with_no_defaults(services: Services, tenant: Tenant) -> None:
    view = services.customers.create(tenant, EMAIL)

    assert view.customer.attributes == EMAIL
    assert view.customer.merchant_id == tenant.merchant_id
    assert view.customer.version == 1
    assert view.default_payment_instrument is None
    assert view.default_shipping_address is None


def test_create_commits_once(services: Services, tenant: Tenant, fakes: FakePorts) -> None:
    services.customers.create(tenant, EMAIL)

    assert fakes.vault.commits == 1
    assert fakes.vault.opened == [(tenant.merchant_id, False, False)]


def test_ids_are_distinct_32_hex_tokens(services: Services, tenant: Tenant) -> None:
    made = {new_customer(services, tenant) for _ in range(5)}

    assert len(made) == 5
    assert all(len(i) == 32 and int(i, 16) >= 0 for i in made)


def test_the_attributes_are_copied_not_shared(services: Services, tenant: Tenant) -> None:
    attributes: dict[str, Any] = {"merchantDefinedInformation": [{"name": "a", "value": "1"}]}
    customer_id = new_customer(services, tenant, attributes)
    attributes["extra"] = True

    assert "extra" not in services.customers.retrieve(tenant, customer_id).customer.attributes


def test_retrieve_reads_in_a_read_only_unit_of_work(
    services: Services, tenant: Tenant, fakes: FakePorts
) -> None:
    customer_id = new_customer(services, tenant)
    fakes.vault.opened.clear()

    view = services.customers.retrieve(tenant, customer_id)

    assert view.customer.id == customer_id
    assert fakes.vault.opened == [(tenant.merchant_id, True, False)]


def test_retrieve_of_an_unknown_id_is_not_found(services: Services, tenant: Tenant) -> None:
    with pytest.raises(NotFound):
        services.customers.retrieve(tenant, "F" * 32)


def test_another_merchants_customer_is_not_found(
    services: Services, tenant: Tenant, other_tenant: Tenant
) -> None:
    customer_id = new_customer(services, tenant)

    with pytest.raises(NotFound):
        services.customers.retrieve(other_tenant, customer_id)
    with pytest.raises(NotFound):
        services.customers.delete(other_tenant, customer_id)
    with pytest.raises(NotFound):
        services.customers.update(other_tenant, customer_id, {}, None)


@pytest.mark.parametrize(
    ("patch", "expected"),
    [
        pytest.param(
            {"buyerInformation": {"merchantCustomerID": "c1"}},
            {"buyerInformation": {"email": "ada@example.com", "merchantCustomerID": "c1"}},
            id="objects-merge",
        ),
        pytest.param(
            {"buyerInformation": {"email": "bob@example.com"}},
            {"buyerInformation": {"email": "bob@example.com"}},
            id="a-field-is-replaced",
        ),
        pytest.param({"buyerInformation": None}, {}, id="null-removes"),
        pytest.param(
            {"clientReferenceInformation": {"code": "x"}},
            {**EMAIL, "clientReferenceInformation": {"code": "x"}},
            id="a-new-object-is-added",
        ),
        pytest.param({}, EMAIL, id="an-empty-patch-keeps-everything"),
    ],
)
def test_update_merges_the_patch(
    services: Services, tenant: Tenant, patch: dict[str, Any], expected: dict[str, Any]
) -> None:
    customer_id = new_customer(services, tenant)

    view = services.customers.update(tenant, customer_id, patch, None)

    assert view.customer.attributes == expected
    assert services.customers.retrieve(tenant, customer_id).customer.attributes == expected


def test_each_update_raises_the_version(services: Services, tenant: Tenant) -> None:
    customer_id = new_customer(services, tenant)
    versions = [services.customers.update(tenant, customer_id, {}, None).customer.version]
    versions.append(services.customers.update(tenant, customer_id, {}, None).customer.version)

    assert versions == [2, 3]
    assert services.customers.retrieve(tenant, customer_id).customer.version == 3


@pytest.mark.parametrize("if_match", ['"1"', "1", "*", '"7", "1"', 'W/"0", "1"'])
def test_update_with_a_matching_if_match_succeeds(
    services: Services, tenant: Tenant, if_match: str
) -> None:
    customer_id = new_customer(services, tenant)

    view = services.customers.update(tenant, customer_id, {"a": 1}, if_match)

    assert view.customer.attributes["a"] == 1


@pytest.mark.parametrize("if_match", ['"2"', 'W/"1"', '"0"', 'garbage,,"', '"1'])
def test_update_with_a_stale_if_match_fails_and_changes_nothing(
    services: Services, tenant: Tenant, if_match: str
) -> None:
    customer_id = new_customer(services, tenant)

    with pytest.raises(PreconditionFailed) as failed:
        services.customers.update(tenant, customer_id, {"a": 1}, if_match)

    assert failed.value.current_etag == '"1"'
    assert "a" not in services.customers.retrieve(tenant, customer_id).customer.attributes


def test_a_default_payment_instrument_of_the_customer_is_set(
    services: Services, tenant: Tenant
) -> None:
    customer_id = new_customer(services, tenant)
    services.payment_instruments.create(tenant, card(), {}, customer_id)
    second = services.payment_instruments.create(tenant, card(), {}, customer_id)
    pi_id = second.payment_instrument.id

    view = services.customers.update(
        tenant, customer_id, {}, None, default_payment_instrument_id=pi_id
    )

    assert view.customer.default_payment_instrument_id == pi_id
    assert view.default_payment_instrument is not None
    assert view.default_payment_instrument.payment_instrument.id == pi_id


def test_a_default_shipping_address_of_the_customer_is_set(
    services: Services, tenant: Tenant
) -> None:
    customer_id = new_customer(services, tenant)
    services.shipping_addresses.create(tenant, customer_id, {"shipTo": {"firstName": "A"}})
    second = services.shipping_addresses.create(tenant, customer_id, {"shipTo": {"firstName": "B"}})

    view = services.customers.update(
        tenant, customer_id, {}, None, default_shipping_address_id=second.id
    )

    assert view.customer.default_shipping_address_id == second.id
    assert view.default_shipping_address is not None
    assert view.default_shipping_address.attributes == {"shipTo": {"firstName": "B"}}


@pytest.mark.parametrize("field", ["defaultPaymentInstrument.id", "defaultShippingAddress.id"])
@pytest.mark.parametrize("whose", ["unknown", "another-customer"])
def test_a_default_must_be_the_customers_own(
    services: Services, tenant: Tenant, field: str, whose: str
) -> None:
    customer_id = new_customer(services, tenant)
    other_id = new_customer(services, tenant)
    if whose == "unknown":
        child_id = "A" * 32
    elif field == "defaultPaymentInstrument.id":
        child_id = services.payment_instruments.create(
            tenant, card(), {}, other_id
        ).payment_instrument.id
    else:
        child_id = services.shipping_addresses.create(tenant, other_id, {}).id
    kwargs = (
        {"default_payment_instrument_id": child_id}
        if field == "defaultPaymentInstrument.id"
        else {"default_shipping_address_id": child_id}
    )

    with pytest.raises(InvalidFields) as invalid:
        services.customers.update(tenant, customer_id, {"a": 1}, None, **kwargs)

    assert [d.name for d in invalid.value.details] == [field]
    assert services.customers.retrieve(tenant, customer_id).customer.version == 1


def test_a_standalone_payment_instrument_cannot_be_a_default(
    services: Services, tenant: Tenant
) -> None:
    customer_id = new_customer(services, tenant)
    standalone = services.payment_instruments.create(tenant, card(), {}).payment_instrument.id

    with pytest.raises(InvalidFields):
        services.customers.update(
            tenant, customer_id, {}, None, default_payment_instrument_id=standalone
        )


def test_retrieve_shows_the_defaults(services: Services, tenant: Tenant) -> None:
    customer_id = new_customer(services, tenant)
    pi = services.payment_instruments.create(tenant, card(), {}, customer_id)
    address = services.shipping_addresses.create(tenant, customer_id, {"shipTo": {}})

    view = services.customers.retrieve(tenant, customer_id)

    assert view.default_payment_instrument is not None
    assert view.default_payment_instrument.payment_instrument.id == pi.payment_instrument.id
    assert view.default_payment_instrument.payment_instrument.is_default
    assert view.default_shipping_address is not None
    assert view.default_shipping_address.id == address.id


def test_delete_then_retrieve_is_not_available(services: Services, tenant: Tenant) -> None:
    customer_id = new_customer(services, tenant)

    services.customers.delete(tenant, customer_id)

    with pytest.raises(NotAvailable):
        services.customers.retrieve(tenant, customer_id)
    with pytest.raises(NotAvailable):
        services.customers.delete(tenant, customer_id)


def test_delete_of_an_unknown_customer_is_not_found(services: Services, tenant: Tenant) -> None:
    with pytest.raises(NotFound):
        services.customers.delete(tenant, "0" * 32)


def test_delete_removes_payment_instruments_and_addresses(
    services: Services, tenant: Tenant
) -> None:
    customer_id = new_customer(services, tenant)
    pis = [
        services.payment_instruments.create(tenant, card(), {}, customer_id).payment_instrument.id
        for _ in range(2)
    ]
    addresses = [services.shipping_addresses.create(tenant, customer_id, {}).id for _ in range(2)]

    services.customers.delete(tenant, customer_id)

    for pi_id in pis:
        with pytest.raises(NotAvailable):
            services.payment_instruments.retrieve(tenant, pi_id)
    for address_id in addresses:
        with pytest.raises(NotAvailable):
            services.shipping_addresses.retrieve(tenant, customer_id, address_id)


def test_delete_removes_the_cards_only_it_used_and_deletes_their_tokens(
    services: Services, tenant: Tenant
) -> None:
    customer_id = new_customer(services, tenant)
    view = services.payment_instruments.create(tenant, card(make_pan("411111")), {}, customer_id)
    ii = view.instrument_identifier
    assert ii.token is not None

    services.customers.delete(tenant, customer_id)

    with pytest.raises(NotAvailable):
        services.instrument_identifiers.retrieve(tenant, ii.instrument_identifier.id)
    assert services.network_tokens.retrieve(tenant, ii.token.id).state == TokenState.DELETED


def test_delete_keeps_a_card_another_payment_instrument_uses(
    services: Services, tenant: Tenant
) -> None:
    pan = make_pan()
    customer_id = new_customer(services, tenant)
    mine = services.payment_instruments.create(tenant, card(pan), {}, customer_id)
    standalone = services.payment_instruments.create(tenant, card(pan), {})
    ii_id = mine.instrument_identifier.instrument_identifier.id
    assert standalone.instrument_identifier.instrument_identifier.id == ii_id

    services.customers.delete(tenant, customer_id)

    kept = services.instrument_identifiers.retrieve(tenant, ii_id)
    assert kept.token is not None
    assert kept.token.state == TokenState.ACTIVE
    assert services.payment_instruments.retrieve(tenant, standalone.payment_instrument.id)


def test_delete_leaves_other_customers_alone(services: Services, tenant: Tenant) -> None:
    doomed, kept = new_customer(services, tenant), new_customer(services, tenant)
    address = services.shipping_addresses.create(tenant, kept, {})

    services.customers.delete(tenant, doomed)

    assert services.customers.retrieve(tenant, kept).default_shipping_address == address
