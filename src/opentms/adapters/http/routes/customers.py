"""Routes of /tms/v2/customers and their shipping addresses."""

from __future__ import annotations

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

CUSTOMERS = "/tms/v2/customers"
ADDRESSES = "/tms/v2/customers/{customerId}/shipping-addresses"
ADDRESS_FIELDS = frozenset({"ship_to"})


def operations(services: Services, pipeline: Pipeline) -> list[Operation]:
    customers = services.customers
    addresses = services.shipping_addresses

    def post_customer(request: AuthenticatedRequest) -> Response:
        model, _ = request.model(CustomerCreate)
        view = customers.create(request.tenant, stored(model, STORED_FIELDS))
        return json_response(render.customer(view), 201, view.customer.version)

    def get_customer(request: AuthenticatedRequest) -> Response:
        view = customers.retrieve(request.tenant, request.path("customerId"))
        return json_response(render.customer(view), 200, view.customer.version)

    def patch_customer(request: AuthenticatedRequest) -> Response:
        model, _ = request.model(CustomerUpdate)
        view = customers.update(
            request.tenant,
            request.path("customerId"),
            patched(model, STORED_FIELDS),
            request.header("if-match"),
            model.default_payment_instrument.id if model.default_payment_instrument else None,
            model.default_shipping_address.id if model.default_shipping_address else None,
        )
        return json_response(render.customer(view), 200, view.customer.version)

    def delete_customer(request: AuthenticatedRequest) -> Response:
        customers.delete(request.tenant, request.path("customerId"))
        return no_content()

    def post_customer_shipping_address(request: AuthenticatedRequest) -> Response:
        model, _ = request.model(ShippingAddressCreate)
        address = addresses.create(
            request.tenant,
            request.path("customerId"),
            stored(model, ADDRESS_FIELDS),
            bool(model.default),
        )
        return json_response(render.shipping_address(address), 201, address.version)

    def get_customer_shipping_addresses_list(request: AuthenticatedRequest) -> Response:
        offset, limit = request.paging()
        customer_id = request.path("customerId")
        page = addresses.list_for_customer(request.tenant, customer_id, offset, limit)
        body = render.page(
            ADDRESSES.replace("{customerId}", customer_id),
            "shippingAddresses",
            page,
            render.shipping_address,
        )
        return json_response(body, 200, None, **{"x-total-count": str(page.total)})

    def get_customer_shipping_address(request: AuthenticatedRequest) -> Response:
        address = addresses.retrieve(
            request.tenant, request.path("customerId"), request.path("shippingAddressId")
        )
        return json_response(render.shipping_address(address), 200, address.version)

    def patch_customers_shipping_address(request: AuthenticatedRequest) -> Response:
        model, _ = request.model(ShippingAddressUpdate)
        address = addresses.update(
            request.tenant,
            request.path("customerId"),
            request.path("shippingAddressId"),
            patched(model, ADDRESS_FIELDS),
            request.header("if-match"),
            bool(model.default),
        )
        return json_response(render.shipping_address(address), 200, address.version)

    def delete_customer_shipping_address(request: AuthenticatedRequest) -> Response:
        addresses.delete(
            request.tenant, request.path("customerId"), request.path("shippingAddressId")
        )
        return no_content()

    e = pipeline.endpoint
    one = CUSTOMERS + "/{customerId}"
    address = ADDRESSES + "/{shippingAddressId}"
    tag, address_tag = "Customer", "Customer Shipping Address"
    return [
        Operation(
            method="POST",
            path=CUSTOMERS,
            endpoint=e(post_customer),
            summary="Create a customer",
            tag=tag,
            status=201,
            request=CustomerCreate,
        ),
        Operation(
            method="GET", path=one, endpoint=e(get_customer), summary="Retrieve a customer", tag=tag
        ),
        Operation(
            method="PATCH",
            path=one,
            endpoint=e(patch_customer),
            summary="Update a customer",
            tag=tag,
            status=200,
            request=CustomerUpdate,
            parameters=[IF_MATCH],
        ),
        Operation(
            method="DELETE",
            path=one,
            endpoint=e(delete_customer),
            summary="Delete a customer",
            tag=tag,
            status=204,
        ),
        Operation(
            method="POST",
            path=ADDRESSES,
            endpoint=e(post_customer_shipping_address),
            summary="Create a customer shipping address",
            tag=address_tag,
            status=201,
            request=ShippingAddressCreate,
        ),
        Operation(
            method="GET",
            path=ADDRESSES,
            endpoint=e(get_customer_shipping_addresses_list),
            summary="List a customer's shipping addresses",
            tag=address_tag,
            status=200,
            request=None,
            parameters=PAGING,
        ),
        Operation(
            method="GET",
            path=address,
            endpoint=e(get_customer_shipping_address),
            summary="Retrieve a customer shipping address",
            tag=address_tag,
        ),
        Operation(
            method="PATCH",
            path=address,
            endpoint=e(patch_customers_shipping_address),
            summary="Update a customer shipping address",
            tag=address_tag,
            status=200,
            request=ShippingAddressUpdate,
            parameters=[IF_MATCH],
        ),
        Operation(
            method="DELETE",
            path=address,
            endpoint=e(delete_customer_shipping_address),
            summary="Delete a customer shipping address",
            tag=address_tag,
            status=204,
        ),
    ]
