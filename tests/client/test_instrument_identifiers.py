"""``client.instrument_identifiers`` against the in-process app, in every
client variant (sync/async x HTTP Signature/JWT)."""

from __future__ import annotations

import pytest

from opentms.client import (
    Card,
    Client,
    Conflict,
    InstrumentIdentifier,
    InstrumentIdentifierRequest,
    NotAvailable,
    NotFound,
    PreconditionFailed,
)
from tests.client.factories import make_instrument_identifier, masked, pi_request
from tests.support import make_pan

PREVIOUS = {
    "processingInformation": {
        "authorizationOptions": {
            "initiator": {
                "merchantInitiatedTransaction": {"previousTransactionId": "123456789012345"}
            }
        }
    }
}


def test_create_stores_a_card_once(tms: Client) -> None:
    pan = make_pan()
    created = tms.instrument_identifiers.create(
        InstrumentIdentifierRequest(card=Card(number=pan, expiration_month="12"))
    )
    assert isinstance(created, InstrumentIdentifier)
    assert created.status_code == 201
    assert created.object == "instrumentIdentifier"
    assert created.state == "ACTIVE"
    assert created.card is not None
    assert created.card.number == masked(pan)
    assert created.etag
    again = tms.instrument_identifiers.create({"card": {"number": pan}})
    assert (again.id, again.status_code) == (created.id, 200)


def test_create_with_bin_details(tms: Client) -> None:
    created = tms.instrument_identifiers.create(
        {"card": {"number": make_pan()}}, retrieve_bin_details=True
    )
    assert created.embedded is not None
    assert created.embedded.bin_lookup is not None
    info = created.embedded.bin_lookup.payment_account_information
    assert info is not None
    assert info.card is not None
    assert info.card.type == "001"


def test_get_returns_the_card_its_network_token_and_etag(tms: Client) -> None:
    created = make_instrument_identifier(tms)
    fetched = tms.instrument_identifiers.get(created.id, retrieve_bin_details=True)
    assert fetched.id == created.id
    assert fetched.etag == created.etag
    assert fetched.status_code == 200
    assert fetched.tokenized_card is not None
    assert fetched.tokenized_card.state == "ACTIVE"
    assert fetched.tokenized_card.type == "visa"
    assert fetched.issuer is not None
    assert fetched.issuer.payment_account_reference
    assert fetched.links is not None
    assert "tokenized-cards" in fetched.links
    assert fetched.embedded is not None
    assert fetched.embedded.bin_lookup is not None


def test_update_with_if_match_and_a_stale_etag(tms: Client) -> None:
    created = make_instrument_identifier(tms)
    updated = tms.instrument_identifiers.update(created.id, PREVIOUS, if_match=created.etag)
    assert updated.etag != created.etag
    assert updated.processing_information is not None
    options = updated.processing_information.authorization_options
    assert options is not None
    assert options.initiator is not None
    mit = options.initiator.merchant_initiated_transaction
    assert mit is not None
    assert mit.previous_transaction_id == "123456789012345"
    with pytest.raises(PreconditionFailed) as caught:
        tms.instrument_identifiers.update(created.id, PREVIOUS, if_match=created.etag)
    assert caught.value.status_code == 412
    assert caught.value.type == "conflict"
    assert "if-match" in caught.value.message.lower()


def test_list_payment_instruments_pages(tms: Client) -> None:
    pan = make_pan()
    first = tms.payment_instruments.create(pi_request(pan))
    second = tms.payment_instruments.create(pi_request(pan))
    assert first.instrument_identifier is not None
    ii_id = first.instrument_identifier.id
    assert ii_id is not None
    page = tms.instrument_identifiers.list_payment_instruments(ii_id, limit=1)
    assert (page.offset, page.limit, page.count, page.total) == (0, 1, 1, 2)
    assert page.links is not None
    assert "next" in page.links
    rest = tms.instrument_identifiers.list_payment_instruments(
        ii_id, offset=1, limit=1, retrieve_bin_details=True
    )
    ids = {page.items[0].id, rest.items[0].id}
    assert ids == {first.id, second.id}
    embedded = rest.items[0].embedded
    assert embedded is not None
    assert embedded.instrument_identifier is not None
    assert embedded.instrument_identifier.embedded is not None


def test_enroll_answers_whether_provisioning_was_submitted(tms: Client) -> None:
    # A Mastercard BIN; the default profile provisions at creation, so the
    # card has a token already (204), and a deleted token makes room for one.
    created = make_instrument_identifier(tms, make_pan("555555"))
    assert tms.instrument_identifiers.enroll(created.id) is False
    assert created.tokenized_card is not None
    token_link = (created.links or {})["tokenized-cards"].href
    assert token_link is not None
    tms.tokenized_cards.delete(token_link.rsplit("/", 1)[1])
    request = {
        "type": "enrollable card",
        "card": {"expirationMonth": "12", "expirationYear": "2031"},
    }
    assert tms.instrument_identifiers.enroll(created.id, request) is True


def test_delete_then_get_is_gone(tms: Client) -> None:
    created = make_instrument_identifier(tms)
    tms.instrument_identifiers.delete(created.id)
    with pytest.raises(NotAvailable) as caught:
        tms.instrument_identifiers.get(created.id)
    assert (caught.value.status_code, caught.value.type) == (410, "notAvailable")


def test_get_of_an_unknown_id_is_not_found(tms: Client) -> None:
    with pytest.raises(NotFound) as caught:
        tms.instrument_identifiers.get("7010000000000000001")
    assert caught.value.status_code == 404
    assert caught.value.type == "notFound"
    assert caught.value.message == "Token not found"
    assert caught.value.response is not None
    assert caught.value.correlation_id


def test_delete_while_in_use_is_a_conflict(tms: Client) -> None:
    pi = tms.payment_instruments.create(pi_request())
    assert pi.instrument_identifier is not None
    assert pi.instrument_identifier.id is not None
    with pytest.raises(Conflict) as caught:
        tms.instrument_identifiers.delete(pi.instrument_identifier.id)
    assert caught.value.status_code == 409
    assert caught.value.type == "instrumentIdentifierDeletionError"
