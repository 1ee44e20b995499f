"""Domain objects → TMS JSON (wire names). Card numbers leave only masked,
except in the payment-credentials payload, which is sealed in a JWE."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from opentms.adapters.http.errors import error_entry
from opentms.domain.bins import bin_details
from opentms.domain.card import PAN
from opentms.domain.network_token import NetworkToken, TokenNetwork, TokenState
from opentms.domain.resources import (
    Customer,
    Page,
    PaymentInstrument,
    ShippingAddress,
)
from opentms.services.customers import CustomerView
from opentms.services.instrument_identifiers import InstrumentIdentifierView
from opentms.services.network_tokens import asset_id
from opentms.services.payment_credentials import (
    CardOnFile,
    CredentialLinks,
    NetworkTokenCredentials,
    PaymentCredentials,
)
from opentms.services.payment_instruments import PaymentInstrumentView
from opentms.services.tokenize import Created, Failed, Outcome

JSONDict = dict[str, Any]


def _href(path: str) -> JSONDict:
    return {"href": path}


def ii_path(ii_id: str) -> str:
    return f"/tms/v1/instrumentidentifiers/{ii_id}"


def pi_path(pi: PaymentInstrument) -> str:
    if pi.customer_id:
        return f"/tms/v2/customers/{pi.customer_id}/payment-instruments/{pi.id}"
    return f"/tms/v1/paymentinstruments/{pi.id}"


def customer_path(customer_id: str) -> str:
    return f"/tms/v2/customers/{customer_id}"


def instrument_identifier(view: InstrumentIdentifierView, bin_lookup: bool = False) -> JSONDict:
    ii, token = view.instrument_identifier, view.token
    links: JSONDict = {
        "self": _href(ii_path(ii.id)),
        "paymentInstruments": _href(ii_path(ii.id) + "/paymentinstruments"),
    }
    if token is not None and token.state != TokenState.UNPROVISIONED:
        links["tokenized-cards"] = _href(f"/tms/v2/tokenized-cards/{token.id}")
    body: JSONDict = {"_links": links, "id": ii.id, "object": "instrumentIdentifier"}
    body["state"] = ii.state
    body.update(ii.attributes)
    if isinstance(ii.instrument, PAN):
        body["card"] = {"number": ii.instrument.masked}
    else:
        body["bankAccount"] = {
            "number": ii.instrument.masked,
            "routingNumber": ii.instrument.routing_number,
        }
    if token is not None:
        body["tokenizedCard"] = tokenized_card_fields(token, embedded=True)
        if token.payment_account_reference:
            body["issuer"] = {"paymentAccountReference": token.payment_account_reference}
    body["metadata"] = {"creator": ii.merchant_id}
    if bin_lookup and isinstance(ii.instrument, PAN):
        body["_embedded"] = {"binLookup": _bin_lookup(ii.instrument)}
    return body


def _bin_lookup(pan: PAN) -> JSONDict:
    details = bin_details(pan.bin)
    brand = details.brand
    return {
        "paymentAccountInformation": {
            "card": {
                "type": brand.code,
                "brandName": brand.display_name.upper(),
                "currency": details.currency,
                "maxLength": str(details.max_length),
                "credentialType": "PAN",
                "brands": [{"type": brand.code, "brandName": brand.display_name.upper()}],
            },
            "features": {
                "accountFundingSource": details.funding_source,
                "cardProduct": details.card_product,
                "messageType": "S",
                "acceptanceLevel": "0",
                "cardPlatform": "CONSUMER",
                "comboCard": "0",
                "corporatePurchase": False,
                "healthCard": False,
                "sharedBIN": False,
                "posDomesticOnly": False,
                "gamblingAllowed": True,
                "commercialCardLevel2": False,
                "commercialCardLevel3": False,
                "exemptBIN": False,
                "accountLevelManagement": False,
                "onlineGamblingBlock": False,
                "autoSubstantiation": False,
                "flexCredential": False,
                "threeDSSupport": True,
                "siEligible": True,
                "emiEligible": False,
                "fleetCard": False,
                "atmEnabled": details.funding_source == "DEBIT",
                "posEnabled": True,
                "ecomEnabled": True,
            },
            "network": {"id": brand.code},
        },
        "issuerInformation": {
            "name": details.issuer_name,
            "country": details.issuer_country,
            "binLength": str(len(pan.bin)),
            "accountPrefix": pan.bin,
        },
    }


def payment_instrument(view: PaymentInstrumentView, bin_lookup: bool = False) -> JSONDict:
    pi = view.payment_instrument
    links: JSONDict = {"self": _href(pi_path(pi))}
    body: JSONDict = {"_links": links, "id": pi.id, "object": "paymentInstrument"}
    if pi.customer_id:
        links["customer"] = _href(customer_path(pi.customer_id))
        body["default"] = pi.is_default
    body["state"] = pi.state
    body.update(pi.attributes)
    body["instrumentIdentifier"] = {"id": pi.instrument_identifier_id}
    body["metadata"] = {"creator": pi.merchant_id}
    body["_embedded"] = {
        "instrumentIdentifier": instrument_identifier(view.instrument_identifier, bin_lookup)
    }
    return body


def customer(view: CustomerView) -> JSONDict:
    c: Customer = view.customer
    path = customer_path(c.id)
    body: JSONDict = {
        "_links": {
            "self": _href(path),
            "paymentInstruments": _href(path + "/payment-instruments"),
            "shippingAddress": _href(path + "/shipping-addresses"),
            "shippingAddresses": _href(path + "/shipping-addresses"),
        },
        "id": c.id,
    }
    body.update(c.attributes)
    if c.default_payment_instrument_id:
        body["defaultPaymentInstrument"] = {"id": c.default_payment_instrument_id}
    if c.default_shipping_address_id:
        body["defaultShippingAddress"] = {"id": c.default_shipping_address_id}
    body["metadata"] = {"creator": c.merchant_id}
    embedded: JSONDict = {}
    if view.default_payment_instrument is not None:
        embedded["defaultPaymentInstrument"] = payment_instrument(view.default_payment_instrument)
    if view.default_shipping_address is not None:
        embedded["defaultShippingAddress"] = shipping_address(view.default_shipping_address)
    if embedded:
        body["_embedded"] = embedded
    return body


def shipping_address(address: ShippingAddress) -> JSONDict:
    path = customer_path(address.customer_id)
    body: JSONDict = {
        "_links": {
            "self": _href(f"{path}/shipping-addresses/{address.id}"),
            "customer": _href(path),
        },
        "id": address.id,
        "default": address.is_default,
    }
    body.update(address.attributes)
    body["metadata"] = {"creator": address.merchant_id}
    return body


def page(path: str, key: str, result: Page, item: Callable[[Any], JSONDict]) -> JSONDict:
    """A TMS list envelope with HAL paging links."""
    offset, limit, total = result.offset, result.limit, result.total

    def link(at: int) -> JSONDict:
        return _href(f"{path}?offset={at}&limit={limit}")

    links: JSONDict = {"self": link(offset), "first": link(0)}
    if offset > 0:
        links["prev"] = link(max(0, offset - limit))
    if offset + limit < total:
        links["next"] = link(offset + limit)
    links["last"] = link(max(0, ((total - 1) // limit) * limit) if total else 0)
    return {
        "_links": links,
        "offset": offset,
        "limit": limit,
        "count": len(result.items),
        "total": total,
        "_embedded": {key: [item(x) for x in result.items]},
    }


def _asset(token: NetworkToken, asset: str, asset_type: str) -> JSONDict:
    owner = token.instrument_identifier_id or token.id
    href = f"/tms/v2/tokens/{owner}/{token.network.provider}/assets/{asset_type}"
    return {"id": asset_id(token, asset), "_links": {"self": _href(href)}}


def tokenized_card_fields(token: NetworkToken, embedded: bool = False) -> JSONDict:
    """The tokenizedCard object (TMS Tmsv2TokenizedCard); the token number masked."""
    body: JSONDict = {}
    if not embedded:
        body["id"] = token.id
        body["object"] = "tokenizedCard"
    body["source"] = token.source
    body["state"] = token.state.value
    if token.reason is not None:
        body["reason"] = token.reason.value
    body["type"] = token.network.value
    if token.number is not None:
        body.update(
            {
                "enrollmentId": token.enrollment_id,
                "tokenReferenceId": token.token_reference_id,
                "number": token.number.masked,
                "expirationMonth": token.expiration_month,
                "expirationYear": token.expiration_year,
                "requestorId": token.requestor_id,
                "paymentAccountReference": token.payment_account_reference,
            }
        )
    card: JSONDict = {"suffix": token.card.suffix}
    if token.card.expiration_month:
        card["expirationMonth"] = token.card.expiration_month
    if token.card.expiration_year:
        card["expirationYear"] = token.card.expiration_year
    body["card"] = card
    metadata: JSONDict = {}
    if token.number is not None:
        art = dict(token.metadata.get("cardArt", {}))
        art["combinedAsset"] = _asset(token, "combinedAsset", "card-art-combined")
        art["brandLogoAsset"] = _asset(token, "brandLogoAsset", "brand-logo")
        art["issuerLogoAsset"] = _asset(token, "issuerLogoAsset", "issuer-logo")
        art["iconAsset"] = _asset(token, "iconAsset", "icon-logo")
        metadata["cardArt"] = art
        if "issuer" in token.metadata:
            metadata["issuer"] = token.metadata["issuer"]
    metadata["creator"] = token.merchant_id
    body["metadata"] = metadata
    return body


def tokenized_card(token: NetworkToken) -> JSONDict:
    """A tokenized card as both SDK generations read it: the flat fields of
    SDK <= 0.0.73 and the ``{_links, tokenizedCard}`` envelope of >= 0.0.74."""
    links: JSONDict = {"self": _href(f"/tms/v2/tokenized-cards/{token.id}")}
    if token.instrument_identifier_id:
        links["instrumentidentifier"] = _href(ii_path(token.instrument_identifier_id))
    fields = tokenized_card_fields(token)
    return {"_links": links, **fields, "tokenizedCard": fields}


def payment_credentials(result: PaymentCredentials) -> JSONDict:
    """The payment-credentials payload, the plaintext of the JWE: the network
    token in clear with its cryptogram or code, or (v3, no network token) the
    card in clear."""
    links = _credential_links(result.links)
    if not isinstance(result, NetworkTokenCredentials):
        return {"_links": links, "card": _card_on_file(result.card, result.card.number.reveal())}
    token = result.token
    assert token.number is not None  # noqa: S101 - the service issues only for numbered tokens
    tokenized: JSONDict = {
        "state": token.state.value,
        "enrollmentId": token.enrollment_id,
        "tokenReferenceId": token.token_reference_id,
        "number": token.number.reveal(),
        "expirationMonth": token.expiration_month,
        "expirationYear": token.expiration_year,
        "type": token.network.value,
        "cryptogram": result.cryptogram,
        "securityCode": result.security_code,
        "eci": result.eci,
        "requestorId": token.requestor_id,
        "paymentAccountReference": token.payment_account_reference,
    }
    tokenized = {k: v for k, v in tokenized.items() if v is not None}
    card = {
        "suffix": token.card.suffix,
        "expirationMonth": token.card.expiration_month,
        "expirationYear": token.card.expiration_year,
    }
    tokenized["card"] = {k: v for k, v in card.items() if v is not None}
    if token.network == TokenNetwork.VISA:
        tokenized["applicationTransactionCounter"] = str(result.atc)
    payload: JSONDict = {"_links": links, "tokenizedCard": tokenized}
    if result.card is not None:
        payload["card"] = _card_on_file(result.card, result.card.number.masked)
    payload["issuer"] = {"paymentAccountReference": token.payment_account_reference}
    payload["processingInformation"] = {"commerceIndicator": result.commerce_indicator}
    return payload


def _credential_links(links: CredentialLinks) -> JSONDict:
    body: JSONDict = {
        "self": _href(f"/tms/v{links.version}/tokens/{links.token_id}/payment-credentials")
    }
    if links.customer_id:
        body["customer"] = _href(customer_path(links.customer_id))
    if links.payment_instrument is not None:
        body["paymentInstruments"] = _href(pi_path(links.payment_instrument))
    if links.instrument_identifier_id is not None:
        body["instrumentIdentifier"] = _href(ii_path(links.instrument_identifier_id))
    if links.tokenized_card_id is not None:
        body["tokenizedCard"] = _href(f"/tms/v2/tokenized-cards/{links.tokenized_card_id}")
    return body


def _card_on_file(card: CardOnFile, number: str) -> JSONDict:
    body: JSONDict = {"number": number, "type": card.type}
    if card.expiration_month:
        body["expirationMonth"] = card.expiration_month
    if card.expiration_year:
        body["expirationYear"] = card.expiration_year
    return body


def tokenize(outcomes: list[Outcome]) -> JSONDict:
    """``responses[]``: each wanted token's status and id, or its errors."""
    responses: list[JSONDict] = []
    for outcome in outcomes:
        resource = outcome.kind.value
        if isinstance(outcome, Created):
            status = 201 if outcome.new else 200
            responses.append({"resource": resource, "httpStatus": status, "id": outcome.id})
        elif isinstance(outcome, Failed):
            status, error = error_entry(outcome.error)
            responses.append({"resource": resource, "httpStatus": status, "errors": [error]})
        else:
            error = {
                "type": "notAttempted",
                "message": f"Not attempted: the {outcome.missing.value} was not created.",
            }
            responses.append({"resource": resource, "httpStatus": 424, "errors": [error]})
    return {"responses": responses}
