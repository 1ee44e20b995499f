"""Every TMS operation, once, named after the CyberSource SDK method: what it
sends and how its answer is read. The sync and async resources only run these.
Models are imported inside each builder, so pydantic loads on first use."""

from __future__ import annotations

from typing import TYPE_CHECKING

from opentms.client._operation_request import (
    JOSE_TYPE,
    Body,
    OperationRequest,
    parse_accepted,
    parse_jwe,
    parse_model,
    parse_nothing,
    segment,
)

if TYPE_CHECKING:
    from opentms.client._models import (
        CardArtAsset,
        Customer,
        InstrumentIdentifier,
        PaymentInstrument,
        PaymentInstrumentList,
        ShippingAddress,
        ShippingAddressList,
        TokenizedCard,
        TokenizeResponse,
    )

IIS = "/tms/v1/instrumentidentifiers"
PIS = "/tms/v1/paymentinstruments"
CUSTOMERS = "/tms/v2/customers"
CARDS = "/tms/v2/tokenized-cards"


def _bin(retrieve_bin_details: bool) -> dict[str, str] | None:
    return {"retrieveBinDetails": "true"} if retrieve_bin_details else None


def _page(offset: int, limit: int, retrieve_bin_details: bool = False) -> dict[str, str]:
    params = {"offset": str(offset), "limit": str(limit)}
    return params | (_bin(retrieve_bin_details) or {})


# Instrument identifiers (TMS v1) ------------------------------------------------


def post_instrument_identifier(
    request: Body, retrieve_bin_details: bool, profile_id: str | None
) -> OperationRequest[InstrumentIdentifier]:
    from opentms.client._models import InstrumentIdentifier

    parse = parse_model(InstrumentIdentifier)
    params = _bin(retrieve_bin_details)
    return OperationRequest(
        method="POST",
        path=IIS,
        parse=parse,
        body=request,
        params=params,
        profile_id=profile_id,
        mle="optional",
    )


def get_instrument_identifier(
    ii_id: str, retrieve_bin_details: bool, profile_id: str | None
) -> OperationRequest[InstrumentIdentifier]:
    from opentms.client._models import InstrumentIdentifier

    path = f"{IIS}/{segment(ii_id)}"
    return OperationRequest(
        method="GET",
        path=path,
        parse=parse_model(InstrumentIdentifier),
        body=None,
        params=_bin(retrieve_bin_details),
        profile_id=profile_id,
    )


def patch_instrument_identifier(
    ii_id: str,
    request: Body,
    if_match: str | None,
    retrieve_bin_details: bool,
    profile_id: str | None,
) -> OperationRequest[InstrumentIdentifier]:
    from opentms.client._models import InstrumentIdentifier

    path = f"{IIS}/{segment(ii_id)}"
    parse = parse_model(InstrumentIdentifier)
    params = _bin(retrieve_bin_details)
    return OperationRequest(
        method="PATCH",
        path=path,
        parse=parse,
        body=request,
        params=params,
        profile_id=profile_id,
        if_match=if_match,
        mle="optional",
    )


def delete_instrument_identifier(ii_id: str, profile_id: str | None) -> OperationRequest[None]:
    return OperationRequest(
        method="DELETE", path=f"{IIS}/{segment(ii_id)}", parse=parse_nothing, profile_id=profile_id
    )


def get_instrument_identifier_payment_instruments_list(
    ii_id: str, offset: int, limit: int, retrieve_bin_details: bool, profile_id: str | None
) -> OperationRequest[PaymentInstrumentList]:
    from opentms.client._models import PaymentInstrumentList

    path = f"{IIS}/{segment(ii_id)}/paymentinstruments"
    params = _page(offset, limit, retrieve_bin_details)
    return OperationRequest(
        method="GET",
        path=path,
        parse=parse_model(PaymentInstrumentList),
        body=None,
        params=params,
        profile_id=profile_id,
    )


def post_instrument_identifier_enrollment(
    ii_id: str, request: Body | None, profile_id: str | None
) -> OperationRequest[bool]:
    path = f"{IIS}/{segment(ii_id)}/enrollment"
    return OperationRequest(
        method="POST",
        path=path,
        parse=parse_accepted,
        body=request,
        params=None,
        profile_id=profile_id,
        mle="optional",
    )


# Payment instruments (standalone, TMS v1) ---------------------------------------


def post_payment_instrument(
    request: Body, retrieve_bin_details: bool, profile_id: str | None
) -> OperationRequest[PaymentInstrument]:
    from opentms.client._models import PaymentInstrument

    parse = parse_model(PaymentInstrument)
    params = _bin(retrieve_bin_details)
    return OperationRequest(
        method="POST",
        path=PIS,
        parse=parse,
        body=request,
        params=params,
        profile_id=profile_id,
        mle="optional",
    )


def get_payment_instrument(
    pi_id: str, retrieve_bin_details: bool, profile_id: str | None
) -> OperationRequest[PaymentInstrument]:
    from opentms.client._models import PaymentInstrument

    path = f"{PIS}/{segment(pi_id)}"
    return OperationRequest(
        method="GET",
        path=path,
        parse=parse_model(PaymentInstrument),
        body=None,
        params=_bin(retrieve_bin_details),
        profile_id=profile_id,
    )


def patch_payment_instrument(
    pi_id: str,
    request: Body,
    if_match: str | None,
    retrieve_bin_details: bool,
    profile_id: str | None,
) -> OperationRequest[PaymentInstrument]:
    from opentms.client._models import PaymentInstrument

    path = f"{PIS}/{segment(pi_id)}"
    parse = parse_model(PaymentInstrument)
    params = _bin(retrieve_bin_details)
    return OperationRequest(
        method="PATCH",
        path=path,
        parse=parse,
        body=request,
        params=params,
        profile_id=profile_id,
        if_match=if_match,
        mle="optional",
    )


def delete_payment_instrument(pi_id: str, profile_id: str | None) -> OperationRequest[None]:
    return OperationRequest(
        method="DELETE", path=f"{PIS}/{segment(pi_id)}", parse=parse_nothing, profile_id=profile_id
    )


# Customers (TMS v2) --------------------------------------------------------------


def post_customer(request: Body, profile_id: str | None) -> OperationRequest[Customer]:
    from opentms.client._models import Customer

    return OperationRequest(
        method="POST",
        path=CUSTOMERS,
        parse=parse_model(Customer),
        body=request,
        params=None,
        profile_id=profile_id,
        mle="optional",
    )


def get_customer(customer_id: str, profile_id: str | None) -> OperationRequest[Customer]:
    from opentms.client._models import Customer

    path = f"{CUSTOMERS}/{segment(customer_id)}"
    return OperationRequest(
        method="GET", path=path, parse=parse_model(Customer), profile_id=profile_id
    )


def patch_customer(
    customer_id: str, request: Body, if_match: str | None, profile_id: str | None
) -> OperationRequest[Customer]:
    from opentms.client._models import Customer

    path = f"{CUSTOMERS}/{segment(customer_id)}"
    return OperationRequest(
        method="PATCH",
        path=path,
        parse=parse_model(Customer),
        body=request,
        params=None,
        profile_id=profile_id,
        if_match=if_match,
        mle="optional",
    )


def delete_customer(customer_id: str, profile_id: str | None) -> OperationRequest[None]:
    path = f"{CUSTOMERS}/{segment(customer_id)}"
    return OperationRequest(method="DELETE", path=path, parse=parse_nothing, profile_id=profile_id)


def _customer_pis(customer_id: str) -> str:
    return f"{CUSTOMERS}/{segment(customer_id)}/payment-instruments"


def post_customer_payment_instrument(
    customer_id: str, request: Body, profile_id: str | None
) -> OperationRequest[PaymentInstrument]:
    from opentms.client._models import PaymentInstrument

    path = _customer_pis(customer_id)
    return OperationRequest(
        method="POST",
        path=path,
        parse=parse_model(PaymentInstrument),
        body=request,
        params=None,
        profile_id=profile_id,
        mle="optional",
    )


def get_customer_payment_instruments_list(
    customer_id: str, offset: int, limit: int, profile_id: str | None
) -> OperationRequest[PaymentInstrumentList]:
    from opentms.client._models import PaymentInstrumentList

    path = _customer_pis(customer_id)
    parse = parse_model(PaymentInstrumentList)
    return OperationRequest(
        method="GET",
        path=path,
        parse=parse,
        body=None,
        params=_page(offset, limit),
        profile_id=profile_id,
    )


def get_customer_payment_instrument(
    customer_id: str, pi_id: str, profile_id: str | None
) -> OperationRequest[PaymentInstrument]:
    from opentms.client._models import PaymentInstrument

    path = f"{_customer_pis(customer_id)}/{segment(pi_id)}"
    return OperationRequest(
        method="GET", path=path, parse=parse_model(PaymentInstrument), profile_id=profile_id
    )


def patch_customers_payment_instrument(
    customer_id: str, pi_id: str, request: Body, if_match: str | None, profile_id: str | None
) -> OperationRequest[PaymentInstrument]:
    from opentms.client._models import PaymentInstrument

    path = f"{_customer_pis(customer_id)}/{segment(pi_id)}"
    parse = parse_model(PaymentInstrument)
    return OperationRequest(
        method="PATCH",
        path=path,
        parse=parse,
        body=request,
        params=None,
        profile_id=profile_id,
        if_match=if_match,
        mle="optional",
    )


def delete_customer_payment_instrument(
    customer_id: str, pi_id: str, profile_id: str | None
) -> OperationRequest[None]:
    path = f"{_customer_pis(customer_id)}/{segment(pi_id)}"
    return OperationRequest(method="DELETE", path=path, parse=parse_nothing, profile_id=profile_id)


def _addresses(customer_id: str) -> str:
    return f"{CUSTOMERS}/{segment(customer_id)}/shipping-addresses"


def post_customer_shipping_address(
    customer_id: str, request: Body, profile_id: str | None
) -> OperationRequest[ShippingAddress]:
    from opentms.client._models import ShippingAddress

    path = _addresses(customer_id)
    return OperationRequest(
        method="POST",
        path=path,
        parse=parse_model(ShippingAddress),
        body=request,
        params=None,
        profile_id=profile_id,
        mle="optional",
    )


def get_customer_shipping_addresses_list(
    customer_id: str, offset: int, limit: int, profile_id: str | None
) -> OperationRequest[ShippingAddressList]:
    from opentms.client._models import ShippingAddressList

    path = _addresses(customer_id)
    parse = parse_model(ShippingAddressList)
    return OperationRequest(
        method="GET",
        path=path,
        parse=parse,
        body=None,
        params=_page(offset, limit),
        profile_id=profile_id,
    )


def get_customer_shipping_address(
    customer_id: str, address_id: str, profile_id: str | None
) -> OperationRequest[ShippingAddress]:
    from opentms.client._models import ShippingAddress

    path = f"{_addresses(customer_id)}/{segment(address_id)}"
    return OperationRequest(
        method="GET", path=path, parse=parse_model(ShippingAddress), profile_id=profile_id
    )


def patch_customers_shipping_address(
    customer_id: str, address_id: str, request: Body, if_match: str | None, profile_id: str | None
) -> OperationRequest[ShippingAddress]:
    from opentms.client._models import ShippingAddress

    path = f"{_addresses(customer_id)}/{segment(address_id)}"
    parse = parse_model(ShippingAddress)
    return OperationRequest(
        method="PATCH",
        path=path,
        parse=parse,
        body=request,
        params=None,
        profile_id=profile_id,
        if_match=if_match,
        mle="optional",
    )


def delete_customer_shipping_address(
    customer_id: str, address_id: str, profile_id: str | None
) -> OperationRequest[None]:
    path = f"{_addresses(customer_id)}/{segment(address_id)}"
    return OperationRequest(method="DELETE", path=path, parse=parse_nothing, profile_id=profile_id)


# Network tokens -------------------------------------------------------------------


def post_tokenized_card(request: Body, profile_id: str | None) -> OperationRequest[TokenizedCard]:
    from opentms.client._models import TokenizedCard

    return OperationRequest(
        method="POST",
        path=CARDS,
        parse=parse_model(TokenizedCard),
        body=request,
        params=None,
        profile_id=profile_id,
        mle="optional",
    )


def get_tokenized_card(card_id: str, profile_id: str | None) -> OperationRequest[TokenizedCard]:
    from opentms.client._models import TokenizedCard

    path = f"{CARDS}/{segment(card_id)}"
    return OperationRequest(
        method="GET", path=path, parse=parse_model(TokenizedCard), profile_id=profile_id
    )


def post_tokenized_card_delete(
    card_id: str, request: Body | None, profile_id: str | None
) -> OperationRequest[None]:
    path = f"{CARDS}/{segment(card_id)}/delete"
    return OperationRequest(
        method="POST",
        path=path,
        parse=parse_nothing,
        body=request,
        params=None,
        profile_id=profile_id,
        mle="optional",
    )


def post_issuer_life_cycle_simulation(
    card_id: str, request: Body, profile_id: str | None
) -> OperationRequest[None]:
    path = f"{CARDS}/{segment(card_id)}/issuer-life-cycle-event-simulations"
    return OperationRequest(
        method="POST",
        path=path,
        parse=parse_nothing,
        body=request,
        params=None,
        profile_id=profile_id,
        mle="optional",
    )


def get_card_art_asset(
    ii_id: str, token_provider: str, asset_type: str
) -> OperationRequest[CardArtAsset]:
    from opentms.client._models import CardArtAsset

    path = f"/tms/v2/tokens/{segment(ii_id)}/{segment(token_provider)}/assets/{segment(asset_type)}"
    return OperationRequest(
        method="GET", path=path, parse=parse_model(CardArtAsset), send_profile=False
    )


def post_token_payment_credentials(
    token_id: str, request: Body | None, profile_id: str | None, version: int = 2
) -> OperationRequest[str]:
    path = f"/tms/v{version}/tokens/{segment(token_id)}/payment-credentials"
    return OperationRequest(
        method="POST",
        path=path,
        parse=parse_jwe,
        body=request,
        params=None,
        profile_id=profile_id,
        mle="optional",
        accept=JOSE_TYPE,
    )


def post_tokenize(request: Body, profile_id: str | None) -> OperationRequest[TokenizeResponse]:
    from opentms.client._models import TokenizeResponse

    parse = parse_model(TokenizeResponse)
    return OperationRequest(
        method="POST",
        path="/tms/v2/tokenize",
        parse=parse,
        body=request,
        params=None,
        profile_id=profile_id,
        mle="mandatory",
    )
