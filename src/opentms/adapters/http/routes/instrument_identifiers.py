"""Routes of /tms/v1/instrumentidentifiers."""

from __future__ import annotations

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

BASE = "/tms/v1/instrumentidentifiers"


def operations(services: Services, pipeline: Pipeline) -> list[Operation]:
    service = services.instrument_identifiers

    def post_instrument_identifier(request: AuthenticatedRequest) -> Response:
        bin_lookup = request.flag("retrieveBinDetails")
        model, _ = request.model(InstrumentIdentifierCreate)
        instrument = require_instrument(model.card, model.bank_account)
        view, created = service.create(
            request.tenant, instrument, stored(model, STORED_FIELDS), expiry_of(model.card)
        )
        ii = view.instrument_identifier
        return json_response(
            render.instrument_identifier(view, bin_lookup),
            201 if created else 200,
            ii.version,
            location=render.ii_path(ii.id),
        )

    def get_instrument_identifier(request: AuthenticatedRequest) -> Response:
        bin_lookup = request.flag("retrieveBinDetails")
        view = service.retrieve(request.tenant, request.path("instrumentIdentifierId"))
        version = view.instrument_identifier.version
        return json_response(render.instrument_identifier(view, bin_lookup), 200, version)

    def patch_instrument_identifier(request: AuthenticatedRequest) -> Response:
        bin_lookup = request.flag("retrieveBinDetails")
        model, _ = request.model(InstrumentIdentifierUpdate)
        sent_number = bool(
            (model.card and model.card.number) or (model.bank_account and model.bank_account.number)
        )
        view = service.update(
            request.tenant,
            request.path("instrumentIdentifierId"),
            patched(model, STORED_FIELDS),
            request.header("if-match"),
            sent_number,
        )
        version = view.instrument_identifier.version
        return json_response(render.instrument_identifier(view, bin_lookup), 200, version)

    def delete_instrument_identifier(request: AuthenticatedRequest) -> Response:
        service.delete(request.tenant, request.path("instrumentIdentifierId"))
        return no_content()

    def get_instrument_identifier_payment_instruments_list(
        request: AuthenticatedRequest,
    ) -> Response:
        bin_lookup = request.flag("retrieveBinDetails")
        offset, limit = request.paging()
        ii_id = request.path("instrumentIdentifierId")
        page = services.payment_instruments.list_for_instrument_identifier(
            request.tenant, ii_id, offset, limit
        )
        body = render.page(
            f"{BASE}/{ii_id}/paymentinstruments",
            "paymentInstruments",
            page,
            lambda view: render.payment_instrument(view, bin_lookup),
        )
        return json_response(body, 200, None, **{"x-total-count": str(page.total)})

    def post_instrument_identifier_enrollment(request: AuthenticatedRequest) -> Response:
        model, _ = request.model(InstrumentIdentifierCreate)
        submitted = service.enroll(
            request.tenant, request.path("instrumentIdentifierId"), expiry_of(model.card)
        )
        return Response(status_code=202 if submitted else 204)

    one = BASE + "/{instrumentIdentifierId}"
    tag = "Instrument Identifier"
    e = pipeline.endpoint
    return [
        Operation(
            method="POST",
            path=BASE,
            endpoint=e(post_instrument_identifier),
            summary="Create an instrument identifier",
            tag=tag,
            status=201,
            request=InstrumentIdentifierCreate,
            parameters=[RETRIEVE_BIN_DETAILS],
            extra_statuses=(200,),
        ),
        Operation(
            method="GET",
            path=one,
            endpoint=e(get_instrument_identifier),
            summary="Retrieve an instrument identifier",
            tag=tag,
            status=200,
            request=None,
            parameters=[RETRIEVE_BIN_DETAILS],
        ),
        Operation(
            method="PATCH",
            path=one,
            endpoint=e(patch_instrument_identifier),
            summary="Update an instrument identifier",
            tag=tag,
            status=200,
            request=InstrumentIdentifierUpdate,
            parameters=[RETRIEVE_BIN_DETAILS, IF_MATCH],
        ),
        Operation(
            method="DELETE",
            path=one,
            endpoint=e(delete_instrument_identifier),
            summary="Delete an instrument identifier",
            tag=tag,
            status=204,
        ),
        Operation(
            method="GET",
            path=one + "/paymentinstruments",
            endpoint=e(get_instrument_identifier_payment_instruments_list),
            summary="List the payment instruments of an instrument identifier",
            tag=tag,
            status=200,
            request=None,
            parameters=[RETRIEVE_BIN_DETAILS, *PAGING],
        ),
        Operation(
            method="POST",
            path=one + "/enrollment",
            endpoint=e(post_instrument_identifier_enrollment),
            summary="Enroll an instrument identifier for a network token",
            tag=tag,
            status=202,
            request=InstrumentIdentifierCreate,
            parameters=[],
            extra_statuses=(204,),
        ),
    ]
