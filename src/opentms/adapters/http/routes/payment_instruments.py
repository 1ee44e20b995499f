"""Routes of /tms/v1/paymentinstruments and
/tms/v2/customers/{customerId}/payment-instruments."""

from __future__ import annotations

from dataclasses import dataclass

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
from opentms.services.payment_instruments import InstrumentIdentifierRef, PaymentInstrumentService

STANDALONE = "/tms/v1/paymentinstruments"
SCOPED = "/tms/v2/customers/{customerId}/payment-instruments"
ONE = STANDALONE + "/{paymentInstrumentId}"
SCOPED_ONE = SCOPED + "/{paymentInstrumentId}"
TAG = "Payment Instrument"
SCOPED_TAG = "Customer Payment Instrument"


@dataclass(frozen=True)
class PaymentInstrumentRoutes:
    """The handlers of payment instruments, standalone and a customer's, over
    the service they call."""

    service: PaymentInstrumentService

    def _create(
        self, request: AuthenticatedRequest, customer_id: str | None, bin_lookup: bool
    ) -> Response:
        model, _ = request.model(PaymentInstrumentCreate)
        ref = (
            instrument_identifier_ref(model.instrument_identifier, model.card)
            or InstrumentIdentifierRef()
        )
        view = self.service.create(
            request.tenant, ref, stored(model, STORED_FIELDS), customer_id, bool(model.default)
        )
        pi = view.payment_instrument
        return json_response(render.payment_instrument(view, bin_lookup), 201, pi.version)

    def _update(
        self, request: AuthenticatedRequest, customer_id: str | None, bin_lookup: bool
    ) -> Response:
        model, _ = request.model(PaymentInstrumentUpdate)
        view = self.service.update(
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

    def post_payment_instrument(self, request: AuthenticatedRequest) -> Response:
        return self._create(request, None, request.flag("retrieveBinDetails"))

    def get_payment_instrument(self, request: AuthenticatedRequest) -> Response:
        bin_lookup = request.flag("retrieveBinDetails")
        view = self.service.retrieve(request.tenant, request.path("paymentInstrumentId"))
        body = render.payment_instrument(view, bin_lookup)
        return json_response(body, 200, view.payment_instrument.version)

    def patch_payment_instrument(self, request: AuthenticatedRequest) -> Response:
        return self._update(request, None, request.flag("retrieveBinDetails"))

    def delete_payment_instrument(self, request: AuthenticatedRequest) -> Response:
        self.service.delete(request.tenant, request.path("paymentInstrumentId"))
        return no_content()

    def post_customer_payment_instrument(self, request: AuthenticatedRequest) -> Response:
        return self._create(request, request.path("customerId"), False)

    def get_customer_payment_instruments_list(self, request: AuthenticatedRequest) -> Response:
        offset, limit = request.paging()
        customer_id = request.path("customerId")
        page = self.service.list_for_customer(request.tenant, customer_id, offset, limit)
        body = render.page(
            SCOPED.replace("{customerId}", customer_id),
            "paymentInstruments",
            page,
            render.payment_instrument,
        )
        return json_response(body, 200, None, **{"x-total-count": str(page.total)})

    def get_customer_payment_instrument(self, request: AuthenticatedRequest) -> Response:
        view = self.service.retrieve(
            request.tenant, request.path("paymentInstrumentId"), request.path("customerId")
        )
        body = render.payment_instrument(view)
        return json_response(body, 200, view.payment_instrument.version)

    def patch_customers_payment_instrument(self, request: AuthenticatedRequest) -> Response:
        return self._update(request, request.path("customerId"), False)

    def delete_customer_payment_instrument(self, request: AuthenticatedRequest) -> Response:
        self.service.delete(
            request.tenant, request.path("paymentInstrumentId"), request.path("customerId")
        )
        return no_content()


def operations(services: Services, pipeline: Pipeline) -> list[Operation]:
    """The route table, in the order Starlette tries it."""
    routes = PaymentInstrumentRoutes(services.payment_instruments)
    e = pipeline.endpoint
    return [
        Operation(
            method="POST",
            path=STANDALONE,
            endpoint=e(routes.post_payment_instrument),
            summary="Create a payment instrument",
            tag=TAG,
            status=201,
            request=PaymentInstrumentCreate,
            parameters=[RETRIEVE_BIN_DETAILS],
        ),
        Operation(
            method="GET",
            path=ONE,
            endpoint=e(routes.get_payment_instrument),
            summary="Retrieve a payment instrument",
            tag=TAG,
            parameters=[RETRIEVE_BIN_DETAILS],
        ),
        Operation(
            method="PATCH",
            path=ONE,
            endpoint=e(routes.patch_payment_instrument),
            summary="Update a payment instrument",
            tag=TAG,
            request=PaymentInstrumentUpdate,
            parameters=[RETRIEVE_BIN_DETAILS, IF_MATCH],
        ),
        Operation(
            method="DELETE",
            path=ONE,
            endpoint=e(routes.delete_payment_instrument),
            summary="Delete a payment instrument",
            tag=TAG,
            status=204,
        ),
        Operation(
            method="POST",
            path=SCOPED,
            endpoint=e(routes.post_customer_payment_instrument),
            summary="Create a customer payment instrument",
            tag=SCOPED_TAG,
            status=201,
            request=PaymentInstrumentCreate,
        ),
        Operation(
            method="GET",
            path=SCOPED,
            endpoint=e(routes.get_customer_payment_instruments_list),
            summary="List a customer's payment instruments",
            tag=SCOPED_TAG,
            parameters=PAGING,
        ),
        Operation(
            method="GET",
            path=SCOPED_ONE,
            endpoint=e(routes.get_customer_payment_instrument),
            summary="Retrieve a customer payment instrument",
            tag=SCOPED_TAG,
        ),
        Operation(
            method="PATCH",
            path=SCOPED_ONE,
            endpoint=e(routes.patch_customers_payment_instrument),
            summary="Update a customer payment instrument",
            tag=SCOPED_TAG,
            request=PaymentInstrumentUpdate,
            parameters=[IF_MATCH],
        ),
        Operation(
            method="DELETE",
            path=SCOPED_ONE,
            endpoint=e(routes.delete_customer_payment_instrument),
            summary="Delete a customer payment instrument",
            tag=SCOPED_TAG,
            status=204,
        ),
    ]
