"""The webhook events a change of the vault causes (docs/webhooks.md, "Events"):
pure builders of :class:`~opentms.domain.webhooks.Event`, and the diff of a
network token that names the life-cycle reasons of a change. The services
publish what these build through ``uow.outbox`` in the unit of work of the
change, before it commits: a change and its events commit together or not at
all.

An event carries ids, states and links only: never a card number, a token
number, a card's last four digits or expiry, an address or buyer data.

**Network tokens** (reference/webhooks.md §2, CyberSource's own examples):

- ``tms.networktoken.provisioned``, ``data.reason`` ``PROVISIONED``,
  ``data.type`` ``tokenizedCardEnrollments``, for a token a network provisioned
  (state ACTIVE): instrument identifier creation with a profile that provisions
  network tokens (``POST /tms/v1/instrumentidentifiers``, a payment
  instrument or ``/tms/v2/tokenize`` storing a new card), enrollment
  (``POST .../instrumentidentifiers/{id}/enrollment``) and tokenized-card
  creation (``POST /tms/v2/tokenized-cards``). A refused provisioning (the
  token is stored UNPROVISIONED with the network's reason) publishes nothing:
  CyberSource has no event for it, and no token exists.
- ``tms.networktoken.updated``, ``data.type`` ``tokenizedCardUpdates``, one
  event per reason :func:`network_token_changes` finds between the token before
  and after the change: ``TOKEN_STATUS_UPDATED`` (state: suspend, resume,
  delete), ``TOKEN_EXPIRY_UPDATED`` (the token's own expiry),
  ``TOKEN_UPDATED`` (state and the token's expiry at once, one event),
  ``CARD_UPDATED`` (the card's last four digits or expiry: reissued),
  ``METADATA_UPDATED`` (new card art). Caused by the issuer life-cycle
  simulation, ``DELETE``/``POST .../delete`` of a tokenized card, and the
  deletion of its instrument identifier (directly or with a customer), which
  deletes the card's live tokens: each gets ``TOKEN_STATUS_UPDATED`` with
  state DELETED. A token expiring by the clock changes no row and publishes
  nothing; the life-cycle simulation changes the card's expiry (CARD_UPDATED),
  never the token's own, so no API path causes TOKEN_EXPIRY_UPDATED or
  TOKEN_UPDATED today (the diff still names them).

Payload (``Event.payload``, the notification's ``payload`` member)::

    {"data": {"reason": "TOKEN_STATUS_UPDATED", "id": "<event id>",
              "type": "tokenizedCardUpdates", "version": "1.0",
              "_links": {"tokenized-cards": [{"href": "/tms/v2/tokenized-cards/<id>",
                                              "id": "<id>", "state": "SUSPENDED"}],
                         "instrumentIdentifiers": [{"href": "/tms/v1/instrumentidentifiers/<ii>",
                                                    "id": "<ii>"}]}},
     "organizationId": "<merchant id>"}

``instrumentIdentifiers`` is left out for a token provisioned without an
instrument identifier; ``state`` is the token's state after the change.

**TMS tokens** (customers, payment instruments, instrument identifiers,
shipping addresses; opentms's choice: CyberSource documents the event names,
not their payloads). One event per token whose stored representation changed:

- ``tms.token.created``, reason ``CREATED``: the token was created (an
  instrument identifier only when the card was new to the merchant).
- ``tms.token.updated``, reason ``UPDATED``: a PATCH, or a change another
  request made to it (a customer whose default payment instrument or shipping
  address was set or cleared by a payment instrument's or an address's
  create, update or delete).
- ``tms.token.updated``, reason ``DELETED``: the token was deleted (TMS has no
  ``tms.token.deleted``); deleting a customer deletes its payment instruments,
  shipping addresses and the instrument identifiers no other payment instrument
  uses, each with its own event.
- ``tms.token.pan_updated``, reason ``PAN_UPDATED``: a payment instrument now
  points at another card (a PATCH with another instrument identifier or card
  number). Sent instead of ``tms.token.updated`` for that change.

Payload::

    {"data": {"reason": "CREATED", "id": "<event id>", "type": "paymentInstrument",
              "version": "1.0",
              "_links": {"paymentInstruments": [
                             {"href": "/tms/v2/customers/<c>/payment-instruments/<pi>",
                              "id": "<pi>"}],
                         "customers": [{"href": "/tms/v2/customers/<c>", "id": "<c>"}],
                         "instrumentIdentifiers": [{"href": "/tms/v1/instrumentidentifiers/<ii>",
                                                    "id": "<ii>"}]}},
     "organizationId": "<merchant id>"}

``data.type`` is ``customer``, ``paymentInstrument``, ``instrumentIdentifier``
or ``shippingAddress``. ``_links`` holds the token itself under its kind's
key (``customers``, ``paymentInstruments``, ``instrumentIdentifiers``,
``shippingAddresses``), and its owners: a payment instrument links its
instrument identifier and, when it has one, its customer; a shipping address
its customer. Hrefs are the API's own paths (a customer's payment instrument
under ``/tms/v2/customers/{c}/payment-instruments/``, a standalone one under
``/tms/v1/paymentinstruments/``, a shipping address under
``/tms/v2/customers/{c}/shipping-addresses/``); a deleted token's href answers
410.

**Not published**: seeding (``opentms serve --seed``, ``POST
/opentms/v1/sandbox/seed``) sets a sandbox up and publishes nothing, network
tokens it suspends included; a sandbox reset or snapshot restore (it replaces
the outbox tables with the rest); reads; a request that changes nothing (a
card stored again, an enrollment answered 204); the payment-credentials hot
path (the ATC is not a state change a merchant is told of).

``data.id`` is the event id (:func:`~opentms.domain.webhooks.new_event_id`);
times are the service clock's, passed in by the service.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from opentms.domain.network_token import NetworkToken, TokenState
from opentms.domain.resources import (
    Customer,
    InstrumentIdentifier,
    PaymentInstrument,
    ShippingAddress,
)
from opentms.domain.webhooks import Event, EventType, LifeCycleReason, new_event_id

PAYLOAD_VERSION = "1.0"


def network_token_changes(before: NetworkToken, after: NetworkToken) -> list[LifeCycleReason]:
    """The life-cycle reasons of a change of a network token, in a fixed
    order (the token, the card, its metadata); empty when nothing a merchant
    is told of changed."""
    reasons: list[LifeCycleReason] = []
    state = before.state != after.state
    expiry = (before.expiration_month, before.expiration_year) != (
        after.expiration_month,
        after.expiration_year,
    )
    if state and expiry:
        reasons.append(LifeCycleReason.TOKEN_UPDATED)
    elif state:
        reasons.append(LifeCycleReason.TOKEN_STATUS_UPDATED)
    elif expiry:
        reasons.append(LifeCycleReason.TOKEN_EXPIRY_UPDATED)
    if before.card != after.card:
        reasons.append(LifeCycleReason.CARD_UPDATED)
    if before.card_art_revision != after.card_art_revision or before.metadata != after.metadata:
        reasons.append(LifeCycleReason.METADATA_UPDATED)
    return reasons


def network_token_event(
    token: NetworkToken, event_type: EventType, reason: LifeCycleReason, now: datetime
) -> Event:
    """``tms.networktoken.provisioned`` or ``.updated`` for ``token`` (as it is
    after the change)."""
    event_id = new_event_id()
    data_type = (
        "tokenizedCardEnrollments"
        if event_type == EventType.NETWORK_TOKEN_PROVISIONED
        else "tokenizedCardUpdates"
    )
    links: dict[str, Any] = {
        "tokenized-cards": [
            {
                "href": f"/tms/v2/tokenized-cards/{token.id}",
                "id": token.id,
                "state": token.state.value,
            }
        ]
    }
    if token.instrument_identifier_id:
        ii_id = token.instrument_identifier_id
        links["instrumentIdentifiers"] = [
            {"href": _path(TokenType.INSTRUMENT_IDENTIFIER, ii_id), "id": ii_id}
        ]
    payload = {
        "data": {
            "reason": reason.value,
            "id": event_id,
            "type": data_type,
            "version": PAYLOAD_VERSION,
            "_links": links,
        },
        "organizationId": token.merchant_id,
    }
    return Event(event_id, token.merchant_id, event_type.value, payload, now)


def provisioned(token: NetworkToken, now: datetime) -> Event | None:
    """``tms.networktoken.provisioned`` for a token a network provisioned;
    None for a refusal (an UNPROVISIONED token)."""
    if token.state != TokenState.ACTIVE:
        return None
    return network_token_event(
        token, EventType.NETWORK_TOKEN_PROVISIONED, LifeCycleReason.PROVISIONED, now
    )


def network_token_updates(before: NetworkToken, after: NetworkToken, now: datetime) -> list[Event]:
    """One ``tms.networktoken.updated`` per reason the change has."""
    return [
        network_token_event(after, EventType.NETWORK_TOKEN_UPDATED, reason, now)
        for reason in network_token_changes(before, after)
    ]


class TokenType(StrEnum):
    """``data.type`` of a ``tms.token.*`` event."""

    CUSTOMER = "customer"
    PAYMENT_INSTRUMENT = "paymentInstrument"
    INSTRUMENT_IDENTIFIER = "instrumentIdentifier"
    SHIPPING_ADDRESS = "shippingAddress"


class TokenChange(StrEnum):
    """``data.reason`` of a ``tms.token.*`` event."""

    CREATED = "CREATED"
    UPDATED = "UPDATED"
    DELETED = "DELETED"
    PAN_UPDATED = "PAN_UPDATED"

    @property
    def event_type(self) -> EventType:
        return {
            TokenChange.CREATED: EventType.TOKEN_CREATED,
            TokenChange.UPDATED: EventType.TOKEN_UPDATED,
            TokenChange.DELETED: EventType.TOKEN_UPDATED,
            TokenChange.PAN_UPDATED: EventType.TOKEN_PAN_UPDATED,
        }[self]


# The _links key of each kind of token (CyberSource's older payloads' names).
LINK_KEYS = {
    TokenType.CUSTOMER: "customers",
    TokenType.PAYMENT_INSTRUMENT: "paymentInstruments",
    TokenType.INSTRUMENT_IDENTIFIER: "instrumentIdentifiers",
    TokenType.SHIPPING_ADDRESS: "shippingAddresses",
}

_Token = Customer | PaymentInstrument | InstrumentIdentifier | ShippingAddress


def token_event(
    token_type: TokenType,
    merchant_id: str,
    token_id: str,
    change: TokenChange,
    now: datetime,
    *,
    customer_id: str | None = None,
    instrument_identifier_id: str | None = None,
) -> Event:
    """A ``tms.token.*`` event: ``change`` to the token ``token_id`` of
    ``token_type``, linking its customer and its instrument identifier when
    given (ids only)."""
    if token_type == TokenType.SHIPPING_ADDRESS and customer_id is None:
        raise ValueError("A shipping address's event links its customer.")
    event_id = new_event_id()
    links: dict[str, Any] = {
        LINK_KEYS[token_type]: [{"href": _path(token_type, token_id, customer_id), "id": token_id}]
    }
    if customer_id is not None and token_type != TokenType.CUSTOMER:
        links["customers"] = [{"href": _path(TokenType.CUSTOMER, customer_id), "id": customer_id}]
    if instrument_identifier_id is not None and token_type != TokenType.INSTRUMENT_IDENTIFIER:
        links["instrumentIdentifiers"] = [
            {
                "href": _path(TokenType.INSTRUMENT_IDENTIFIER, instrument_identifier_id),
                "id": instrument_identifier_id,
            }
        ]
    payload = {
        "data": {
            "reason": change.value,
            "id": event_id,
            "type": token_type.value,
            "version": PAYLOAD_VERSION,
            "_links": links,
        },
        "organizationId": merchant_id,
    }
    return Event(event_id, merchant_id, change.event_type.value, payload, now)


def resource_event(token: _Token, change: TokenChange, now: datetime) -> Event:
    """:func:`token_event` for a vault resource, its links taken from it."""
    if isinstance(token, Customer):
        return token_event(TokenType.CUSTOMER, token.merchant_id, token.id, change, now)
    if isinstance(token, InstrumentIdentifier):
        return token_event(
            TokenType.INSTRUMENT_IDENTIFIER, token.merchant_id, token.id, change, now
        )
    if isinstance(token, PaymentInstrument):
        return token_event(
            TokenType.PAYMENT_INSTRUMENT,
            token.merchant_id,
            token.id,
            change,
            now,
            customer_id=token.customer_id,
            instrument_identifier_id=token.instrument_identifier_id,
        )
    return token_event(
        TokenType.SHIPPING_ADDRESS,
        token.merchant_id,
        token.id,
        change,
        now,
        customer_id=token.customer_id,
    )


def _path(token_type: TokenType, token_id: str, customer_id: str | None = None) -> str:
    if token_type == TokenType.CUSTOMER:
        return f"/tms/v2/customers/{token_id}"
    if token_type == TokenType.INSTRUMENT_IDENTIFIER:
        return f"/tms/v1/instrumentidentifiers/{token_id}"
    if token_type == TokenType.PAYMENT_INSTRUMENT:
        if customer_id is not None:
            return f"/tms/v2/customers/{customer_id}/payment-instruments/{token_id}"
        return f"/tms/v1/paymentinstruments/{token_id}"
    return f"/tms/v2/customers/{customer_id}/shipping-addresses/{token_id}"
