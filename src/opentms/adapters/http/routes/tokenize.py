"""POST /tms/v2/tokenize: create a customer, its payment instrument, the
instrument identifier, a shipping address and a network token in one call,
answering each resource's own status in ``responses[]``
(services/tokenize.py makes them)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from starlette.responses import Response

from opentms.adapters.http import render
from opentms.adapters.http.openapi import Operation
from opentms.adapters.http.pipeline import AuthenticatedRequest, Pipeline, json_response
from opentms.adapters.http.routes.inputs import (
    expiry_of,
    instrument_identifier_ref,
    require_instrument,
    stored,
)
from opentms.adapters.http.schemas.common import validate
from opentms.adapters.http.schemas.customers import STORED_FIELDS as CUSTOMER_FIELDS
from opentms.adapters.http.schemas.customers import CustomerCreate, ShippingAddressCreate
from opentms.adapters.http.schemas.instrument_identifiers import (
    STORED_FIELDS as II_FIELDS,
)
from opentms.adapters.http.schemas.instrument_identifiers import InstrumentIdentifierCreate
from opentms.adapters.http.schemas.payment_instruments import (
    STORED_FIELDS as PI_FIELDS,
)
from opentms.adapters.http.schemas.payment_instruments import PaymentInstrumentCreate
from opentms.adapters.http.schemas.tokens import TokenInformation, TokenizeCreate
from opentms.domain.errors import FieldError, InvalidFields, MissingFields, VaultError
from opentms.services.container import Services
from opentms.services.tokenize import (
    NewCustomer,
    NewInstrumentIdentifier,
    NewPaymentInstrument,
    NewShippingAddress,
    Parsed,
    TokenizeRequest,
    TokenizeService,
    TokenKind,
)

_T = TypeVar("_T")


def _embedded(obj: dict[str, Any], name: str) -> dict[str, Any] | None:
    """``_embedded.<name>``; the SDK's body processing turns ``_embedded`` into
    ``embedded``, so both spellings are read."""
    for key in ("_embedded", "embedded"):
        holder = obj.get(key)
        value = holder.get(name) if isinstance(holder, dict) else None
        if isinstance(value, dict):
            return value
    return None


def _parsed(wanted: bool, parse: Callable[[], _T]) -> Parsed[_T] | None:
    """A wanted token's input, or the error reading it (answered for that
    token alone, and only if it is attempted)."""
    if not wanted:
        return None
    try:
        return parse()
    except VaultError as exc:
        return exc


def _customer(body: dict[str, Any]) -> NewCustomer:
    return NewCustomer(stored(validate(CustomerCreate, body), CUSTOMER_FIELDS))


def _instrument_identifier(info: TokenInformation, body: dict[str, Any]) -> NewInstrumentIdentifier:
    if (info.jti or info.transient_token_jwt) and not body:
        raise InvalidFields(
            "Transient tokens (Flex / Unified Checkout) are not supported; send "
            "tokenInformation.instrumentIdentifier.card.",
            (FieldError("tokenInformation.transientTokenJwt"),),
        )
    model = validate(InstrumentIdentifierCreate, body)
    instrument = require_instrument(model.card, model.bank_account)
    return NewInstrumentIdentifier(instrument, stored(model, II_FIELDS), expiry_of(model.card))


def _payment_instrument(body: dict[str, Any]) -> NewPaymentInstrument:
    model = validate(PaymentInstrumentCreate, body)
    ref = instrument_identifier_ref(model.instrument_identifier, model.card)
    return NewPaymentInstrument(ref, stored(model, PI_FIELDS), bool(model.default))


def _shipping_address(body: dict[str, Any]) -> NewShippingAddress:
    model = validate(ShippingAddressCreate, body)
    return NewShippingAddress(stored(model, frozenset({"ship_to"})), bool(model.default))


def tokenize_request(model: TokenizeCreate) -> TokenizeRequest:
    info = model.token_information
    processing = model.processing_information
    if info is None or processing is None or not processing.action_token_types:
        raise MissingFields(
            "Send processingInformation.actionTokenTypes and tokenInformation.",
            (
                FieldError("processingInformation.actionTokenTypes"),
                FieldError("tokenInformation"),
            ),
        )
    wanted = frozenset(TokenKind(kind) for kind in processing.action_token_types)
    customer_in = info.customer or {}
    pi_in = info.payment_instrument or _embedded(customer_in, "defaultPaymentInstrument") or {}
    ii_in = info.instrument_identifier or _embedded(pi_in, "instrumentIdentifier") or {}
    address_in = info.shipping_address or _embedded(customer_in, "defaultShippingAddress") or {}
    return TokenizeRequest(
        wanted,
        customer=_parsed(TokenKind.CUSTOMER in wanted, lambda: _customer(customer_in)),
        instrument_identifier=_parsed(
            TokenKind.INSTRUMENT_IDENTIFIER in wanted,
            lambda: _instrument_identifier(info, ii_in),
        ),
        payment_instrument=_parsed(
            TokenKind.PAYMENT_INSTRUMENT in wanted, lambda: _payment_instrument(pi_in)
        ),
        shipping_address=_parsed(
            TokenKind.SHIPPING_ADDRESS in wanted, lambda: _shipping_address(address_in)
        ),
    )


@dataclass(frozen=True)
class TokenizeRoutes:
    """The handler of POST /tms/v2/tokenize, over the tokenize use case."""

    tokenizer: TokenizeService

    def post_tokenize(self, request: AuthenticatedRequest) -> Response:
        model, _ = request.model(TokenizeCreate)
        outcomes = self.tokenizer.tokenize(request.tenant, tokenize_request(model))
        return json_response(render.tokenize(outcomes))


def operations(services: Services, pipeline: Pipeline) -> list[Operation]:
    """The route table."""
    tokenizer = TokenizeService(
        services.customers,
        services.instrument_identifiers,
        services.payment_instruments,
        services.shipping_addresses,
    )
    routes = TokenizeRoutes(tokenizer)
    return [
        Operation(
            method="POST",
            path="/tms/v2/tokenize",
            endpoint=pipeline.endpoint(routes.post_tokenize),
            summary="Create several tokens in one call",
            tag="Tokenize",
            request=TokenizeCreate,
        ),
    ]
