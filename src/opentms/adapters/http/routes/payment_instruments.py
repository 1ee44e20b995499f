"""Routes of /tms/v1/paymentinstruments and
/tms/v2/customers/{customerId}/payment-instruments."""

from __future__ import annotations

from starlette.responses import Response

from opentms.adapters.http import render
from opentms.adapters.http.openapi import IF_MATCH, PAGING, RETRIEVE_BIN_DETAILS, Operation
from opentms.adapters.http.pipeline import AuthenticatedRequest, Pipeline, json_response, no_content
from opentms.adapters.http.routes.inputs import instrument_identifier_ref, patched, stored
from opentms.adapters.http.schemas.payment_instruments import (
    STORED_FIELDS,
    PaymentInstrumentCreate,
    PaymentInstrumentUpdate,
)
from opentms.services.container import Services
from opentms.services.payment_instruments import InstrumentIdentifierRef

STANDALONE = "/tms/v1/paymentinstruments"
SCOPED = "/tms/v2/customers/{customerId}/payment-instruments"


def operations(services: Services, pipeline: Pipeline) -> list[Operation]:
    service = services.payment_instruments

    def create(
        request: AuthenticatedRequest, customer_id: str | None, bin_lookup: bool
    ) -> Response:
        model, _ = request.model(PaymentInstrumentCreate)
        ref = (
            instrument_identifier_ref(model.instrument_identifier, model.card)
            or InstrumentIdentifierRef()
        )
        view = service.create(
            request.tenant, ref, stored(model, STORED_FIELDS), customer_id, bool(model.default)
        )
        pi = view.payment_instrument
        return json_response(render.payment_instrument(view, bin_lookup), 201, pi.version)

    def update(
        request: AuthenticatedRequest, customer_id: str | None, bin_lookup: bool
    ) -> Response:
        model, _ = request.model(PaymentInstrumentUpdate)
        view = service.update(
            request.tenant,
            request.path("paymentInstrumentId"),
            instrument_identifier_ref(model.instrument_identifier, model.card),
            patched(model, STORED_FIELDS),
            request.header("if-match"),
            customer_id,
            bool(model.default),
        )
        pi = view.payment_instrument
        return json_response(render.payment_instrument(view, bin_lookup), 200, pi.version)

    def post_payment_instrument(request: AuthenticatedRequest) -> Response:
        return create(request, None, request.flag("retrieveBinDetails"))

    def get_payment_instrument(request: AuthenticatedRequest) -> Response:
        bin_lookup = request.flag("retrieveBinDetails")
        view = service.retrieve(request.tenant, request.path("paymentInstrumentId"))
        body = render.payment_instrument(view, bin_lookup)
        return json_response(body, 200, view.payment_instrument.version)

    def patch_payment_instrument(request: AuthenticatedRequest) -> Response:
        return update(request, None, request.flag("retrieveBinDetails"))

    def delete_payment_instrument(request: AuthenticatedRequest) -> Response:
        service.delete(request.tenant, request.path("paymentInstrumentId"))
        return no_content()

    def post_customer_payment_instrument(request: AuthenticatedRequest) -> Response:
        return create(request, request.path("customerId"), False)

    def get_customer_payment_instruments_list(request: AuthenticatedRequest) -> Response:
        offset, limit = request.paging()
        customer_id = request.path("customerId")
        page = service.list_for_customer(request.tenant, customer_id, offset, limit)
        body = render.page(
            SCOPED.replace("{customerId}", customer_id),
            "paymentInstruments",
            page,
            render.payment_instrument,
        )
        return json_response(body, 200, None, **{"x-total-count": str(page.total)})

    def get_customer_payment_instrument(request: AuthenticatedRequest) -> Response:
        view = service.retrieve(
            request.tenant, request.path("paymentInstrumentId"), request.path("customerId")
        )
        body = render.payment_instrument(view)
        return json_response(body, 200, view.payment_instrument.version)

    def patch_customers_payment_instrument(request: AuthenticatedRequest) -> Response:
        return update(request, request.path("customerId"), False)

    def delete_customer_payment_instrument(request: AuthenticatedRequest) -> Response:
        service.delete(
            request.tenant, request.path("paymentInstrumentId"), request.path("customerId")
        )
        return no_content()

    e = pipeline.endpoint
    one = STANDALONE + "/{paymentInstrumentId}"
    scoped_one = SCOPED + "/{paymentInstrumentId}"
    tag, scoped_tag = "Payment Instrument", "Customer Payment Instrument"
    return [
        Operation(
            method="POST",
            path=STANDALONE,
            endpoint=e(post_payment_instrument),
            summary="Create a payment instrument",
            tag=tag,
            status=201,
            request=PaymentInstrumentCreate,
            parameters=[RETRIEVE_BIN_DETAILS],
        ),
        Operation(
            method="GET",
            path=one,
            endpoint=e(get_payment_instrument),
            summary="Retrieve a payment instrument",
            tag=tag,
            status=200,
            request=None,
            parameters=[RETRIEVE_BIN_DETAILS],
        ),
        Operation(
            method="PATCH",
            path=one,
            endpoint=e(patch_payment_instrument),
            summary="Update a payment instrument",
            tag=tag,
            status=200,
            request=PaymentInstrumentUpdate,
            parameters=[RETRIEVE_BIN_DETAILS, IF_MATCH],
        ),
        Operation(
            method="DELETE",
            path=one,
            endpoint=e(delete_payment_instrument),
            summary="Delete a payment instrument",
            tag=tag,
            status=204,
        ),
        Operation(
            method="POST",
            path=SCOPED,
            endpoint=e(post_customer_payment_instrument),
            summary="Create a customer payment instrument",
            tag=scoped_tag,
            status=201,
            request=PaymentInstrumentCreate,
        ),
        Operation(
            method="GET",
            path=SCOPED,
            endpoint=e(get_customer_payment_instruments_list),
            summary="List a customer's payment instruments",
            tag=scoped_tag,
            status=200,
            request=None,
            parameters=PAGING,
        ),
        Operation(
            method="GET",
            path=scoped_one,
            endpoint=e(get_customer_payment_instrument),
            summary="Retrieve a customer payment instrument",
            tag=scoped_tag,
        ),
        Operation(
            method="PATCH",
            path=scoped_one,
            endpoint=e(patch_customers_payment_instrument),
            summary="Update a customer payment instrument",
            tag=scoped_tag,
            status=200,
            request=PaymentInstrumentUpdate,
            parameters=[IF_MATCH],
        ),
        Operation(
            method="DELETE",
            path=scoped_one,
            endpoint=e(delete_customer_payment_instrument),
            summary="Delete a customer payment instrument",
            tag=scoped_tag,
            status=204,
        ),
    ]
