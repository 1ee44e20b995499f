"""Which events each use case publishes, over the fakes: one per change, in
the change's own unit of work (committed with it, lost with it)."""

from __future__ import annotations

from typing import Any

import pytest

from opentms.bootstrap import Services
from opentms.domain.card import PAN, BankAccount
from opentms.domain.errors import Declined, DefaultInUse, PreconditionFailed
from opentms.domain.network_token import TokenState
from opentms.domain.webhooks import Event
from opentms.services.instrument_identifiers import CardExpiry
from opentms.services.payment_instruments import InstrumentIdentifierRef
from opentms.services.tenancy import Tenant
from tests.services.fakes import FakePorts
from tests.support import make_pan

EXPIRY = CardExpiry("3", "2031")
DECLINED = "4000000000000051"  # docs/simulators.md: the network answers DECLINED
PROVISIONED = "tms.networktoken.provisioned"
UPDATED = "tms.networktoken.updated"
CREATED = "tms.token.created"
TOKEN_UPDATED = "tms.token.updated"
PAN_UPDATED = "tms.token.pan_updated"
SUBJECT = {
    "tokenizedCardEnrollments": "tokenized-cards",
    "tokenizedCardUpdates": "tokenized-cards",
    "customer": "customers",
    "paymentInstrument": "paymentInstruments",
    "instrumentIdentifier": "instrumentIdentifiers",
    "shippingAddress": "shippingAddresses",
}


def summary(event: Event) -> tuple[str, str, str]:
    """``(event type, reason, id of the token it is about)``."""
    data = event.payload["data"]
    subject = data["_links"][SUBJECT[data["type"]]][0]["id"]
    return event.event_type, data["reason"], subject


class Outbox:
    """The events committed so far; :meth:`new` answers those since the last call."""

    def __init__(self, fakes: FakePorts) -> None:
        self._fakes = fakes
        self._seen = 0

    def new(self) -> list[tuple[str, str, str]]:
        events = self._fakes.vault.state.events[self._seen :]
        self._seen += len(events)
        for event in events:
            assert event.payload["data"]["id"] == event.id
            assert event.payload["organizationId"] == event.merchant_id
        return [summary(e) for e in events]

    def raw(self) -> list[Event]:
        return list(self._fakes.vault.state.events)


@pytest.fixture
def outbox(fakes: FakePorts) -> Outbox:
    return Outbox(fakes)


def pan() -> PAN:
    return PAN.parse(make_pan())


def store(services: Services, tenant: Tenant, number: PAN | None = None) -> Any:
    view, _ = services.instrument_identifiers.create(tenant, number or pan(), {}, EXPIRY)
    return view


# Instrument identifiers ------------------------------------------------------


def test_a_new_card_publishes_created_then_provisioned(
    services: Services, tenant: Tenant, outbox: Outbox
) -> None:
    view = store(services, tenant)
    ii, token = view.instrument_identifier.id, view.token.id
    assert outbox.new() == [
        (CREATED, "CREATED", ii),
        (PROVISIONED, "PROVISIONED", token),
    ]


def test_a_card_stored_again_publishes_nothing(
    services: Services, tenant: Tenant, outbox: Outbox
) -> None:
    number = pan()
    store(services, tenant, number)
    outbox.new()
    store(services, tenant, number)
    assert outbox.new() == []


def test_a_plain_profile_publishes_only_the_card(
    services: Services, plain_tenant: Tenant, outbox: Outbox
) -> None:
    view = store(services, plain_tenant)
    assert outbox.new() == [(CREATED, "CREATED", view.instrument_identifier.id)]


def test_a_refused_provisioning_publishes_no_provisioned(
    services: Services, tenant: Tenant, outbox: Outbox
) -> None:
    view = store(services, tenant, PAN.parse(DECLINED))
    assert view.token.state == TokenState.UNPROVISIONED
    assert outbox.new() == [(CREATED, "CREATED", view.instrument_identifier.id)]


def test_a_bank_account_publishes_created(
    services: Services, tenant: Tenant, outbox: Outbox
) -> None:
    view, _ = services.instrument_identifiers.create(
        tenant, BankAccount("4100", "071923284"), {}, EXPIRY
    )
    assert outbox.new() == [(CREATED, "CREATED", view.instrument_identifier.id)]


def test_update_publishes_updated(services: Services, tenant: Tenant, outbox: Outbox) -> None:
    ii = store(services, tenant).instrument_identifier
    outbox.new()
    services.instrument_identifiers.update(
        tenant, ii.id, {"processingInformation": {"x": 1}}, None, False
    )
    assert outbox.new() == [(TOKEN_UPDATED, "UPDATED", ii.id)]


def test_a_stale_update_publishes_nothing(
    services: Services, tenant: Tenant, outbox: Outbox
) -> None:
    ii = store(services, tenant).instrument_identifier
    outbox.new()
    with pytest.raises(PreconditionFailed):
        services.instrument_identifiers.update(tenant, ii.id, {}, '"99"', False)
    assert outbox.new() == []


def test_delete_publishes_the_card_and_its_token(
    services: Services, tenant: Tenant, outbox: Outbox
) -> None:
    view = store(services, tenant)
    outbox.new()
    services.instrument_identifiers.delete(tenant, view.instrument_identifier.id)
    assert outbox.new() == [
        (TOKEN_UPDATED, "DELETED", view.instrument_identifier.id),
        (UPDATED, "TOKEN_STATUS_UPDATED", view.token.id),
    ]
    token_event = outbox.raw()[-1]
    assert token_event.payload["data"]["_links"]["tokenized-cards"][0]["state"] == "DELETED"


def test_delete_announces_a_suspended_token_but_not_a_dead_one(
    services: Services, tenant: Tenant, outbox: Outbox
) -> None:
    view = store(services, tenant)
    ii = view.instrument_identifier.id
    services.network_tokens.simulate_life_cycle(
        tenant, view.token.id, "P", TokenState.SUSPENDED, None, None, None, False
    )
    dead = store(services, tenant)
    services.network_tokens.delete(tenant, dead.token.id)
    outbox.new()
    services.instrument_identifiers.delete(tenant, ii)
    services.instrument_identifiers.delete(tenant, dead.instrument_identifier.id)
    assert outbox.new() == [
        (TOKEN_UPDATED, "DELETED", ii),
        (UPDATED, "TOKEN_STATUS_UPDATED", view.token.id),
        (TOKEN_UPDATED, "DELETED", dead.instrument_identifier.id),
    ]


def test_enroll_publishes_provisioned(
    services: Services, tenant: Tenant, plain_tenant: Tenant, outbox: Outbox
) -> None:
    ii = store(services, plain_tenant).instrument_identifier.id
    outbox.new()
    assert services.instrument_identifiers.enroll(tenant, ii, EXPIRY)
    token = services.instrument_identifiers.retrieve(tenant, ii).token
    assert token is not None
    assert outbox.new() == [(PROVISIONED, "PROVISIONED", token.id)]
    assert not services.instrument_identifiers.enroll(tenant, ii, EXPIRY)
    assert outbox.new() == []


def test_a_refused_enrollment_publishes_nothing(
    services: Services, tenant: Tenant, plain_tenant: Tenant, outbox: Outbox
) -> None:
    ii = store(services, plain_tenant, PAN.parse(DECLINED)).instrument_identifier.id
    outbox.new()
    assert services.instrument_identifiers.enroll(tenant, ii, EXPIRY)
    assert outbox.new() == []


# Tokenized cards -------------------------------------------------------------


def test_a_tokenized_card_publishes_provisioned(
    services: Services, tenant: Tenant, outbox: Outbox
) -> None:
    token = services.network_tokens.create(tenant, pan(), EXPIRY, "ONFILE", False)
    assert outbox.new() == [(PROVISIONED, "PROVISIONED", token.id)]
    assert "instrumentIdentifiers" not in outbox.raw()[-1].payload["data"]["_links"]


def test_a_tokenized_card_with_its_card_publishes_both(
    services: Services, tenant: Tenant, outbox: Outbox
) -> None:
    token = services.network_tokens.create(tenant, pan(), EXPIRY, "ONFILE", True)
    ii = token.instrument_identifier_id
    assert ii is not None
    assert outbox.new() == [(CREATED, "CREATED", ii), (PROVISIONED, "PROVISIONED", token.id)]


def test_a_declined_tokenized_card_publishes_nothing_not_even_its_card(
    services: Services, tenant: Tenant, outbox: Outbox, fakes: FakePorts
) -> None:
    """The card's tms.token.created was published before the network refused:
    the refusal rolls back the card and its event together."""
    with pytest.raises(Declined):
        services.network_tokens.create(tenant, PAN.parse(DECLINED), EXPIRY, "ONFILE", True)
    assert outbox.new() == []
    assert not fakes.vault.state.instrument_identifiers


def test_delete_publishes_status_updated(
    services: Services, tenant: Tenant, outbox: Outbox
) -> None:
    token = services.network_tokens.create(tenant, pan(), EXPIRY, "ONFILE", False)
    outbox.new()
    services.network_tokens.delete(tenant, token.id)
    assert outbox.new() == [(UPDATED, "TOKEN_STATUS_UPDATED", token.id)]


@pytest.mark.parametrize(
    ("change", "reasons"),
    [
        pytest.param({"state": TokenState.SUSPENDED}, ["TOKEN_STATUS_UPDATED"], id="suspend"),
        pytest.param({"state": TokenState.DELETED}, ["TOKEN_STATUS_UPDATED"], id="delete"),
        pytest.param({"last4": "9876"}, ["CARD_UPDATED"], id="last4"),
        pytest.param({"month": "4", "year": "2034"}, ["CARD_UPDATED"], id="card-expiry"),
        pytest.param({"art": True}, ["METADATA_UPDATED"], id="card-art"),
        pytest.param(
            {"state": TokenState.SUSPENDED, "last4": "1234", "art": True},
            ["TOKEN_STATUS_UPDATED", "CARD_UPDATED", "METADATA_UPDATED"],
            id="all-at-once",
        ),
    ],
)
def test_the_life_cycle_simulation_publishes_one_event_per_reason(
    services: Services, tenant: Tenant, outbox: Outbox, change: dict[str, Any], reasons: list[str]
) -> None:
    view = store(services, tenant)
    outbox.new()
    services.network_tokens.simulate_life_cycle(
        tenant,
        view.token.id,
        "P",
        change.get("state"),
        change.get("last4"),
        change.get("month"),
        change.get("year"),
        change.get("art", False),
    )
    assert outbox.new() == [(UPDATED, reason, view.token.id) for reason in reasons]
    state = change.get("state", TokenState.ACTIVE).value
    for event in outbox.raw()[-len(reasons) :]:
        assert event.payload["data"]["_links"]["tokenized-cards"][0]["state"] == state


def test_resume_publishes_status_updated(
    services: Services, tenant: Tenant, outbox: Outbox
) -> None:
    token = store(services, tenant).token
    for state in (TokenState.SUSPENDED, TokenState.ACTIVE):
        services.network_tokens.simulate_life_cycle(
            tenant, token.id, "P", state, None, None, None, False
        )
    assert outbox.new()[-2:] == [
        (UPDATED, "TOKEN_STATUS_UPDATED", token.id),
        (UPDATED, "TOKEN_STATUS_UPDATED", token.id),
    ]
    assert outbox.raw()[-1].payload["data"]["_links"]["tokenized-cards"][0]["state"] == "ACTIVE"


def test_payment_credentials_publish_nothing(
    services: Services, tenant: Tenant, outbox: Outbox, fakes: FakePorts
) -> None:
    token = store(services, tenant).token
    outbox.new()
    with fakes.vault(tenant.keys, readonly=False) as uow:
        assert uow.network_tokens.next_atc(token.id) == 1
        uow.commit()
    assert outbox.new() == []


# Payment instruments, customers, shipping addresses ----------------------------


def test_a_payment_instrument_with_a_new_card(
    services: Services, tenant: Tenant, outbox: Outbox
) -> None:
    view = services.payment_instruments.create(
        tenant, InstrumentIdentifierRef(instrument=pan()), {}
    )
    pi = view.payment_instrument
    ii = view.instrument_identifier
    assert ii.token is not None
    assert outbox.new() == [
        (CREATED, "CREATED", ii.instrument_identifier.id),
        (PROVISIONED, "PROVISIONED", ii.token.id),
        (CREATED, "CREATED", pi.id),
    ]
    links = outbox.raw()[-1].payload["data"]["_links"]
    assert links["paymentInstruments"][0]["href"] == f"/tms/v1/paymentinstruments/{pi.id}"
    assert links["instrumentIdentifiers"][0]["id"] == ii.instrument_identifier.id


def test_a_payment_instrument_update_and_a_new_card(
    services: Services, tenant: Tenant, outbox: Outbox
) -> None:
    first = store(services, tenant).instrument_identifier.id
    pi = services.payment_instruments.create(tenant, InstrumentIdentifierRef(id=first), {})
    pi_id = pi.payment_instrument.id
    outbox.new()
    services.payment_instruments.update(tenant, pi_id, None, {"card": {"type": "001"}}, None)
    assert outbox.new() == [(TOKEN_UPDATED, "UPDATED", pi_id)]
    second = store(services, tenant).instrument_identifier.id
    outbox.new()
    services.payment_instruments.update(tenant, pi_id, InstrumentIdentifierRef(id=second), {}, None)
    assert outbox.new() == [(PAN_UPDATED, "PAN_UPDATED", pi_id)]
    links = outbox.raw()[-1].payload["data"]["_links"]
    assert links["instrumentIdentifiers"][0]["id"] == second


def test_a_customer_and_its_tokens(services: Services, tenant: Tenant, outbox: Outbox) -> None:
    customer = services.customers.create(tenant, {}).customer.id
    assert outbox.new() == [(CREATED, "CREATED", customer)]

    services.customers.update(tenant, customer, {"buyerInformation": {"email": "a@b.c"}}, None)
    assert outbox.new() == [(TOKEN_UPDATED, "UPDATED", customer)]

    view = services.payment_instruments.create(
        tenant, InstrumentIdentifierRef(instrument=pan()), {}, customer
    )
    pi = view.payment_instrument.id
    ii = view.instrument_identifier.instrument_identifier.id
    assert view.instrument_identifier.token is not None
    token = view.instrument_identifier.token.id
    assert outbox.new() == [
        (CREATED, "CREATED", ii),
        (PROVISIONED, "PROVISIONED", token),
        (CREATED, "CREATED", pi),
        (TOKEN_UPDATED, "UPDATED", customer),  # its default payment instrument
    ]
    pi_links = outbox.raw()[-2].payload["data"]["_links"]
    assert pi_links["customers"][0]["id"] == customer
    assert pi_links["paymentInstruments"][0]["href"].startswith(f"/tms/v2/customers/{customer}/")

    address = services.shipping_addresses.create(tenant, customer, {"shipTo": {}}).id
    assert outbox.new() == [
        (CREATED, "CREATED", address),
        (TOKEN_UPDATED, "UPDATED", customer),  # its default shipping address
    ]
    services.shipping_addresses.update(tenant, customer, address, {"shipTo": {"x": 1}}, None)
    assert outbox.new() == [(TOKEN_UPDATED, "UPDATED", address)]
    second = services.shipping_addresses.create(tenant, customer, {}).id
    assert outbox.new() == [(CREATED, "CREATED", second)]

    services.customers.delete(tenant, customer)
    assert outbox.new() == [
        (TOKEN_UPDATED, "DELETED", pi),
        (TOKEN_UPDATED, "DELETED", ii),
        (UPDATED, "TOKEN_STATUS_UPDATED", token),
        *sorted([(TOKEN_UPDATED, "DELETED", address), (TOKEN_UPDATED, "DELETED", second)]),
        (TOKEN_UPDATED, "DELETED", customer),
    ]


def test_deleting_a_customer_keeps_a_card_another_payment_instrument_uses(
    services: Services, tenant: Tenant, outbox: Outbox
) -> None:
    ii = store(services, tenant).instrument_identifier.id
    customer = services.customers.create(tenant, {}).customer.id
    ref = InstrumentIdentifierRef(id=ii)
    pi = services.payment_instruments.create(tenant, ref, {}, customer).payment_instrument.id
    services.payment_instruments.create(tenant, ref, {})
    outbox.new()
    services.customers.delete(tenant, customer)
    assert outbox.new() == [(TOKEN_UPDATED, "DELETED", pi), (TOKEN_UPDATED, "DELETED", customer)]


def test_deleting_defaults(services: Services, tenant: Tenant, outbox: Outbox) -> None:
    customer = services.customers.create(tenant, {}).customer.id
    ref = InstrumentIdentifierRef(instrument=pan())
    pi = services.payment_instruments.create(tenant, ref, {}, customer).payment_instrument.id
    address = services.shipping_addresses.create(tenant, customer, {}).id
    other = services.shipping_addresses.create(tenant, customer, {}).id
    outbox.new()
    with pytest.raises(DefaultInUse):
        services.shipping_addresses.delete(tenant, customer, address)
    assert outbox.new() == []
    services.shipping_addresses.delete(tenant, customer, other)
    services.shipping_addresses.delete(tenant, customer, address)
    services.payment_instruments.delete(tenant, pi, customer)
    assert outbox.new() == [
        (TOKEN_UPDATED, "DELETED", other),
        (TOKEN_UPDATED, "UPDATED", customer),  # no default shipping address now
        (TOKEN_UPDATED, "DELETED", address),
        (TOKEN_UPDATED, "UPDATED", customer),  # no default payment instrument now
        (TOKEN_UPDATED, "DELETED", pi),
    ]


def test_events_are_the_merchants_own(
    services: Services, tenant: Tenant, other_tenant: Tenant, outbox: Outbox
) -> None:
    store(services, tenant)
    store(services, other_tenant)
    merchants = [e.merchant_id for e in outbox.raw()]
    assert merchants == [tenant.merchant_id] * 2 + [other_tenant.merchant_id] * 2


def test_the_fake_outbox_refuses_another_merchants_event(
    fakes: FakePorts, tenant: Tenant, other_tenant: Tenant, services: Services
) -> None:
    store(services, other_tenant)
    event = fakes.vault.state.events[0]
    with fakes.vault(tenant.keys, readonly=False) as uow, pytest.raises(ValueError, match="own"):
        uow.outbox.publish(event)
