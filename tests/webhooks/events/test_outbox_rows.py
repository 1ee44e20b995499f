"""The events of changes made through the HTTP API, as the outbox writes them
(``webhook_events`` + one ``webhook_notifications`` row per subscription that
wants the event), on SQLite and PostgreSQL.

Each test has a merchant of its own and inserts its subscriptions straight
into ``webhook_subscriptions`` (the subscription API is not needed to test
what the changes publish)."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
import orjson
import pytest
import yaml
from sqlalchemy import insert, select
from starlette.applications import Starlette

from opentms.adapters.seed_file import parse_seed
from opentms.adapters.storage.tables import (
    webhook_events,
    webhook_notifications,
    webhook_subscriptions,
)
from opentms.bootstrap import Database, Services
from opentms.domain.card import luhn_valid
from opentms.domain.errors import NotFound
from opentms.services.customers import CustomerService
from tests.api.factories import (
    CUSTOMERS,
    II,
    PI,
    customer_addresses,
    customer_pis,
    json_of,
    make_customer,
    make_customer_payment_instrument,
    make_shipping_address,
)
from tests.api.tokens_support import (
    EXPIRY,
    TOKENIZED_CARDS,
    card_path,
    create_ii,
    enrollment_path,
    life_cycle,
    new_merchant,
    signed_client,
    token_id_of,
)
from tests.support import Merchant, make_pan

EVERY_TYPE = [
    "tms.networktoken.provisioned",
    "tms.networktoken.updated",
    "tms.token.created",
    "tms.token.updated",
    "tms.token.pan_updated",
]
DECLINED = "4000000000000051"  # docs/simulators.md
SUBJECT = {
    "tokenizedCardEnrollments": "tokenized-cards",
    "tokenizedCardUpdates": "tokenized-cards",
    "customer": "customers",
    "paymentInstrument": "paymentInstruments",
    "instrumentIdentifier": "instrumentIdentifiers",
    "shippingAddress": "shippingAddresses",
}
PROVISIONED = ("tms.networktoken.provisioned", "PROVISIONED")
STATUS = ("tms.networktoken.updated", "TOKEN_STATUS_UPDATED")
CREATED = ("tms.token.created", "CREATED")
UPDATED = ("tms.token.updated", "UPDATED")
DELETED = ("tms.token.updated", "DELETED")


@dataclass(frozen=True)
class Stored:
    """An event row, and the subscriptions it was queued for."""

    id: str
    event_type: str
    payload: dict[str, Any]
    subscriptions: list[str]

    @property
    def summary(self) -> tuple[str, str, str]:
        data = self.payload["data"]
        return self.event_type, data["reason"], data["_links"][SUBJECT[data["type"]]][0]["id"]


class Hooks:
    """One merchant, a client signing as it, and its outbox rows."""

    def __init__(self, database: Database, merchant: Merchant, client: httpx.Client) -> None:
        self.database = database
        self.merchant = merchant
        self.client = client
        self.subscription = ""  # the fixture ``subscribed``'s
        self._seen: set[str] = set()

    def subscribe(
        self,
        status: str = "ACTIVE",
        event_types: list[str] = EVERY_TYPE,
        merchant_id: str | None = None,
        deleted: bool = False,
    ) -> str:
        subscription_id = str(uuid.uuid4())
        now = datetime.now(UTC)
        with self.database.engine.begin() as connection:
            connection.execute(
                insert(webhook_subscriptions),
                {
                    "id": subscription_id,
                    "merchant_id": merchant_id or self.merchant.id,
                    "api_version": 2,
                    "name": "events test",
                    "description": None,
                    "products": orjson.dumps(
                        [{"productId": "tokenManagement", "eventTypes": event_types}]
                    ).decode(),
                    "webhook_url": "https://receiver.invalid/hook",
                    "health_check_url": None,
                    "status": status,
                    "retry_policy": "{}",
                    "notification_scope": '"SELF"',
                    "security_policy": '{"securityType": "KEY"}',
                    "created_at": now,
                    "updated_at": None,
                    "checked_at": None,
                    "deleted_at": now if deleted else None,
                    "version": 1,
                },
            )
        return subscription_id

    def rows(self) -> list[Stored]:
        """Every event of the merchant, oldest first."""
        with self.database.engine.connect() as connection:
            events = connection.execute(
                select(webhook_events)
                .where(webhook_events.c.merchant_id == self.merchant.id)
                .order_by(webhook_events.c.created_at, webhook_events.c.id)
            ).all()
            notifications = connection.execute(
                select(webhook_notifications).where(
                    webhook_notifications.c.merchant_id == self.merchant.id
                )
            ).all()
        stored = []
        for event in events:
            assert event.product_id == "tokenManagement"
            payload = orjson.loads(event.payload)
            assert payload["data"]["id"] == event.id
            assert payload["organizationId"] == self.merchant.id
            subscriptions = sorted(
                n.subscription_id for n in notifications if n.event_id == event.id
            )
            stored.append(Stored(event.id, event.event_type, payload, subscriptions))
        for notification in notifications:
            assert notification.attempts == 0
            assert not notification.replay
            assert any(e.id == notification.event_id for e in events)
        return stored

    def new(self) -> list[Stored]:
        """The events since the last call (order-free: one change's events share a time)."""
        fresh = [row for row in self.rows() if row.id not in self._seen]
        self._seen.update(row.id for row in fresh)
        return fresh

    def new_summaries(self) -> list[tuple[str, str, str]]:
        return sorted(row.summary for row in self.new())


@pytest.fixture
def hooks(services: Services, database: Database, app: Starlette) -> Iterator[Hooks]:
    merchant = new_merchant(services, "events")
    with signed_client(app, merchant) as client:
        yield Hooks(database, merchant, client)


@pytest.fixture
def subscribed(hooks: Hooks) -> Hooks:
    """The merchant with one ACTIVE subscription to every event type."""
    hooks.subscription = hooks.subscribe()
    return hooks


def assert_ids_only(stored: list[Stored], *numbers: str) -> None:
    """No card number, no Luhn-valid run of digits (ids are made to fail the
    check), nor any of the card's fields."""
    for row in stored:
        text = orjson.dumps(row.payload).decode()
        values = set(_leaves(row.payload))
        for number in numbers:
            # A card number is nowhere; four digits (last4) are no value of
            # their own (a random id may hold them by chance).
            assert (number not in text) if len(number) > 8 else (number not in values)
        for run in re.findall(r"\d{13,19}", text):
            assert not luhn_valid(run), run
        for word in ("expiration", "suffix", "last4", "number", "bin", "email", "shipTo"):
            assert word not in text, word


def _leaves(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        for item in value.values():
            yield from _leaves(item)
    elif isinstance(value, list):
        for item in value:
            yield from _leaves(item)
    else:
        yield str(value)


# Instrument identifiers and enrollment ------------------------------------------


def test_ii_creation_with_network_tokens(subscribed: Hooks) -> None:
    pan = make_pan()
    ii = create_ii(subscribed.client, pan)
    token_id = token_id_of(ii)
    rows = subscribed.new()
    assert sorted(row.summary for row in rows) == sorted(
        [(*CREATED, ii["id"]), (*PROVISIONED, token_id)]
    )
    for row in rows:
        assert row.subscriptions == [subscribed.subscription]
    provisioned = next(r for r in rows if r.event_type == PROVISIONED[0])
    assert provisioned.payload == {
        "data": {
            "reason": "PROVISIONED",
            "id": provisioned.id,
            "type": "tokenizedCardEnrollments",
            "version": "1.0",
            "_links": {
                "tokenized-cards": [
                    {"href": f"{TOKENIZED_CARDS}/{token_id}", "id": token_id, "state": "ACTIVE"}
                ],
                "instrumentIdentifiers": [{"href": f"{II}/{ii['id']}", "id": ii["id"]}],
            },
        },
        "organizationId": subscribed.merchant.id,
    }
    created = next(r for r in rows if r.event_type == CREATED[0])
    assert created.payload["data"]["type"] == "instrumentIdentifier"
    assert created.payload["data"]["_links"] == {
        "instrumentIdentifiers": [{"href": f"{II}/{ii['id']}", "id": ii["id"]}]
    }
    assert_ids_only(rows, pan)

    # The same card again: no change, no event.
    create_ii(subscribed.client, pan, status=200)
    assert subscribed.new() == []


def test_a_refused_provisioning_announces_only_the_card(subscribed: Hooks) -> None:
    ii = create_ii(subscribed.client, DECLINED)
    assert ii["tokenizedCard"]["state"] == "UNPROVISIONED"
    assert subscribed.new_summaries() == [(*CREATED, ii["id"])]


def test_ii_update_and_delete(subscribed: Hooks) -> None:
    ii = create_ii(subscribed.client, make_pan())
    token_id = token_id_of(ii)
    subscribed.new()
    patch = {"tokenProvisioningInformation": {"consumerConsentObtained": True}}
    json_of(subscribed.client.patch(f"{II}/{ii['id']}", json=patch), 200)
    assert subscribed.new_summaries() == [(*UPDATED, ii["id"])]

    # A stale If-Match changes nothing and publishes nothing.
    stale = subscribed.client.patch(f"{II}/{ii['id']}", json=patch, headers={"if-match": '"1"'})
    assert stale.status_code == 412, stale.text
    assert subscribed.new() == []

    assert subscribed.client.delete(f"{II}/{ii['id']}").status_code == 204
    rows = subscribed.new()
    assert sorted(r.summary for r in rows) == sorted([(*DELETED, ii["id"]), (*STATUS, token_id)])
    token_event = next(r for r in rows if r.event_type == STATUS[0])
    assert token_event.payload["data"]["_links"]["tokenized-cards"][0]["state"] == "DELETED"


def test_enrollment(subscribed: Hooks, services: Services) -> None:
    plain = services.merchants.add_profile(subscribed.merchant.id, "no tokens", False).id
    ii = create_ii(subscribed.client, make_pan(), profile_id=plain)
    assert subscribed.new_summaries() == [(*CREATED, ii["id"])]
    response = subscribed.client.post(enrollment_path(ii["id"]), json={"card": EXPIRY})
    assert response.status_code == 202, response.text
    token_id = token_id_of(json_of(subscribed.client.get(f"{II}/{ii['id']}"), 200))
    assert subscribed.new_summaries() == [(*PROVISIONED, token_id)]
    # A card with a live token: 204, nothing changed.
    assert subscribed.client.post(enrollment_path(ii["id"]), json={}).status_code == 204
    assert subscribed.new() == []


# Tokenized cards and the life cycle ------------------------------------------------


def test_tokenized_card_create_and_delete(subscribed: Hooks) -> None:
    body = {"source": "ONFILE", "card": {"number": make_pan(), **EXPIRY}}
    token = json_of(subscribed.client.post(TOKENIZED_CARDS, json=body), 201)
    rows = subscribed.new()
    assert [r.summary for r in rows] == [(*PROVISIONED, token["id"])]
    assert set(rows[0].payload["data"]["_links"]) == {"tokenized-cards"}

    assert subscribed.client.delete(card_path(token["id"])).status_code == 204
    rows = subscribed.new()
    assert [r.summary for r in rows] == [(*STATUS, token["id"])]
    assert rows[0].payload["data"]["type"] == "tokenizedCardUpdates"
    assert rows[0].payload["data"]["_links"]["tokenized-cards"][0]["state"] == "DELETED"

    other = json_of(
        subscribed.client.post(
            TOKENIZED_CARDS, json=body | {"card": {"number": make_pan(), **EXPIRY}}
        ),
        201,
    )
    subscribed.new()
    response = subscribed.client.post(card_path(other["id"]) + "/delete", json={})
    assert response.status_code == 204, response.text
    assert subscribed.new_summaries() == [(*STATUS, other["id"])]
    # Deleted already: 410, no event.
    assert subscribed.client.delete(card_path(other["id"])).status_code == 410
    assert subscribed.new() == []


def test_tokenized_card_with_its_instrument_identifier(subscribed: Hooks) -> None:
    body = {
        "source": "ONFILE",
        "createInstrumentIdentifier": True,
        "card": {"number": make_pan(), **EXPIRY},
    }
    token = json_of(subscribed.client.post(TOKENIZED_CARDS, json=body), 201)
    ii_id = token["_links"]["instrumentidentifier"]["href"].rsplit("/", 1)[1]
    assert subscribed.new_summaries() == sorted([(*CREATED, ii_id), (*PROVISIONED, token["id"])])


def test_a_declined_tokenized_card_leaves_no_event(subscribed: Hooks) -> None:
    """The new card's tms.token.created is published before the network
    refuses; the refusal rolls both back."""
    body = {
        "source": "ONFILE",
        "createInstrumentIdentifier": True,
        "card": {"number": DECLINED, **EXPIRY},
    }
    response = subscribed.client.post(TOKENIZED_CARDS, json=body)
    assert response.status_code == 403, response.text
    assert subscribed.rows() == []


@pytest.mark.parametrize(
    ("steps", "expected"),
    [
        pytest.param(
            [{"state": "SUSPENDED"}], [("TOKEN_STATUS_UPDATED", "SUSPENDED")], id="suspend"
        ),
        pytest.param(
            [{"state": "SUSPENDED"}, {"state": "ACTIVE"}],
            [("TOKEN_STATUS_UPDATED", "SUSPENDED"), ("TOKEN_STATUS_UPDATED", "ACTIVE")],
            id="suspend-resume",
        ),
        pytest.param([{"state": "DELETED"}], [("TOKEN_STATUS_UPDATED", "DELETED")], id="delete"),
        pytest.param([{"card": {"last4": "9876"}}], [("CARD_UPDATED", "ACTIVE")], id="last4"),
        pytest.param(
            [{"card": {"expirationMonth": "3", "expirationYear": "2034"}}],
            [("CARD_UPDATED", "ACTIVE")],
            id="card-expiry",
        ),
        pytest.param(
            [{"expirationMonth": "07", "expirationYear": "2035"}],
            [("CARD_UPDATED", "ACTIVE")],
            id="top-level-expiry",
        ),
        pytest.param(
            [{"metadata": {"cardArt": {"combinedAsset": {"update": "true"}}}}],
            [("METADATA_UPDATED", "ACTIVE")],
            id="card-art",
        ),
        pytest.param(
            [
                {
                    "state": "SUSPENDED",
                    "card": {"last4": "1234"},
                    "metadata": {"cardArt": {"combinedAsset": {"update": True}}},
                }
            ],
            [
                ("CARD_UPDATED", "SUSPENDED"),
                ("METADATA_UPDATED", "SUSPENDED"),
                ("TOKEN_STATUS_UPDATED", "SUSPENDED"),
            ],
            id="all-at-once",
        ),
    ],
)
def test_life_cycle_simulation(
    subscribed: Hooks, steps: list[dict[str, Any]], expected: list[tuple[str, str]]
) -> None:
    pan = make_pan()
    ii = create_ii(subscribed.client, pan)
    token_id = token_id_of(ii)
    subscribed.new()
    got = []
    for step in steps:
        response = life_cycle(subscribed.client, subscribed.merchant, token_id, step)
        assert response.status_code == 204, response.text
        rows = subscribed.new()
        assert_ids_only(rows, pan, "9876", "1234")
        for row in rows:
            data = row.payload["data"]
            assert row.event_type == "tms.networktoken.updated"
            assert data["type"] == "tokenizedCardUpdates"
            card = data["_links"]["tokenized-cards"][0]
            assert card["id"] == token_id
            assert data["_links"]["instrumentIdentifiers"][0]["id"] == ii["id"]
            got.append((data["reason"], card["state"]))
        if len(steps) == 1:
            got.sort()
    assert got == expected


def test_a_refused_life_cycle_move_leaves_no_event(subscribed: Hooks) -> None:
    token_id = token_id_of(create_ii(subscribed.client, make_pan()))
    deleted = life_cycle(subscribed.client, subscribed.merchant, token_id, {"state": "DELETED"})
    assert deleted.status_code == 204, deleted.text
    subscribed.new()
    response = life_cycle(subscribed.client, subscribed.merchant, token_id, {"state": "ACTIVE"})
    assert response.status_code == 400, response.text
    assert subscribed.new() == []


# Customers, payment instruments, shipping addresses -----------------------------------


def test_customer_payment_instrument_and_address(subscribed: Hooks) -> None:
    client = subscribed.client
    customer = make_customer(client)["id"]
    assert subscribed.new_summaries() == [(*CREATED, customer)]
    json_of(
        client.patch(f"{CUSTOMERS}/{customer}", json={"buyerInformation": {"email": "b@c.d"}}), 200
    )
    assert subscribed.new_summaries() == [(*UPDATED, customer)]

    pan = make_pan()
    pi = make_customer_payment_instrument(client, customer, pan)
    ii = pi["instrumentIdentifier"]["id"]
    token_id = token_id_of(json_of(client.get(f"{II}/{ii}"), 200))
    rows = subscribed.new()
    assert sorted(r.summary for r in rows) == sorted(
        [
            (*CREATED, ii),
            (*PROVISIONED, token_id),
            (*CREATED, pi["id"]),
            (*UPDATED, customer),  # its default payment instrument
        ]
    )
    pi_row = next(r for r in rows if r.payload["data"]["type"] == "paymentInstrument")
    assert pi_row.payload["data"]["_links"] == {
        "paymentInstruments": [{"href": f"{customer_pis(customer)}/{pi['id']}", "id": pi["id"]}],
        "customers": [{"href": f"{CUSTOMERS}/{customer}", "id": customer}],
        "instrumentIdentifiers": [{"href": f"{II}/{ii}", "id": ii}],
    }
    assert_ids_only(rows, pan)

    json_of(
        client.patch(f"{customer_pis(customer)}/{pi['id']}", json={"card": {"type": "001"}}), 200
    )
    assert subscribed.new_summaries() == [(*UPDATED, pi["id"])]

    address = make_shipping_address(client, customer)["id"]
    assert subscribed.new_summaries() == sorted([(*CREATED, address), (*UPDATED, customer)])
    patch = {"shipTo": {"firstName": "Grace"}}
    json_of(client.patch(f"{customer_addresses(customer)}/{address}", json=patch), 200)
    rows = subscribed.new()
    assert [r.summary for r in rows] == [(*UPDATED, address)]
    assert rows[0].payload["data"]["_links"] == {
        "shippingAddresses": [{"href": f"{customer_addresses(customer)}/{address}", "id": address}],
        "customers": [{"href": f"{CUSTOMERS}/{customer}", "id": customer}],
    }

    assert client.delete(f"{CUSTOMERS}/{customer}").status_code == 204
    assert subscribed.new_summaries() == sorted(
        [
            (*DELETED, pi["id"]),
            (*DELETED, ii),
            (*STATUS, token_id),
            (*DELETED, address),
            (*DELETED, customer),
        ]
    )


def test_standalone_payment_instrument_and_a_new_card(subscribed: Hooks) -> None:
    client = subscribed.client
    body = {
        "card": {"expirationMonth": "12", "expirationYear": "2031", "type": "001"},
        "instrumentIdentifier": {"card": {"number": make_pan()}},
    }
    pi = json_of(client.post(PI, json=body), 201)
    first = pi["instrumentIdentifier"]["id"]
    rows = subscribed.new()
    pi_row = next(r for r in rows if r.payload["data"]["type"] == "paymentInstrument")
    assert pi_row.payload["data"]["_links"]["paymentInstruments"] == [
        {"href": f"{PI}/{pi['id']}", "id": pi["id"]}
    ]
    assert "customers" not in pi_row.payload["data"]["_links"]

    second_pan = make_pan()
    patch = {"instrumentIdentifier": {"card": {"number": second_pan}}}
    updated = json_of(client.patch(f"{PI}/{pi['id']}", json=patch), 200)
    second = updated["instrumentIdentifier"]["id"]
    assert second != first
    rows = subscribed.new()
    summaries = sorted(r.summary for r in rows)
    second_token = token_id_of(json_of(client.get(f"{II}/{second}"), 200))
    assert summaries == sorted(
        [
            (*CREATED, second),
            (*PROVISIONED, second_token),
            ("tms.token.pan_updated", "PAN_UPDATED", pi["id"]),
        ]
    )
    pan_row = next(r for r in rows if r.event_type == "tms.token.pan_updated")
    assert pan_row.payload["data"]["_links"]["instrumentIdentifiers"][0]["id"] == second
    assert_ids_only(rows, second_pan)

    assert client.delete(f"{PI}/{pi['id']}").status_code == 204
    assert subscribed.new_summaries() == [(*DELETED, pi["id"])]


def test_tokenize_announces_each_token(subscribed: Hooks) -> None:
    body = {
        "processingInformation": {
            "actionList": ["TOKEN_CREATE"],
            "actionTokenTypes": ["customer", "paymentInstrument", "instrumentIdentifier"],
        },
        "tokenInformation": {
            "customer": {"buyerInformation": {"email": "a@b.c"}},
            "paymentInstrument": {"card": {"expirationMonth": "12", "expirationYear": "2031"}},
            "instrumentIdentifier": {"card": {"number": make_pan(), **EXPIRY}},
        },
    }
    response = subscribed.client.post("/tms/v2/tokenize", json=body)
    assert response.status_code == 200, response.text
    types = sorted((r.event_type, r.payload["data"]["type"]) for r in subscribed.new())
    assert types == sorted(
        [
            ("tms.networktoken.provisioned", "tokenizedCardEnrollments"),
            ("tms.token.created", "customer"),
            ("tms.token.created", "instrumentIdentifier"),
            ("tms.token.created", "paymentInstrument"),
            ("tms.token.updated", "customer"),
        ]
    )


# Who gets what ----------------------------------------------------------------------


def test_no_subscription_no_rows(hooks: Hooks) -> None:
    create_ii(hooks.client, make_pan())
    assert hooks.rows() == []


def test_only_the_subscriptions_that_want_it(hooks: Hooks, other_merchant: Merchant) -> None:
    everything = hooks.subscribe()
    suspended = hooks.subscribe(status="SUSPENDED")  # queued, withheld (the dispatcher's part)
    hooks.subscribe(status="INACTIVE")
    hooks.subscribe(deleted=True)
    only_tokens = hooks.subscribe(event_types=["tms.token.created"])
    hooks.subscribe(event_types=["tms.networktoken.updated"])
    hooks.subscribe(merchant_id=other_merchant.id)

    ii = create_ii(hooks.client, make_pan())
    by_type = {row.event_type: row for row in hooks.new()}
    assert set(by_type) == {"tms.token.created", "tms.networktoken.provisioned"}
    assert by_type["tms.token.created"].subscriptions == sorted(
        [everything, suspended, only_tokens]
    )
    assert by_type["tms.networktoken.provisioned"].subscriptions == sorted([everything, suspended])
    assert by_type["tms.token.created"].summary == (*CREATED, ii["id"])


def test_another_merchants_changes_reach_none_of_its_subscriptions(
    hooks: Hooks, services: Services, app: Starlette
) -> None:
    hooks.subscribe()
    other = new_merchant(services, "events_other")
    with signed_client(app, other) as client:
        create_ii(client, make_pan())
    assert hooks.rows() == []


def test_a_failure_after_publishing_leaves_no_event(
    subscribed: Hooks, services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    customer = make_customer(subscribed.client)["id"]
    subscribed.new()

    def fail(*_: object) -> None:
        raise NotFound("forced after the event was published")

    # CustomerService.update publishes, then builds its view: fail there.
    monkeypatch.setattr(CustomerService, "_view", staticmethod(fail))
    tenant = services.merchants.tenant(subscribed.merchant.id, None)
    with pytest.raises(NotFound, match="forced"):
        services.customers.update(tenant, customer, {"buyerInformation": {"email": "x@y.z"}}, None)
    assert subscribed.new() == []
    monkeypatch.undo()
    assert services.customers.retrieve(tenant, customer).customer.version == 1


def test_seeding_publishes_nothing(subscribed: Hooks, services: Services) -> None:
    assert services.sandbox is not None
    registration = subscribed.merchant.registration
    document = {
        "version": 1,
        "merchants": [
            {
                "merchantId": registration.merchant_id,
                "keyId": registration.key_id,
                "sharedSecret": registration.shared_secret,
                "instrumentIdentifiers": [
                    {"card": {"number": make_pan()}, "networkToken": {"state": "SUSPENDED"}}
                ],
                "customers": [
                    {
                        "buyerInformation": {"email": "seed@example.com"},
                        "shippingAddresses": [{"shipTo": {"firstName": "Ada"}}],
                        "paymentInstruments": [
                            {"instrumentIdentifier": {"card": {"number": make_pan()}}}
                        ],
                    }
                ],
            }
        ],
    }
    raw = yaml.safe_dump(document).encode()
    outcome = services.sandbox.seed.apply(parse_seed(raw, "yaml", None))
    assert outcome.created["instrumentIdentifiers"] == 2
    assert subscribed.rows() == []
