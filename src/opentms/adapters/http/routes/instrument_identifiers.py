"""Routes of /tms/v1/instrumentidentifiers."""

from __future__ import annotations

from dataclasses import dataclass

from starlette.responses import Response

from opentms.adapters.http import render
from opentms.adapters.http.openapi import IF_MATCH, PAGING, RETRIEVE_BIN_DETAILS, Operation
from opentms.adapters.http.pipeline import AuthenticatedRequest, Pipeline, json_response, no_content
from opentms.adapters.http.routes.inputs import expiry_of, patched, require_instrument, stored
from opentms.adapters.http.schemas.instrument_identifiers import (
    STORED_FIELDS,
    InstrumentIdentifierCreate,
    InstrumentIdentifierUpdate,
)
from opentms.services.container import Services
from opentms.services.instrument_identifiers import InstrumentIdentifierService
from opentms.services.payment_instruments import PaymentInstrumentService

BASE = "/tms/v1/instrumentidentifiers"
ONE = BASE + "/{instrumentIdentifierId}"
TAG = "Instrument Identifier"


@dataclass(frozen=True)
class InstrumentIdentifierRoutes:
    """The handlers of instrument identifiers, over the services they call."""

    instrument_identifiers: InstrumentIdentifierService
    payment_instruments: PaymentInstrumentService

    def post_instrument_identifier(self, request: AuthenticatedRequest) -> Response:
        bin_lookup = request.flag("retrieveBinDetails")
        model, _ = request.model(InstrumentIdentifierCreate)
        instrument = require_instrument(model.card, model.bank_account)
        view, created = self.instrument_identifiers.create(
            request.tenant, instrument, stored(model, STORED_FIELDS), expiry_of(model.card)
        )
        ii = view.instrument_identifier
        return json_response(
            render.instrument_identifier(view, bin_lookup),
            201 if created else 200,
            ii.version,
            location=render.ii_path(ii.id),
        )

    def get_instrument_identifier(self, request: AuthenticatedRequest) -> Response:
        bin_lookup = request.flag("retrieveBinDetails")
        view = self.instrument_identifiers.retrieve(
            request.tenant, request.path("instrumentIdentifierId")
        )
        version = view.instrument_identifier.version
        return json_response(render.instrument_identifier(view, bin_lookup), 200, version)

    def patch_instrument_identifier(self, request: AuthenticatedRequest) -> Response:
        bin_lookup = request.flag("retrieveBinDetails")
        model, _ = request.model(InstrumentIdentifierUpdate)
        sent_number = bool(
            (model.card and model.card.number) or (model.bank_account and model.bank_account.number)
        )
        view = self.instrument_identifiers.update(
            request.tenant,
            request.path("instrumentIdentifierId"),
            patched(model, STORED_FIELDS),
            request.header("if-match"),
            sent_number,
        )
        version = view.instrument_identifier.version
        return json_response(render.instrument_identifier(view, bin_lookup), 200, version)

    def delete_instrument_identifier(self, request: AuthenticatedRequest) -> Response:
        self.instrument_identifiers.delete(request.tenant, request.path("instrumentIdentifierId"))
        return no_content()

    def get_instrument_identifier_payment_instruments_list(
        self,
        request: AuthenticatedRequest,
    ) -> Response:
        bin_lookup = request.flag("retrieveBinDetails")
        offset, limit = request.paging()
        ii_id = request.path("instrumentIdentifierId")
        page = self.payment_instruments.list_for_instrument_identifier(
            request.tenant, ii_id, offset, limit
        )
        body = render.page(
            f"{BASE}/{ii_id}/paymentinstruments",
            "paymentInstruments",
            page,
            lambda view: render.payment_instrument(view, bin_lookup),
        )
        return json_response(body, 200, None, **{"x-total-count": str(page.total)})

    def post_instrument_identifier_enrollment(self, request: AuthenticatedRequest) -> Response:
        model, _ = request.model(InstrumentIdentifierCreate)
        submitted = self.instrument_identifiers.enroll(
            request.tenant, request.path("instrumentIdentifierId"), expiry_of(model.card)
        )
        return Response(status_code=202 if submitted else 204)


def operations(services: Services, pipeline: Pipeline) -> list[Operation]:
    """The route table, in the order Starlette tries it."""
    routes = InstrumentIdentifierRoutes(
        services.instrument_identifiers, services.payment_instruments
    )
    e = pipeline.endpoint
    return [
        Operation(
            method="POST",
            path=BASE,
            endpoint=e(routes.post_instrument_identifier),
            summary="Create an instrument identifier",
            tag=TAG,
            status=201,
            request=InstrumentIdentifierCreate,
            parameters=[RETRIEVE_BIN_DETAILS],
            extra_statuses=(200,),
        ),
        Operation(
            method="GET",
            path=ONE,
            endpoint=e(routes.get_instrument_identifier),
            summary="Retrieve an instrument identifier",
            tag=TAG,
            parameters=[RETRIEVE_BIN_DETAILS],
        ),
        Operation(
            method="PATCH",
            path=ONE,
            endpoint=e(routes.patch_instrument_identifier),
            summary="Update an instrument identifier",
            tag=TAG,
            request=InstrumentIdentifierUpdate,
            parameters=[RETRIEVE_BIN_DETAILS, IF_MATCH],
        ),
        Operation(
            method="DELETE",
            path=ONE,
            endpoint=e(routes.delete_instrument_identifier),
            summary="Delete an instrument identifier",
            tag=TAG,
            status=204,
        ),
        Operation(
            method="GET",
            path=ONE + "/paymentinstruments",
            endpoint=e(routes.get_instrument_identifier_payment_instruments_list),
            summary="List the payment instruments of an instrument identifier",
            tag=TAG,
            parameters=[RETRIEVE_BIN_DETAILS, *PAGING],
        ),
        Operation(
            method="POST",
            path=ONE + "/enrollment",
            endpoint=e(routes.post_instrument_identifier_enrollment),
            summary="Enroll an instrument identifier for a network token",
            tag=TAG,
            status=202,
            request=InstrumentIdentifierCreate,
            extra_statuses=(204,),
        ),
    ]
