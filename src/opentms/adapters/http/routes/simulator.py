"""The authorisation simulator (opentms only, outside /tms): what the card
network and issuer decide when a merchant presents a network token."""

from __future__ import annotations

from dataclasses import dataclass

from starlette.responses import Response

from opentms.adapters.http.openapi import Operation
from opentms.adapters.http.pipeline import AuthenticatedRequest, Pipeline, json_response
from opentms.adapters.http.schemas.tokens import AuthorizationCreate
from opentms.crypto.cryptograms import TransactionType
from opentms.domain.errors import FieldError, InvalidFields
from opentms.services.authorizations import Authorization, AuthorizationSimulator
from opentms.services.container import Services
from opentms.services.payment_credentials import transaction_data

PATH = "/opentms/v1/simulations/authorizations"


@dataclass(frozen=True)
class SimulatorRoutes:
    """The handler of the authorisation simulator, over the simulator service."""

    authorizations: AuthorizationSimulator

    def post_simulated_authorization(self, request: AuthenticatedRequest) -> Response:
        model, _ = request.model(AuthorizationCreate)
        if (model.cryptogram is None) == (model.security_code is None):
            raise InvalidFields(
                "Send exactly one of cryptogram or securityCode.",
                (FieldError("cryptogram"), FieldError("securityCode")),
            )
        data = transaction_data(
            request.tenant.merchant_id,
            model.amount,
            model.currency,
            TransactionType(model.transaction_type or "ECOM"),
            "amount",
            "currency",
        )
        outcome = request.tenant.outcome
        decision = self.authorizations.authorize(
            Authorization(
                merchant_id=request.tenant.merchant_id,
                token_number=model.token_number,
                expiration_month=model.expiration_month,
                expiration_year=model.expiration_year,
                cryptogram=model.cryptogram,
                security_code=model.security_code,
                eci=model.eci,
                data=data,
                forced_decline=outcome.authorization if outcome else None,
            )
        )
        body = {
            "status": decision.verdict.value,
            "reason": decision.reason.value if decision.reason else None,
            "network": decision.network.value if decision.network else None,
            "applicationTransactionCounter": decision.atc,
        }
        return json_response(body)


def operations(services: Services, pipeline: Pipeline) -> list[Operation]:
    """The route table."""
    routes = SimulatorRoutes(services.authorizations)
    return [
        Operation(
            method="POST",
            path=PATH,
            endpoint=pipeline.endpoint(routes.post_simulated_authorization),
            summary="Authorise with a network token (simulated network and issuer)",
            tag="Simulator",
            request=AuthorizationCreate,
        ),
    ]
