"""The authorisation simulator (opentms only, outside /tms): what the card
network and issuer decide when a merchant presents a network token."""

from __future__ import annotations

from starlette.responses import Response

from opentms.adapters.http.openapi import Operation
from opentms.adapters.http.pipeline import Call, Pipeline, json_response
from opentms.adapters.http.schemas.tokens import AuthorizationCreate
from opentms.bootstrap import Services
from opentms.crypto import cryptograms
from opentms.crypto.cryptograms import TransactionData, TransactionType
from opentms.domain.errors import FieldError, InvalidFields, invalid_field
from opentms.services.authorizations import Authorization

PATH = "/opentms/v1/simulations/authorizations"


def operations(services: Services, pipeline: Pipeline) -> list[Operation]:
    def post_simulated_authorization(call: Call) -> Response:
        model, _ = call.model(AuthorizationCreate)
        if (model.cryptogram is None) == (model.security_code is None):
            raise InvalidFields(
                "Send exactly one of cryptogram or securityCode.",
                (FieldError("cryptogram"), FieldError("securityCode")),
            )
        currency, amount = "000", 0
        if model.currency is not None:
            try:
                currency = cryptograms.currency_numeric(model.currency)
            except ValueError:
                raise invalid_field("currency", "currency must be an ISO 4217 code.") from None
        if model.amount is not None:
            if model.currency is None:
                raise invalid_field("currency", "An amount needs its currency.")
            try:
                amount = cryptograms.amount_minor_units(model.amount, currency)
            except ValueError:
                raise invalid_field(
                    "amount", "amount has more decimals than the currency allows."
                ) from None
        decision = services.authorizations.authorize(
            Authorization(
                token_number=model.token_number,
                expiration_month=model.expiration_month,
                expiration_year=model.expiration_year,
                cryptogram=model.cryptogram,
                security_code=model.security_code,
                eci=model.eci,
                data=TransactionData(
                    amount=amount,
                    currency=currency,
                    merchant_reference=cryptograms.merchant_reference(call.tenant.merchant_id),
                    transaction_type=TransactionType(model.transaction_type or "ECOM"),
                ),
            )
        )
        body = {
            "status": decision.verdict.value,
            "reason": decision.reason.value if decision.reason else None,
            "network": decision.network.value if decision.network else None,
            "applicationTransactionCounter": decision.atc,
        }
        return json_response(body)

    return [
        Operation(
            "POST",
            PATH,
            pipeline.endpoint(post_simulated_authorization),
            "Authorise with a network token (simulated network and issuer)",
            "Simulator",
            200,
            AuthorizationCreate,
        ),
    ]
