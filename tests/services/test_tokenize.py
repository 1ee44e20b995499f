"""TokenizeService without HTTP: typed inputs in, one typed outcome per wanted
token out, on the session's real services."""

from __future__ import annotations

import pytest

from opentms.bootstrap import Services
from opentms.domain.card import PAN
from opentms.domain.errors import InvalidFields, MissingFields
from opentms.services.instrument_identifiers import CardExpiry
from opentms.services.tenancy import Tenant
from opentms.services.tokenize import (
    Created,
    Failed,
    NewCustomer,
    NewInstrumentIdentifier,
    NewPaymentInstrument,
    NewShippingAddress,
    NotAttempted,
    TokenizeRequest,
    TokenizeService,
    TokenKind,
)
from tests.support import Merchant, make_pan

EVERY = frozenset(TokenKind)
CARD_NOT_ALLOWED = "4000000000000044"  # docs/simulators.md


@pytest.fixture
def tenant(services: Services, merchant: Merchant) -> Tenant:
    return services.merchants.tenant(merchant.id, None)


@pytest.fixture
def tokenizer(services: Services) -> TokenizeService:
    return TokenizeService(
        services.customers,
        services.instrument_identifiers,
        services.payment_instruments,
        services.shipping_addresses,
    )


def request_for(pan: str, wanted: frozenset[TokenKind] = EVERY) -> TokenizeRequest:
    return TokenizeRequest(
        wanted,
        customer=NewCustomer({"buyerInformation": {"email": "ada@example.com"}}),
        instrument_identifier=NewInstrumentIdentifier(PAN.parse(pan), {}, CardExpiry("12", "2031")),
        payment_instrument=NewPaymentInstrument(None, {}),
        shipping_address=NewShippingAddress({"shipTo": {"firstName": "Ada"}}),
    )


def test_every_token_is_made_in_order_and_linked(
    services: Services, tenant: Tenant, tokenizer: TokenizeService
) -> None:
    outcomes = tokenizer.tokenize(tenant, request_for(make_pan()))

    assert [o.kind for o in outcomes] == list(TokenKind)
    assert all(isinstance(o, Created) and o.new for o in outcomes)
    made = {o.kind: o.id for o in outcomes if isinstance(o, Created)}
    customer = services.customers.retrieve(tenant, made[TokenKind.CUSTOMER])
    assert customer.customer.default_payment_instrument_id == made[TokenKind.PAYMENT_INSTRUMENT]
    assert customer.customer.default_shipping_address_id == made[TokenKind.SHIPPING_ADDRESS]
    ii = services.instrument_identifiers.retrieve(tenant, made[TokenKind.INSTRUMENT_IDENTIFIER])
    assert ii.token is not None
    assert ii.token.id == made[TokenKind.TOKENIZED_CARD]


def test_a_card_stored_before_is_reused(tenant: Tenant, tokenizer: TokenizeService) -> None:
    pan = make_pan()
    wanted = frozenset({TokenKind.INSTRUMENT_IDENTIFIER})
    first = tokenizer.tokenize(tenant, request_for(pan, wanted))
    again = tokenizer.tokenize(tenant, request_for(pan, wanted))

    assert isinstance(first[0], Created)
    assert again == [Created(TokenKind.INSTRUMENT_IDENTIFIER, first[0].id, new=False)]


def test_an_input_error_fails_its_token_and_those_that_need_it(
    tenant: Tenant, tokenizer: TokenizeService
) -> None:
    unreadable = MissingFields("Send card.number.")
    request = TokenizeRequest(
        EVERY,
        customer=NewCustomer({}),
        instrument_identifier=unreadable,
        payment_instrument=NewPaymentInstrument(None, {}),
        shipping_address=NewShippingAddress({}),
    )
    outcomes = tokenizer.tokenize(tenant, request)

    assert [type(o) for o in outcomes] == [Created, Failed, NotAttempted, Created, NotAttempted]
    assert outcomes[1] == Failed(TokenKind.INSTRUMENT_IDENTIFIER, unreadable)
    assert outcomes[2] == NotAttempted(
        TokenKind.PAYMENT_INSTRUMENT, TokenKind.INSTRUMENT_IDENTIFIER
    )


def test_a_prerequisite_not_asked_for_is_not_waited_for(
    services: Services, tenant: Tenant, tokenizer: TokenizeService
) -> None:
    """A payment instrument without a customer is a standalone one."""
    wanted = frozenset({TokenKind.INSTRUMENT_IDENTIFIER, TokenKind.PAYMENT_INSTRUMENT})
    outcomes = tokenizer.tokenize(tenant, request_for(make_pan(), wanted))

    assert [type(o) for o in outcomes] == [Created, Created]
    assert isinstance(outcomes[1], Created)
    pi = services.payment_instruments.retrieve(tenant, outcomes[1].id)
    assert pi.payment_instrument.customer_id is None


def test_a_card_the_network_refuses_fails_the_tokenized_card(
    tenant: Tenant, tokenizer: TokenizeService
) -> None:
    wanted = frozenset({TokenKind.INSTRUMENT_IDENTIFIER, TokenKind.TOKENIZED_CARD})
    outcomes = tokenizer.tokenize(tenant, request_for(CARD_NOT_ALLOWED, wanted))

    assert isinstance(outcomes[0], Created)
    assert isinstance(outcomes[1], Failed)
    assert isinstance(outcomes[1].error, InvalidFields)
    assert "CARD_NOT_ALLOWED" in outcomes[1].error.message


@pytest.mark.parametrize(
    ("kind", "needs"),
    [
        (TokenKind.SHIPPING_ADDRESS, "customer"),
        (TokenKind.TOKENIZED_CARD, "instrumentIdentifier"),
    ],
)
def test_a_token_whose_prerequisite_is_not_wanted_is_refused(
    tenant: Tenant, tokenizer: TokenizeService, kind: TokenKind, needs: str
) -> None:
    with pytest.raises(InvalidFields, match=f"add {needs} to actionTokenTypes"):
        tokenizer.tokenize(tenant, request_for(make_pan(), frozenset({kind})))
