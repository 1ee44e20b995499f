"""``client.payment_instruments`` (standalone) in every client variant."""

from __future__ import annotations

import pytest

from opentms.client import (
    Address,
    BadRequest,
    Client,
    NotAvailable,
    NotFound,
    PaymentInstrument,
    PaymentInstrumentRequest,
    PreconditionFailed,
)
from tests.client.factories import make_instrument_identifier, masked, pi_request
from tests.support import make_pan


def test_create_with_a_card_stores_its_instrument_identifier(tms: Client) -> None:
    pan = make_pan()
    pi = tms.payment_instruments.create(pi_request(pan), retrieve_bin_details=True)
    assert isinstance(pi, PaymentInstrument)
    assert pi.status_code == 201
    assert pi.object == "paymentInstrument"
    assert pi.card is not None
    assert (pi.card.expiration_month, pi.card.expiration_year) == ("12", "2031")
    assert pi.bill_to == Address(first_name="Ada", last_name="Lovelace", country="GB")
    assert pi.embedded is not None
    ii = pi.embedded.instrument_identifier
    assert ii is not None
    assert ii.card is not None
    assert ii.card.number == masked(pan)
    assert ii.embedded is not None
    assert ii.embedded.bin_lookup is not None


def test_create_from_an_instrument_identifier_id_in_wire_form(tms: Client) -> None:
    ii = make_instrument_identifier(tms)
    pi = tms.payment_instruments.create(
        {
            "card": {"expirationMonth": "01", "expirationYear": "2030", "type": "001"},
            "buyerInformation": {"companyTaxID": "123456789", "dateOfBirth": "1990-05-17"},
            "instrumentIdentifier": {"id": ii.id},
        }
    )
    assert pi.instrument_identifier is not None
    assert pi.instrument_identifier.id == ii.id
    assert pi.buyer_information is not None
    assert pi.buyer_information.company_tax_id == "123456789"
    assert str(pi.buyer_information.date_of_birth) == "1990-05-17"


def test_get_update_and_delete(tms: Client) -> None:
    pi = tms.payment_instruments.create(pi_request())
    fetched = tms.payment_instruments.get(pi.id, retrieve_bin_details=True)
    assert (fetched.id, fetched.etag) == (pi.id, pi.etag)
    change = PaymentInstrumentRequest(bill_to=Address(first_name="Grace", country="US"))
    updated = tms.payment_instruments.update(
        pi.id, change, if_match=fetched.etag, retrieve_bin_details=True
    )
    assert updated.bill_to is not None
    assert updated.bill_to.first_name == "Grace"
    assert updated.etag != fetched.etag
    with pytest.raises(PreconditionFailed):
        tms.payment_instruments.update(pi.id, change, if_match=fetched.etag)
    tms.payment_instruments.delete(pi.id)
    with pytest.raises((NotFound, NotAvailable)):
        tms.payment_instruments.get(pi.id)


def test_an_invalid_field_is_a_bad_request_naming_it(tms: Client) -> None:
    with pytest.raises(BadRequest) as caught:
        tms.payment_instruments.create(
            {
                "card": {"expirationMonth": "13"},
                "instrumentIdentifier": {"card": {"number": make_pan()}},
            }
        )
    assert caught.value.status_code == 400
    assert caught.value.type == "invalidFields"
    assert [d.name for d in caught.value.details] == ["card.expirationMonth"]
    assert caught.value.details[0].location == "body"


def test_another_merchant_sees_nothing(tms: Client, other_tms: Client) -> None:
    pi = tms.payment_instruments.create(pi_request())
    with pytest.raises(NotFound):
        other_tms.payment_instruments.get(pi.id)
