"""Routes of /tms/v2/customers and their shipping addresses."""

from __future__ import annotations

from dataclasses import dataclass

from starlette.responses import Response

from opentms.adapters.http import render
from opentms.adapters.http.openapi import IF_MATCH, PAGING, Operation
from opentms.adapters.http.pipeline import AuthenticatedRequest, Pipeline, json_response, no_content
from opentms.adapters.http.routes.inputs import patched, stored
from opentms.adapters.http.schemas.customers import (
    STORED_FIELDS,
    CustomerCreate,
    CustomerUpdate,
    ShippingAddressCreate,
    ShippingAddressUpdate,
)
from opentms.services.container import Services
from opentms.services.customers import CustomerService, ShippingAddressService

CUSTOMERS = "/tms/v2/customers"
ADDRESSES = "/tms/v2/customers/{customerId}/shipping-addresses"
ONE = CUSTOMERS + "/{customerId}"
ADDRESS = ADDRESSES + "/{shippingAddressId}"
ADDRESS_FIELDS = frozenset({"ship_to"})
CUSTOMER_TAG = "Customer"
ADDRESS_TAG = "Customer Shipping Address"


@dataclass(frozen=True)
class CustomerRoutes:
    """The handlers of customers and their shipping addresses, over the services they call."""

    customers: CustomerService
    addresses: ShippingAddressService

    def post_customer(self, request: AuthenticatedRequest) -> Response:
        model, _ = request.model(CustomerCreate)
        view = self.customers.create(request.tenant, stored(model, STORED_FIELDS))
        return json_response(render.customer(view), 201, view.customer.version)

    def get_customer(self, request: AuthenticatedRequest) -> Response:
        view = self.customers.retrieve(request.tenant, request.path("customerId"))
        return json_response(render.customer(view), 200, view.customer.version)

    def patch_customer(self, request: AuthenticatedRequest) -> Response:
        model, _ = request.model(CustomerUpdate)
        view = self.customers.update(
            request.tenant,
            request.path("customerId"),
            patched(model, STORED_FIELDS),
            request.header("if-match"),
            model.default_payment_instrument.id if model.default_payment_instrument else None,
            model.default_shipping_address.id if model.default_shipping_address else None,
        )
        return json_response(render.customer(view), 200, view.customer.version)

    def delete_customer(self, request: AuthenticatedRequest) -> Response:
        self.customers.delete(request.tenant, request.path("customerId"))
        return no_content()

    def post_customer_shipping_address(self, request: AuthenticatedRequest) -> Response:
        model, _ = request.model(ShippingAddressCreate)
        address = self.addresses.create(
            request.tenant,
            request.path("customerId"),
            stored(model, ADDRESS_FIELDS),
            bool(model.default),
        )
        return json_response(render.shipping_address(address), 201, address.version)

    def get_customer_shipping_addresses_list(self, request: AuthenticatedRequest) -> Response:
        offset, limit = request.paging()
        customer_id = request.path("customerId")
        page = self.addresses.list_for_customer(request.tenant, customer_id, offset, limit)
        body = render.page(
            ADDRESSES.replace("{customerId}", customer_id),
            "shippingAddresses",
            page,
            render.shipping_address,
        )
        return json_response(body, 200, None, **{"x-total-count": str(page.total)})

    def get_customer_shipping_address(self, request: AuthenticatedRequest) -> Response:
        address = self.addresses.retrieve(
            request.tenant, request.path("customerId"), request.path("shippingAddressId")
        )
        return json_response(render.shipping_address(address), 200, address.version)

    def patch_customers_shipping_address(self, request: AuthenticatedRequest) -> Response:
        model, _ = request.model(ShippingAddressUpdate)
        address = self.addresses.update(
            request.tenant,
            request.path("customerId"),
            request.path("shippingAddressId"),
            patched(model, ADDRESS_FIELDS),
            request.header("if-match"),
            bool(model.default),
        )
        return json_response(render.shipping_address(address), 200, address.version)

    def delete_customer_shipping_address(self, request: AuthenticatedRequest) -> Response:
        self.addresses.delete(
            request.tenant, request.path("customerId"), request.path("shippingAddressId")
        )
        return no_content()


def operations(services: Services, pipeline: Pipeline) -> list[Operation]:
    """The route table, in the order Starlette tries it."""
    routes = CustomerRoutes(services.customers, services.shipping_addresses)
    e = pipeline.endpoint
    return [
        Operation(
            method="POST",
            path=CUSTOMERS,
            endpoint=e(routes.post_customer),
            summary="Create a customer",
            tag=CUSTOMER_TAG,
            status=201,
            request=CustomerCreate,
        ),
        Operation(
            method="GET",
            path=ONE,
            endpoint=e(routes.get_customer),
            summary="Retrieve a customer",
            tag=CUSTOMER_TAG,
        ),
        Operation(
            method="PATCH",
            path=ONE,
            endpoint=e(routes.patch_customer),
            summary="Update a customer",
            tag=CUSTOMER_TAG,
            request=CustomerUpdate,
            parameters=[IF_MATCH],
        ),
        Operation(
            method="DELETE",
            path=ONE,
            endpoint=e(routes.delete_customer),
            summary="Delete a customer",
            tag=CUSTOMER_TAG,
            status=204,
        ),
        Operation(
            method="POST",
            path=ADDRESSES,
            endpoint=e(routes.post_customer_shipping_address),
            summary="Create a customer shipping address",
            tag=ADDRESS_TAG,
            status=201,
            request=ShippingAddressCreate,
        ),
        Operation(
            method="GET",
            path=ADDRESSES,
            endpoint=e(routes.get_customer_shipping_addresses_list),
            summary="List a customer's shipping addresses",
            tag=ADDRESS_TAG,
            parameters=PAGING,
        ),
        Operation(
            method="GET",
            path=ADDRESS,
            endpoint=e(routes.get_customer_shipping_address),
            summary="Retrieve a customer shipping address",
            tag=ADDRESS_TAG,
        ),
        Operation(
            method="PATCH",
            path=ADDRESS,
            endpoint=e(routes.patch_customers_shipping_address),
            summary="Update a customer shipping address",
            tag=ADDRESS_TAG,
            request=ShippingAddressUpdate,
            parameters=[IF_MATCH],
        ),
        Operation(
            method="DELETE",
            path=ADDRESS,
            endpoint=e(routes.delete_customer_shipping_address),
            summary="Delete a customer shipping address",
            tag=ADDRESS_TAG,
            status=204,
        ),
    ]
