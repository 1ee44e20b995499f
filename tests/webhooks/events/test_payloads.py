"""The event builders of domain/webhook_events.py: the life-cycle diff names
every reason, the payloads have the reference's shape (reference/webhooks.md
§2) and carry ids and states, never card data."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import orjson
import pytest

from opentms.domain.card import PAN
from opentms.domain.network_token import CardDetails, NetworkToken, TokenNetwork, TokenState
from opentms.domain.resources import (
    Customer,
    InstrumentIdentifier,
    PaymentInstrument,
    ShippingAddress,
)
from opentms.domain.webhook_events import (
    TokenChange,
    TokenType,
    network_token_changes,
    network_token_event,
    network_token_updates,
    provisioned,
    resource_event,
    token_event,
)
from opentms.domain.webhooks import EventType, LifeCycleReason, RequestType, notification_body

NOW = datetime(2026, 3, 4, 5, 6, 7, tzinfo=UTC)
MERCHANT = "merchant_a"
# Fixed numbers whose digits appear in no id below.
CARD_PAN = "4111119852741368"
TOKEN_PAN = "4895379628514737"
EVENT_ID = re.compile(r"^[0-9A-F]{32}$")
R = LifeCycleReason


def token(**changes: Any) -> NetworkToken:
    base = NetworkToken(
        id="7A1F0C3D9B2E4F5A6B7C8D9E0F1A2B3C",
        merchant_id=MERCHANT,
        instrument_identifier_id="7010000000016241111",
        network=TokenNetwork.VISA,
        state=TokenState.ACTIVE,
        source="ONFILE",
        card=CardDetails(CARD_PAN[-4:], "12", "2031"),
        created_at=NOW,
        number=PAN(TOKEN_PAN),
        expiration_month="08",
        expiration_year="2029",
        token_reference_id="DNITHE000000000000000001",
        payment_account_reference="V0010013019339090375405700000",
        metadata={"cardArt": {"backgroundColor": "000000"}},
    )
    return replace(base, **changes)


@pytest.mark.parametrize(
    ("after", "reasons"),
    [
        pytest.param({"state": TokenState.SUSPENDED}, [R.TOKEN_STATUS_UPDATED], id="suspend"),
        pytest.param({"state": TokenState.DELETED}, [R.TOKEN_STATUS_UPDATED], id="delete"),
        pytest.param({"expiration_year": "2032"}, [R.TOKEN_EXPIRY_UPDATED], id="token-expiry"),
        pytest.param({"expiration_month": "09"}, [R.TOKEN_EXPIRY_UPDATED], id="token-month"),
        pytest.param(
            {"state": TokenState.SUSPENDED, "expiration_year": "2032"},
            [R.TOKEN_UPDATED],
            id="state-and-expiry",
        ),
        pytest.param(
            {"card": CardDetails("9876", "12", "2031")}, [R.CARD_UPDATED], id="card-last4"
        ),
        pytest.param(
            {"card": CardDetails(CARD_PAN[-4:], "03", "2033")}, [R.CARD_UPDATED], id="card-expiry"
        ),
        pytest.param({"card_art_revision": 1}, [R.METADATA_UPDATED], id="card-art"),
        pytest.param({"metadata": {"issuer": {"name": "x"}}}, [R.METADATA_UPDATED], id="metadata"),
        pytest.param(
            {
                "state": TokenState.SUSPENDED,
                "card": CardDetails("5555", "12", "2031"),
                "card_art_revision": 2,
            },
            [R.TOKEN_STATUS_UPDATED, R.CARD_UPDATED, R.METADATA_UPDATED],
            id="everything",
        ),
        pytest.param({"atc": 17, "version": 9}, [], id="counter-only"),
        pytest.param({}, [], id="nothing"),
    ],
)
def test_the_diff_names_each_reason_once(after: dict[str, Any], reasons: list[R]) -> None:
    before = token()
    assert network_token_changes(before, token(**after)) == reasons
    events = network_token_updates(before, token(**after), NOW)
    assert [e.payload["data"]["reason"] for e in events] == [r.value for r in reasons]
    assert {e.event_type for e in events} <= {EventType.NETWORK_TOKEN_UPDATED.value}
    assert len({e.id for e in events}) == len(events)


def test_provisioned_has_the_reference_shape() -> None:
    event = provisioned(token(), NOW)
    assert event is not None
    assert EVENT_ID.match(event.id)
    assert event.event_type == "tms.networktoken.provisioned"
    assert event.merchant_id == MERCHANT
    assert event.product_id == "tokenManagement"
    assert event.created_at == NOW
    assert event.payload == {
        "data": {
            "reason": "PROVISIONED",
            "id": event.id,
            "type": "tokenizedCardEnrollments",
            "version": "1.0",
            "_links": {
                "tokenized-cards": [
                    {
                        "href": "/tms/v2/tokenized-cards/7A1F0C3D9B2E4F5A6B7C8D9E0F1A2B3C",
                        "id": "7A1F0C3D9B2E4F5A6B7C8D9E0F1A2B3C",
                        "state": "ACTIVE",
                    }
                ],
                "instrumentIdentifiers": [
                    {
                        "href": "/tms/v1/instrumentidentifiers/7010000000016241111",
                        "id": "7010000000016241111",
                    }
                ],
            },
        },
        "organizationId": MERCHANT,
    }


@pytest.mark.parametrize(
    "state", [TokenState.UNPROVISIONED, TokenState.SUSPENDED, TokenState.DELETED]
)
def test_only_a_provisioned_token_is_announced(state: TokenState) -> None:
    assert provisioned(token(state=state), NOW) is None


def test_updated_shows_the_state_after_the_change() -> None:
    event = network_token_event(
        token(state=TokenState.DELETED),
        EventType.NETWORK_TOKEN_UPDATED,
        R.TOKEN_STATUS_UPDATED,
        NOW,
    )
    data = event.payload["data"]
    assert event.event_type == "tms.networktoken.updated"
    assert data["type"] == "tokenizedCardUpdates"
    assert data["reason"] == "TOKEN_STATUS_UPDATED"
    assert data["id"] == event.id
    assert data["_links"]["tokenized-cards"][0]["state"] == "DELETED"


def test_a_token_without_instrument_identifier_links_none() -> None:
    event = provisioned(token(instrument_identifier_id=None), NOW)
    assert event is not None
    assert set(event.payload["data"]["_links"]) == {"tokenized-cards"}


def test_every_event_gets_its_own_id() -> None:
    ids = {network_token_event(token(), EventType.NETWORK_TOKEN_UPDATED, R.CARD_UPDATED, NOW).id}
    ids |= {network_token_event(token(), EventType.NETWORK_TOKEN_UPDATED, R.CARD_UPDATED, NOW).id}
    assert len(ids) == 2


def test_the_notification_body_carries_the_payload() -> None:
    event = provisioned(token(), NOW)
    assert event is not None
    body = notification_body(event, "hook", "TRACE-0", 0, RequestType.NEW)
    assert body["payload"] == event.payload
    assert body["eventDate"] == "2026-03-04T05:06:07"


II = InstrumentIdentifier(
    id="7010000000016241111",
    merchant_id=MERCHANT,
    fingerprint=b"f" * 32,
    instrument=PAN(CARD_PAN),
    attributes={"card": {"expirationMonth": "12", "expirationYear": "2031"}},
    created_at=NOW,
)
CUSTOMER = Customer(
    id="C0000000000000000000000000000001",
    merchant_id=MERCHANT,
    attributes={"buyerInformation": {"email": "buyer@example.com"}},
    created_at=NOW,
)
PI_OF_CUSTOMER = PaymentInstrument(
    id="P0000000000000000000000000000001",
    merchant_id=MERCHANT,
    instrument_identifier_id=II.id,
    attributes={"card": {"expirationMonth": "12", "expirationYear": "2031"}},
    created_at=NOW,
    customer_id=CUSTOMER.id,
)
ADDRESS = ShippingAddress(
    id="A0000000000000000000000000000001",
    merchant_id=MERCHANT,
    customer_id=CUSTOMER.id,
    attributes={"shipTo": {"address1": "1 Main St"}},
    created_at=NOW,
)
C_LINK = {"href": f"/tms/v2/customers/{CUSTOMER.id}", "id": CUSTOMER.id}
II_LINK = {"href": f"/tms/v1/instrumentidentifiers/{II.id}", "id": II.id}


@pytest.mark.parametrize(
    ("resource", "data_type", "links"),
    [
        pytest.param(CUSTOMER, "customer", {"customers": [C_LINK]}, id="customer"),
        pytest.param(II, "instrumentIdentifier", {"instrumentIdentifiers": [II_LINK]}, id="ii"),
        pytest.param(
            PI_OF_CUSTOMER,
            "paymentInstrument",
            {
                "paymentInstruments": [
                    {
                        "href": f"/tms/v2/customers/{CUSTOMER.id}/payment-instruments/"
                        f"{PI_OF_CUSTOMER.id}",
                        "id": PI_OF_CUSTOMER.id,
                    }
                ],
                "customers": [C_LINK],
                "instrumentIdentifiers": [II_LINK],
            },
            id="customer-pi",
        ),
        pytest.param(
            replace(PI_OF_CUSTOMER, customer_id=None),
            "paymentInstrument",
            {
                "paymentInstruments": [
                    {
                        "href": f"/tms/v1/paymentinstruments/{PI_OF_CUSTOMER.id}",
                        "id": PI_OF_CUSTOMER.id,
                    }
                ],
                "instrumentIdentifiers": [II_LINK],
            },
            id="standalone-pi",
        ),
        pytest.param(
            ADDRESS,
            "shippingAddress",
            {
                "shippingAddresses": [
                    {
                        "href": f"/tms/v2/customers/{CUSTOMER.id}/shipping-addresses/{ADDRESS.id}",
                        "id": ADDRESS.id,
                    }
                ],
                "customers": [C_LINK],
            },
            id="address",
        ),
    ],
)
@pytest.mark.parametrize(
    ("change", "event_type"),
    [
        (TokenChange.CREATED, "tms.token.created"),
        (TokenChange.UPDATED, "tms.token.updated"),
        (TokenChange.DELETED, "tms.token.updated"),
        (TokenChange.PAN_UPDATED, "tms.token.pan_updated"),
    ],
)
def test_token_events_link_the_token_and_its_owners(
    resource: Any, data_type: str, links: dict[str, Any], change: TokenChange, event_type: str
) -> None:
    event = resource_event(resource, change, NOW)
    assert EVENT_ID.match(event.id)
    assert event.event_type == event_type
    assert event.merchant_id == MERCHANT
    assert event.created_at == NOW
    assert event.payload == {
        "data": {
            "reason": change.value,
            "id": event.id,
            "type": data_type,
            "version": "1.0",
            "_links": links,
        },
        "organizationId": MERCHANT,
    }
    _no_card_data(event.payload)


def test_token_event_by_ids_matches_resource_event() -> None:
    by_ids = token_event(
        TokenType.PAYMENT_INSTRUMENT,
        MERCHANT,
        PI_OF_CUSTOMER.id,
        TokenChange.DELETED,
        NOW,
        customer_id=CUSTOMER.id,
        instrument_identifier_id=II.id,
    )
    by_resource = resource_event(PI_OF_CUSTOMER, TokenChange.DELETED, NOW)
    assert by_ids.payload["data"]["_links"] == by_resource.payload["data"]["_links"]


def test_a_shipping_address_event_needs_its_customer() -> None:
    with pytest.raises(ValueError, match="customer"):
        token_event(TokenType.SHIPPING_ADDRESS, MERCHANT, ADDRESS.id, TokenChange.CREATED, NOW)


def test_network_token_events_carry_no_card_data() -> None:
    before = token()
    after = token(
        state=TokenState.SUSPENDED,
        card=CardDetails("4321", "02", "2034"),
        card_art_revision=3,
        expiration_year="2035",
    )
    events = [*network_token_updates(before, after, NOW), provisioned(before, NOW)]
    assert len(events) == 4
    for event in events:
        assert event is not None
        _no_card_data(event.payload)
        text = _without_ids(event.payload)
        for secret in ("4321", "2034", "2035", "2029", "2031", TOKEN_PAN[-4:], "V0010013"):
            assert secret not in text, (secret, text)


def _without_ids(payload: Any) -> str:
    """The payload's JSON with its ids (32 hexadecimal characters, or an
    instrument identifier's digits) blanked: a random id may hold any four
    digits by chance."""
    return _IDS.sub("<id>", orjson.dumps(payload).decode())


_IDS = re.compile(r"[0-9A-F]{32}|(?<![0-9])[0-9]{19}(?![0-9])")


def _no_card_data(payload: Any) -> None:
    """Neither card number nor token number, nor any run of their digits a
    receiver could rebuild them from, nor their last four, nor attributes."""
    text = _without_ids(payload)
    for number in (CARD_PAN, TOKEN_PAN):
        assert number not in text
        assert number[:6] not in text
        assert number[-4:] not in text
    for word in ("buyer@example.com", "Main St", "expiration", "number", "suffix", 'card"'):
        assert word not in text, word


@pytest.mark.parametrize(
    "module",
    ["opentms.domain.webhooks", "opentms.domain.webhook_events", "opentms.domain.ports.webhooks"],
)
def test_each_module_imports_first_in_a_fresh_interpreter(module: str) -> None:
    """No import cycle: domain.webhooks → randomness → ports → ports.webhooks."""
    import subprocess
    import sys

    result = subprocess.run(
        [sys.executable, "-c", f"import {module}"], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
