"""POST /tms/v2/tokenize: create a customer, its payment instrument, the
instrument identifier, a shipping address and a network token in one call,
answering each resource's own status in ``responses[]``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from starlette.responses import Response

from opentms.adapters.http.errors import ERROR_RESPONSES
from opentms.adapters.http.openapi import Operation
from opentms.adapters.http.pipeline import Call, Pipeline, json_response
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
from opentms.adapters.http.schemas.tokens import TokenizeCreate
from opentms.bootstrap import Services
from opentms.domain.errors import FieldError, InvalidFields, MissingFields, VaultError
from opentms.services.payment_instruments import InstrumentIdentifierRef

ORDER = [
    "customer",
    "instrumentIdentifier",
    "paymentInstrument",
    "shippingAddress",
    "tokenizedCard",
]


def _embedded(obj: dict[str, Any], name: str) -> dict[str, Any] | None:
    """``_embedded.<name>``; the SDK's body processing turns ``_embedded`` into
    ``embedded``, so both spellings are read."""
    for key in ("_embedded", "embedded"):
        holder = obj.get(key)
        value = holder.get(name) if isinstance(holder, dict) else None
        if isinstance(value, dict):
            return value
    return None


def _error(exc: VaultError) -> dict[str, Any]:
    status, error_type = ERROR_RESPONSES[type(exc)]
    error: dict[str, Any] = {"type": error_type, "message": exc.message}
    details = getattr(exc, "details", ())
    if details:
        error["details"] = [{"name": d.name, "location": d.location} for d in details]
    return {"httpStatus": status, "errors": [error]}


def operations(services: Services, pipeline: Pipeline) -> list[Operation]:
    def post_tokenize(call: Call) -> Response:
        model, _ = call.model(TokenizeCreate)
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
        wanted = set(processing.action_token_types)
        customer_in = info.customer or {}
        pi_in = info.payment_instrument or _embedded(customer_in, "defaultPaymentInstrument") or {}
        ii_in = info.instrument_identifier or _embedded(pi_in, "instrumentIdentifier") or {}
        address_in = info.shipping_address or _embedded(customer_in, "defaultShippingAddress") or {}
        created: dict[str, str] = {}
        responses: list[dict[str, Any]] = []

        def step(resource: str, needs: list[str], action: Callable[[], tuple[str, int]]) -> None:
            missing = [need for need in needs if need in wanted and need not in created]
            if missing:
                responses.append(
                    {
                        "resource": resource,
                        "httpStatus": 424,
                        "errors": [
                            {
                                "type": "notAttempted",
                                "message": f"Not attempted: the {missing[0]} was not created.",
                            }
                        ],
                    }
                )
                return
            try:
                token_id, status = action()
            except VaultError as exc:
                responses.append({"resource": resource, **_error(exc)})
                return
            created[resource] = token_id
            responses.append({"resource": resource, "httpStatus": status, "id": token_id})

        def customer() -> tuple[str, int]:
            body = validate(CustomerCreate, customer_in)
            view = services.customers.create(call.tenant, stored(body, CUSTOMER_FIELDS))
            return view.customer.id, 201

        def instrument_identifier() -> tuple[str, int]:
            if (info.jti or info.transient_token_jwt) and not ii_in:
                raise InvalidFields(
                    "Transient tokens (Flex / Unified Checkout) are not supported; send "
                    "tokenInformation.instrumentIdentifier.card.",
                    (FieldError("tokenInformation.transientTokenJwt"),),
                )
            body = validate(InstrumentIdentifierCreate, ii_in)
            instrument = require_instrument(body.card, body.bank_account)
            view, new = services.instrument_identifiers.create(
                call.tenant, instrument, stored(body, II_FIELDS), expiry_of(body.card)
            )
            return view.instrument_identifier.id, 201 if new else 200

        def payment_instrument() -> tuple[str, int]:
            body = validate(PaymentInstrumentCreate, pi_in)
            ref = instrument_identifier_ref(body.instrument_identifier, body.card)
            if "instrumentIdentifier" in created:
                ref = InstrumentIdentifierRef(id=created["instrumentIdentifier"])
            view = services.payment_instruments.create(
                call.tenant,
                ref or InstrumentIdentifierRef(),
                stored(body, PI_FIELDS),
                created.get("customer"),
                bool(body.default),
            )
            return view.payment_instrument.id, 201

        def shipping_address() -> tuple[str, int]:
            body = validate(ShippingAddressCreate, address_in)
            address = services.shipping_addresses.create(
                call.tenant,
                created["customer"],
                stored(body, frozenset({"ship_to"})),
                bool(body.default),
            )
            return address.id, 201

        def tokenized_card() -> tuple[str, int]:
            ii_id = created["instrumentIdentifier"]
            services.instrument_identifiers.enroll(
                call.tenant, ii_id, expiry_of(validate(InstrumentIdentifierCreate, ii_in).card)
            )
            view = services.instrument_identifiers.retrieve(call.tenant, ii_id)
            if view.token is None or view.token.reason is not None:
                reason = view.token.reason.value if view.token and view.token.reason else None
                raise InvalidFields(
                    f"The network did not provision a token: {reason or 'CARD_NOT_ALLOWED'}.",
                    (FieldError("tokenInformation.instrumentIdentifier.card.number"),),
                )
            return view.token.id, 201

        actions: dict[str, tuple[list[str], Callable[[], tuple[str, int]]]] = {
            "customer": ([], customer),
            "instrumentIdentifier": ([], instrument_identifier),
            "paymentInstrument": (["customer", "instrumentIdentifier"], payment_instrument),
            "shippingAddress": (["customer"], shipping_address),
            "tokenizedCard": (["instrumentIdentifier"], tokenized_card),
        }
        if "shippingAddress" in wanted and "customer" not in wanted:
            raise InvalidFields(
                "A shipping address is created for a customer: add customer to actionTokenTypes.",
                (FieldError("processingInformation.actionTokenTypes"),),
            )
        if "tokenizedCard" in wanted and "instrumentIdentifier" not in wanted:
            raise InvalidFields(
                "A tokenized card is provisioned for an instrument identifier: add "
                "instrumentIdentifier to actionTokenTypes.",
                (FieldError("processingInformation.actionTokenTypes"),),
            )
        for resource in ORDER:
            if resource in wanted:
                needs, action = actions[resource]
                step(resource, needs, action)
        return json_response({"responses": responses})

    return [
        Operation(
            "POST",
            "/tms/v2/tokenize",
            pipeline.endpoint(post_tokenize),
            "Create several tokens in one call",
            "Tokenize",
            200,
            TokenizeCreate,
        ),
    ]
