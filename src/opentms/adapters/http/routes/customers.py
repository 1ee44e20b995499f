"""Routes of /tms/v2/customers and their shipping addresses."""

from __future__ import annotations

from starlette.responses import Response

from opentms.adapters.http import render
from opentms.adapters.http.openapi import IF_MATCH, PAGING, Operation
from opentms.adapters.http.pipeline import Call, Pipeline, json_response, no_content
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

    def post_customer(call: Call) -> Response:
        model, _ = call.model(CustomerCreate)
        view = customers.create(call.tenant, stored(model, STORED_FIELDS))
        return json_response(render.customer(view), 201, view.customer.version)

    def get_customer(call: Call) -> Response:
        view = customers.retrieve(call.tenant, call.path("customerId"))
        return json_response(render.customer(view), 200, view.customer.version)

    def patch_customer(call: Call) -> Response:
        model, _ = call.model(CustomerUpdate)
        view = customers.update(
            call.tenant,
            call.path("customerId"),
            patched(model, STORED_FIELDS),
            call.header("if-match"),
            model.default_payment_instrument.id if model.default_payment_instrument else None,
            model.default_shipping_address.id if model.default_shipping_address else None,
        )
        return json_response(render.customer(view), 200, view.customer.version)

    def delete_customer(call: Call) -> Response:
        customers.delete(call.tenant, call.path("customerId"))
        return no_content()

    def post_customer_shipping_address(call: Call) -> Response:
        model, _ = call.model(ShippingAddressCreate)
        address = addresses.create(
            call.tenant,
            call.path("customerId"),
            stored(model, ADDRESS_FIELDS),
            bool(model.default),
        )
        return json_response(render.shipping_address(address), 201, address.version)

    def get_customer_shipping_addresses_list(call: Call) -> Response:
        offset, limit = call.paging()
        customer_id = call.path("customerId")
        page = addresses.list_for_customer(call.tenant, customer_id, offset, limit)
        body = render.page(
            ADDRESSES.replace("{customerId}", customer_id),
            "shippingAddresses",
            page,
            render.shipping_address,
        )
        return json_response(body, 200, None, **{"x-total-count": str(page.total)})

    def get_customer_shipping_address(call: Call) -> Response:
        address = addresses.retrieve(
            call.tenant, call.path("customerId"), call.path("shippingAddressId")
        )
        return json_response(render.shipping_address(address), 200, address.version)

    def patch_customers_shipping_address(call: Call) -> Response:
        model, _ = call.model(ShippingAddressUpdate)
        address = addresses.update(
            call.tenant,
            call.path("customerId"),
            call.path("shippingAddressId"),
            patched(model, ADDRESS_FIELDS),
            call.header("if-match"),
            bool(model.default),
        )
        return json_response(render.shipping_address(address), 200, address.version)

    def delete_customer_shipping_address(call: Call) -> Response:
        addresses.delete(call.tenant, call.path("customerId"), call.path("shippingAddressId"))
        return no_content()

    e = pipeline.endpoint
    one = CUSTOMERS + "/{customerId}"
    address = ADDRESSES + "/{shippingAddressId}"
    tag, address_tag = "Customer", "Customer Shipping Address"
    return [
        Operation(
            "POST", CUSTOMERS, e(post_customer), "Create a customer", tag, 201, CustomerCreate
        ),
        Operation("GET", one, e(get_customer), "Retrieve a customer", tag),
        Operation(
            "PATCH",
            one,
            e(patch_customer),
            "Update a customer",
            tag,
            200,
            CustomerUpdate,
            [IF_MATCH],
        ),
        Operation("DELETE", one, e(delete_customer), "Delete a customer", tag, 204),
        Operation(
            "POST",
            ADDRESSES,
            e(post_customer_shipping_address),
            "Create a customer shipping address",
            address_tag,
            201,
            ShippingAddressCreate,
        ),
        Operation(
            "GET",
            ADDRESSES,
            e(get_customer_shipping_addresses_list),
            "List a customer's shipping addresses",
            address_tag,
            200,
            None,
            PAGING,
        ),
        Operation(
            "GET",
            address,
            e(get_customer_shipping_address),
            "Retrieve a customer shipping address",
            address_tag,
        ),
        Operation(
            "PATCH",
            address,
            e(patch_customers_shipping_address),
            "Update a customer shipping address",
            address_tag,
            200,
            ShippingAddressUpdate,
            [IF_MATCH],
        ),
        Operation(
            "DELETE",
            address,
            e(delete_customer_shipping_address),
            "Delete a customer shipping address",
            address_tag,
            204,
        ),
    ]
