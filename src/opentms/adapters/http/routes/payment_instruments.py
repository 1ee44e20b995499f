"""Routes of /tms/v1/paymentinstruments and
/tms/v2/customers/{customerId}/payment-instruments."""

from __future__ import annotations

from starlette.responses import Response

from opentms.adapters.http import render
from opentms.adapters.http.openapi import IF_MATCH, PAGING, RETRIEVE_BIN_DETAILS, Operation
from opentms.adapters.http.pipeline import Call, Pipeline, json_response, no_content
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

    def create(call: Call, customer_id: str | None, bin_lookup: bool) -> Response:
        model, _ = call.model(PaymentInstrumentCreate)
        ref = (
            instrument_identifier_ref(model.instrument_identifier, model.card)
            or InstrumentIdentifierRef()
        )
        view = service.create(
            call.tenant, ref, stored(model, STORED_FIELDS), customer_id, bool(model.default)
        )
        pi = view.payment_instrument
        return json_response(render.payment_instrument(view, bin_lookup), 201, pi.version)

    def update(call: Call, customer_id: str | None, bin_lookup: bool) -> Response:
        model, _ = call.model(PaymentInstrumentUpdate)
        view = service.update(
            call.tenant,
            call.path("paymentInstrumentId"),
            instrument_identifier_ref(model.instrument_identifier, model.card),
            patched(model, STORED_FIELDS),
            call.header("if-match"),
            customer_id,
            bool(model.default),
        )
        pi = view.payment_instrument
        return json_response(render.payment_instrument(view, bin_lookup), 200, pi.version)

    def post_payment_instrument(call: Call) -> Response:
        return create(call, None, call.flag("retrieveBinDetails"))

    def get_payment_instrument(call: Call) -> Response:
        bin_lookup = call.flag("retrieveBinDetails")
        view = service.retrieve(call.tenant, call.path("paymentInstrumentId"))
        body = render.payment_instrument(view, bin_lookup)
        return json_response(body, 200, view.payment_instrument.version)

    def patch_payment_instrument(call: Call) -> Response:
        return update(call, None, call.flag("retrieveBinDetails"))

    def delete_payment_instrument(call: Call) -> Response:
        service.delete(call.tenant, call.path("paymentInstrumentId"))
        return no_content()

    def post_customer_payment_instrument(call: Call) -> Response:
        return create(call, call.path("customerId"), False)

    def get_customer_payment_instruments_list(call: Call) -> Response:
        offset, limit = call.paging()
        customer_id = call.path("customerId")
        page = service.list_for_customer(call.tenant, customer_id, offset, limit)
        body = render.page(
            SCOPED.replace("{customerId}", customer_id),
            "paymentInstruments",
            page,
            render.payment_instrument,
        )
        return json_response(body, 200, None, **{"x-total-count": str(page.total)})

    def get_customer_payment_instrument(call: Call) -> Response:
        view = service.retrieve(
            call.tenant, call.path("paymentInstrumentId"), call.path("customerId")
        )
        body = render.payment_instrument(view)
        return json_response(body, 200, view.payment_instrument.version)

    def patch_customers_payment_instrument(call: Call) -> Response:
        return update(call, call.path("customerId"), False)

    def delete_customer_payment_instrument(call: Call) -> Response:
        service.delete(call.tenant, call.path("paymentInstrumentId"), call.path("customerId"))
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
