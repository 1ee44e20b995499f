"""Routes of network tokens: /tms/v2/tokenized-cards, card art, the issuer
life-cycle simulation and /tms/v{2,3}/tokens/{tokenId}/payment-credentials."""

from __future__ import annotations

import base64
from dataclasses import dataclass

import orjson
from starlette.responses import Response

from opentms.adapters.http import render
from opentms.adapters.http.openapi import Operation
from opentms.adapters.http.pipeline import AuthenticatedRequest, Pipeline, json_response, no_content
from opentms.adapters.http.schemas.tokens import (
    LifeCycleSimulation,
    PaymentCredentialsCreate,
    TokenizedCardCreate,
    TokenizedCardDelete,
)
from opentms.crypto import jwe
from opentms.crypto.cryptograms import TransactionType
from opentms.domain.card import PAN
from opentms.domain.errors import FieldError, MissingFields
from opentms.domain.network_token import TokenState
from opentms.services.container import Services
from opentms.services.instrument_identifiers import CardExpiry
from opentms.services.merchants import MerchantService
from opentms.services.network_tokens import NetworkTokenService
from opentms.services.payment_credentials import (
    PASSKEY_PROVIDER,
    CredentialsRequest,
    CredentialType,
    PaymentCredentialService,
)

CARDS = "/tms/v2/tokenized-cards"
ONE = CARDS + "/{tokenizedCardId}"
TAG = "Tokenized Card"
JOSE_CONTENT_TYPE = "application/jose;charset=utf-8"


@dataclass(frozen=True)
class TokenRoutes:
    """The handlers of network tokens, card art and payment credentials, over
    the services they call."""

    tokens: NetworkTokenService
    credentials: PaymentCredentialService
    merchants: MerchantService

    def post_tokenized_card(self, request: AuthenticatedRequest) -> Response:
        model, _ = request.model(TokenizedCardCreate)
        if model.card is None or model.card.number is None:
            raise MissingFields("card.number is required.", (FieldError("card.number"),))
        pan = PAN.parse(model.card.number)
        token = self.tokens.create(
            request.tenant,
            pan,
            CardExpiry(model.card.expiration_month, model.card.expiration_year),
            model.source or "ONFILE",
            bool(model.create_pan_instrument_identifier),
        )
        return json_response(render.tokenized_card(token), 201, token.version)

    def get_tokenized_card(self, request: AuthenticatedRequest) -> Response:
        token = self.tokens.retrieve(request.tenant, request.path("tokenizedCardId"))
        return json_response(render.tokenized_card(token), 200, token.version)

    def delete_tokenized_card(self, request: AuthenticatedRequest) -> Response:
        self.tokens.delete(request.tenant, request.path("tokenizedCardId"))
        return no_content()

    def post_tokenized_card_delete(self, request: AuthenticatedRequest) -> Response:
        request.model(TokenizedCardDelete)
        self.tokens.delete(request.tenant, request.path("tokenizedCardId"))
        return no_content()

    def post_issuer_life_cycle_simulation(self, request: AuthenticatedRequest) -> Response:
        model, _ = request.model(LifeCycleSimulation)
        card = model.card
        art = model.metadata.card_art if model.metadata else None
        update = art.combined_asset.update if art and art.combined_asset else None
        self.tokens.simulate_life_cycle(
            request.tenant,
            request.path("tokenizedCardId"),
            request.header("profile-id"),
            TokenState(model.state) if model.state else None,
            card.last4 if card else None,
            (card.expiration_month if card else None) or model.expiration_month,
            (card.expiration_year if card else None) or model.expiration_year,
            update in (True, "true"),
        )
        return no_content()

    def get_card_art_asset(self, request: AuthenticatedRequest) -> Response:
        asset_type = request.path("assetType")
        token, asset_id, image = self.tokens.card_art(
            request.tenant,
            request.path("instrumentIdentifierId"),
            request.path("tokenProvider"),
            asset_type,
        )
        body = {
            "id": asset_id,
            "type": asset_type,
            "provider": token.network.provider,
            "content": [
                {
                    "type": "image/png",
                    "data": base64.b64encode(image).decode(),
                    "width": 64,
                    "height": 40,
                }
            ],
        }
        return json_response(body)

    def _issue(self, request: AuthenticatedRequest, version: int) -> Response:
        model, _ = request.model(PaymentCredentialsCreate)
        amount = model.order_information.amount_details if model.order_information else None
        passkey = any(
            identity is not None
            and identity.provider == PASSKEY_PROVIDER
            and bool(identity.id)
            and bool(identity.data)
            for identity in model.authenticated_identities or []
        )
        credentials_request = CredentialsRequest(
            version=version,
            credential_type=(
                CredentialType(model.payment_credential_type)
                if model.payment_credential_type
                else None
            ),
            transaction_type=TransactionType(model.transaction_type or "ECOM"),
            amount=amount.total_amount if amount else None,
            currency=amount.currency if amount else None,
            authenticated_by_passkey=passkey,
        )
        issued = self.credentials.issue(
            request.tenant, request.path("tokenId"), credentials_request
        )
        plaintext = orjson.dumps(render.payment_credentials(issued))
        kid, public_key = self.merchants.credentials_key(request.tenant.merchant_id)
        sealed = jwe.encrypt_compact(public_key, kid, plaintext, {"cty": "json", "typ": "JWT"})
        return Response(sealed, 201, headers={"content-type": JOSE_CONTENT_TYPE})

    def post_token_payment_credentials(self, request: AuthenticatedRequest) -> Response:
        return self._issue(request, 2)

    def post_token_payment_credentials_v3(self, request: AuthenticatedRequest) -> Response:
        return self._issue(request, 3)


def operations(services: Services, pipeline: Pipeline) -> list[Operation]:
    """The route table, in the order Starlette tries it."""
    routes = TokenRoutes(services.network_tokens, services.payment_credentials, services.merchants)
    e = pipeline.endpoint
    return [
        Operation(
            method="POST",
            path="/tms/v2/tokens/{tokenId}/payment-credentials",
            endpoint=e(routes.post_token_payment_credentials),
            summary="Payment credentials (JWE: network token, cryptogram or security code)",
            tag="Payment Credentials",
            status=201,
            request=PaymentCredentialsCreate,
            media_type="application/jose",
        ),
        Operation(
            method="POST",
            path="/tms/v3/tokens/{tokenId}/payment-credentials",
            endpoint=e(routes.post_token_payment_credentials_v3),
            summary="Payment credentials v3 (card details when there is no network token)",
            tag="Payment Credentials",
            status=201,
            request=PaymentCredentialsCreate,
            media_type="application/jose",
        ),
        Operation(
            method="POST",
            path=CARDS,
            endpoint=e(routes.post_tokenized_card),
            summary="Provision a tokenized card",
            tag=TAG,
            status=201,
            request=TokenizedCardCreate,
        ),
        Operation(
            method="GET",
            path=ONE,
            endpoint=e(routes.get_tokenized_card),
            summary="Retrieve a tokenized card",
            tag=TAG,
        ),
        Operation(
            method="DELETE",
            path=ONE,
            endpoint=e(routes.delete_tokenized_card),
            summary="Delete a tokenized card",
            tag=TAG,
            status=204,
        ),
        Operation(
            method="POST",
            path=ONE + "/delete",
            endpoint=e(routes.post_tokenized_card_delete),
            summary="Delete a tokenized card",
            tag=TAG,
            status=204,
            request=TokenizedCardDelete,
        ),
        Operation(
            method="POST",
            path=ONE + "/issuer-life-cycle-event-simulations",
            endpoint=e(routes.post_issuer_life_cycle_simulation),
            summary="Simulate an issuer life-cycle event",
            tag=TAG,
            status=204,
            request=LifeCycleSimulation,
        ),
        Operation(
            method="GET",
            path="/tms/v2/tokens/{instrumentIdentifierId}/{tokenProvider}/assets/{assetType}",
            endpoint=e(routes.get_card_art_asset),
            summary="Retrieve card art",
            tag=TAG,
        ),
    ]
