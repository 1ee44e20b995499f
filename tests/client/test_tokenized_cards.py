"""``client.tokenized_cards`` in every client variant: provisioning, life
cycle, card art and deletion."""

from __future__ import annotations

import base64

import pytest

from opentms.client import (
    BadRequest,
    Card,
    CardArtAsset,
    Client,
    Forbidden,
    LifeCycleSimulationRequest,
    NotAvailable,
    TokenizedCard,
    TokenizedCardRequest,
)
from tests.client.factories import EXPIRY, masked
from tests.support import Merchant, make_pan


def provision(client: Client, pan: str | None = None) -> TokenizedCard:
    request = TokenizedCardRequest(
        source="ONFILE",
        card=Card(number=pan or make_pan(), **EXPIRY),
        create_pan_instrument_identifier=True,
    )
    return client.tokenized_cards.create(request)


def test_create_and_get(tms: Client) -> None:
    token = provision(tms)
    assert token.status_code == 201
    assert token.id is not None
    assert token.state == "ACTIVE"
    assert token.type == "visa"
    assert token.number is not None
    assert token.masked_number == token.number  # masked by the server already
    assert token.card is not None
    assert token.card.suffix
    fetched = tms.tokenized_cards.get(token.id)
    assert fetched.id == token.id
    assert fetched.etag
    assert fetched.links is not None
    assert "instrumentidentifier" in fetched.links


def test_a_declined_card_is_forbidden(tms: Client) -> None:
    with pytest.raises(Forbidden) as caught:
        provision(tms, "4000000000000051")
    assert (caught.value.status_code, caught.value.type) == (403, "declined")


def test_card_art(tms: Client) -> None:
    pan = make_pan()
    token = provision(tms, pan)
    ii = tms.instrument_identifiers.create({"card": {"number": pan}})
    assert token.metadata is not None
    assert token.metadata.card_art is not None
    asset_ref = token.metadata.card_art.combined_asset
    assert asset_ref is not None
    asset = tms.tokenized_cards.card_art(ii.id, "vts", "card-art-combined")
    assert isinstance(asset, CardArtAsset)
    assert (asset.id, asset.type, asset.provider) == (asset_ref.id, "card-art-combined", "vts")
    assert asset.content
    assert asset.content[0].data is not None
    assert base64.b64decode(asset.content[0].data).startswith(b"\x89PNG")


def test_life_cycle_suspend_resume_and_delete(tms: Client, merchant: Merchant) -> None:
    profile_id = merchant.registration.default_profile_id
    token = provision(tms)
    assert token.id is not None
    suspend = LifeCycleSimulationRequest(state="SUSPENDED")
    with pytest.raises(BadRequest) as caught:
        tms.tokenized_cards.simulate_life_cycle(token.id, suspend)
    assert caught.value.type == "missingHeaders"
    tms.tokenized_cards.simulate_life_cycle(token.id, suspend, profile_id=profile_id)
    assert tms.tokenized_cards.get(token.id).state == "SUSPENDED"
    with pytest.raises(Forbidden):
        tms.tokens.payment_credentials(token.id)
    tms.tokenized_cards.simulate_life_cycle(
        token.id,
        {
            "state": "ACTIVE",
            "card": {"last4": "4242", "expirationMonth": "01", "expirationYear": "2033"},
        },
        profile_id=profile_id,
    )
    resumed = tms.tokenized_cards.get(token.id)
    assert resumed.state == "ACTIVE"
    assert resumed.card is not None
    assert resumed.card.suffix == "4242"
    tms.tokenized_cards.delete(token.id, {"reason": {"code": "FRAUD"}})
    assert tms.tokenized_cards.get(token.id).state == "DELETED"
    with pytest.raises(NotAvailable):
        tms.tokens.payment_credentials(token.id)


def test_delete_without_a_reason(tms: Client) -> None:
    token = provision(tms)
    assert token.id is not None
    tms.tokenized_cards.delete(token.id)
    assert tms.tokenized_cards.get(token.id).state == "DELETED"


def test_the_masked_number_of_a_clear_token() -> None:
    assert TokenizedCard(number="4895370000001234").masked_number == masked("4895370000001234")
    assert TokenizedCard().masked_number is None
