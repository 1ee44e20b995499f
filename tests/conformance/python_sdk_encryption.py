"""Message-level encryption scenarios of the Python-SDK driver: ``TokenizeApi``
(request MLE is *mandatory* for it, tms-api §2.7, §7.2) and response MLE
(tms-api §7.3). A wire tap on the SDK's ``ApiClient.request`` shows what really
went over the wire, before the SDK's own decryption.

What the SDK 0.0.80 does with tokenize in each mode, and the configs used:

* HTTP Signature: with no certificate it sends the request in clear (its
  documented fallback); with ``mleForRequestPublicCertPath`` it encrypts even
  under HTTP Signature. Both run.
* JWT with the P12: always encrypted, to the ``CyberSource_SJC_US`` certificate
  inside the merchant's P12; ``disableRequestMLEForMandatoryApisGlobally`` (a
  number, see sdk-wire-captures.md §1) sends it in clear. Both run.
* JWT with the shared secret: the SDK refuses to send it (``ValueError``) unless
  it is given ``mleForRequestPublicCertPath`` (then it encrypts) or
  ``disableRequestMLEForMandatoryApisGlobally``. All three run.

The certificate file is the ``CyberSource_SJC_US`` certificate of the bundle's
P12, written as PEM into the driver's working directory.

Response MLE is configured with ``enableResponseMleGlobally: 1`` (a number: a
bool breaks the SDK's config logging), ``responseMlePrivateKeyFilePath`` = the
bundle's ``paymentCredentials.privateKeyFile`` and ``responseMleKID`` = its
``paymentCredentials.kid``. The SDK accepts it with JWT only (both key types);
under HTTP Signature its config validation raises, so that mode has no
response-MLE scenario.
"""

from __future__ import annotations

import json
import secrets
import uuid
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.serialization import Encoding, pkcs12
from cryptography.x509.oid import NameOID
from CyberSource import (  # type: ignore[import-not-found]
    CustomerApi,
    DefaultPaymentInstrument,
    DefaultPaymentInstrumentBillTo,
    DefaultPaymentInstrumentCard,
    DefaultShippingAddress,
    DefaultShippingAddressShipTo,
    InstrumentIdentifierApi,
    NetworkTokensApi,
    PostTokenizeRequest,
    TmsEmbeddedInstrumentIdentifier,
    TmsEmbeddedInstrumentIdentifierCard,
    Tmsv2tokenizeProcessingInformation,
    Tmsv2tokenizeTokenInformation,
    Tmsv2tokenizeTokenInformationCustomer,
    Tmsv2tokenizeTokenInformationCustomerBuyerInformation,
    TokenizeApi,
)

from tests.conformance.python_sdk_network import (
    credentials_body,
    credentials_key,
    open_credentials,
)
from tests.conformance.python_sdk_support import (
    Merchant,
    Report,
    WireTap,
    attr,
    failure,
    ii_body,
    is_compact_jwe,
    jose_header,
    json_at,
    json_object,
    jwt_claims,
    make_pan,
    masked,
    sample_body,
)

REQUEST_MLE_ALIAS = "CyberSource_SJC_US"
TOKEN_TYPES = ["customer", "paymentInstrument", "instrumentIdentifier", "shippingAddress"]
NO_REQUEST_MLE = {"disableRequestMLEForMandatoryApisGlobally": 1}


def tokenize_body(pan: str, email: str) -> str:
    """PostTokenizeRequest, sample style: a customer, its payment instrument of
    a new card (instrument identifier) and its shipping address."""
    buyer = Tmsv2tokenizeTokenInformationCustomerBuyerInformation(
        merchant_customer_id="tok-" + uuid.uuid4().hex[:12], email=email
    )
    customer = Tmsv2tokenizeTokenInformationCustomer(buyer_information=buyer.__dict__)
    card = DefaultPaymentInstrumentCard(expiration_month="12", expiration_year="2031", type="001")
    bill_to = DefaultPaymentInstrumentBillTo(
        first_name="John", last_name="Doe", address1="1 Market St", locality="San Francisco",
        administrative_area="CA", postal_code="94105", country="US", email=email,
    )  # fmt: skip
    instrument = DefaultPaymentInstrument(card=card.__dict__, bill_to=bill_to.__dict__)
    ship_to = DefaultShippingAddressShipTo(
        first_name="John", last_name="Doe", address1="1 Market St", locality="San Francisco",
        administrative_area="CA", postal_code="94105", country="US",
    )  # fmt: skip
    address = DefaultShippingAddress(default=True, ship_to=ship_to.__dict__)
    identifier_card = TmsEmbeddedInstrumentIdentifierCard(
        number=pan, expiration_month="12", expiration_year="2031"
    )
    identifier = TmsEmbeddedInstrumentIdentifier(card=identifier_card.__dict__)
    info = Tmsv2tokenizeTokenInformation(
        customer=customer.__dict__,
        payment_instrument=instrument.__dict__,
        shipping_address=address.__dict__,
        instrument_identifier=identifier.__dict__,
    )
    processing = Tmsv2tokenizeProcessingInformation(
        action_list=["TOKEN_CREATE"], action_token_types=TOKEN_TYPES
    )
    request = PostTokenizeRequest(
        processing_information=processing.__dict__, token_information=info.__dict__
    )
    return sample_body(request)


def request_mle_certificate(m: Merchant, directory: Path) -> Path:
    """The ``CyberSource_SJC_US`` certificate of the merchant's P12, as a PEM file."""
    p12 = m.bundle_path("jwt", "p12File").read_bytes()
    password = str(m.bundle["jwt"]["p12Password"]).encode()
    _, _, certificates = pkcs12.load_key_and_certificates(p12, password)
    for certificate in certificates:
        names = certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
        if names and names[0].value == REQUEST_MLE_ALIAS:
            path = directory / f"{m.merchant_id}-{REQUEST_MLE_ALIAS}.pem"
            path.write_bytes(certificate.public_bytes(Encoding.PEM))
            return path
    raise LookupError(f"no {REQUEST_MLE_ALIAS} certificate in the bundle's P12")


class EncryptionScenarios:
    """Tokenize and response MLE for merchant ``m``; ``workdir`` is writable."""

    def __init__(self, report: Report, m: Merchant, workdir: Path) -> None:
        self.r = report
        self.m = m
        self.workdir = workdir
        self.customers = m.api(CustomerApi)

    def scenarios(self) -> list[Any]:
        if self.r.mode == "http_signature":
            return [self.tokenize]
        return [self.tokenize, self.optional_request_mle, self.response_mle]

    def certificate_config(self) -> dict[str, Any]:
        path = request_mle_certificate(self.m, self.workdir)
        return {"mleForRequestPublicCertPath": str(path)}

    # -- tokenize ----------------------------------------------------------------

    def tokenize(self) -> None:
        certificate = self.certificate_config()
        variants: dict[str, list[tuple[str, dict[str, Any], bool]]] = {
            "http_signature": [
                ("default config: in clear", {}, False),
                ("mleForRequestPublicCertPath: encrypted", certificate, True),
            ],
            "jwt_p12": [
                ("default config: encrypted to the P12's CyberSource_SJC_US", {}, True),
                ("disableRequestMLEForMandatoryApisGlobally: in clear", NO_REQUEST_MLE, False),
            ],
            "jwt_shared_secret": [
                ("mleForRequestPublicCertPath: encrypted", certificate, True),
                ("disableRequestMLEForMandatoryApisGlobally: in clear", NO_REQUEST_MLE, False),
            ],
        }
        if self.r.mode == "jwt_shared_secret":
            self.tokenize_refused()
        for label, extra, encrypted in variants[self.r.mode]:
            name = f"tokenize ({label})"
            with self.r.step(name):
                self.tokenize_once(name, self.m.with_config(extra), encrypted)

    def tokenize_refused(self) -> None:
        api = self.m.api(TokenizeApi)
        tap = WireTap(api)
        try:
            api.tokenize(tokenize_body(make_pan(), "x@example.com"))
            outcome = "the call went through"
        except ValueError as exc:
            outcome = str(exc)
        self.r.check(
            "tokenize (SHARED_SECRET, default config): the SDK refuses before sending "
            "(mleForRequestPublicCertPath needed)",
            "mleForRequestPublicCertPath" in outcome and not tap.exchanges,
            outcome,
        )

    def tokenize_once(self, name: str, merchant: Merchant, encrypted: bool) -> None:
        r, pan, email = self.r, make_pan(), f"tok-{secrets.token_hex(4)}@example.com"
        api = merchant.api(TokenizeApi)
        tap = WireTap(api)
        result, status, _ = api.tokenize(tokenize_body(pan, email))
        sent = json_object(tap.last.body if tap.last else None)
        if encrypted:
            wrapped = list(sent) == ["encryptedRequest"] and is_compact_jwe(
                sent["encryptedRequest"]
            )
            r.check(f'{name}: the SDK sent {{"encryptedRequest": JWE}}', wrapped, str(sent)[:300])
        else:
            r.check(f"{name}: the SDK sent plain JSON", "tokenInformation" in sent, str(sent)[:300])
        r.equal(f"{name}: status 200", status, 200)
        responses = result.responses or []
        r.equal(
            f"{name}: responses[] resource -> httpStatus",
            {x.resource: x.http_status for x in responses},
            dict.fromkeys(TOKEN_TYPES, 201),
        )
        ids = {x.resource: x.id for x in responses}
        r.check(f"{name}: responses[] carry ids", all(ids.get(t) for t in TOKEN_TYPES), ids)
        if all(ids.get(t) for t in TOKEN_TYPES):
            self.tokenized_customer(name, ids, pan, email)

    def tokenized_customer(self, name: str, ids: dict[str, str], pan: str, email: str) -> None:
        r = self.r
        customer, status, _ = self.customers.get_customer_with_http_info(ids["customer"])
        r.equal(
            f"{name}: customer.retrieve: email, default PI and shipping address",
            (
                status,
                attr(customer, "buyer_information.email"),
                attr(customer, "default_payment_instrument.id"),
                attr(customer, "default_shipping_address.id"),
            ),
            (200, email, ids["paymentInstrument"], ids["shippingAddress"]),
        )
        pi = attr(customer, "embedded.default_payment_instrument")
        r.equal(
            f"{name}: the default PI holds the instrument identifier (card masked)",
            (
                attr(pi, "instrument_identifier.id"),
                attr(pi, "embedded.instrument_identifier.card.number"),
            ),
            (ids["instrumentIdentifier"], masked(pan)),
        )

    def optional_request_mle(self) -> None:
        """``enableRequestMLEForOptionalApisGlobally`` (JWT only): an optional-MLE
        call such as customer.create goes encrypted too (with the shared secret
        the SDK needs the certificate file for it)."""
        r, extra = self.r, {"enableRequestMLEForOptionalApisGlobally": 1}
        if self.r.mode == "jwt_shared_secret":
            extra |= self.certificate_config()
        customers = self.m.with_config(extra).api(CustomerApi)
        tap = WireTap(customers)
        email = f"req-mle-{secrets.token_hex(4)}@example.com"
        body = json.dumps({"buyerInformation": {"email": email}})
        created, status, _ = customers.post_customer_with_http_info(body)
        sent = json_object(tap.last.body if tap.last else None)
        name = "request MLE for optional APIs: customer.create"
        r.check(
            f'{name}: the SDK sent {{"encryptedRequest": JWE}}',
            list(sent) == ["encryptedRequest"],
            sent,
        )
        r.equal(
            f"{name}: status 201, email stored",
            (status, attr(created, "buyer_information.email")),
            (201, email),
        )
        _, status, _ = customers.delete_customer_with_http_info(created.id)
        r.equal(f"{name}: customer.delete: status 204", status, 204)

    # -- response MLE ------------------------------------------------------------

    def sealed_merchant(self) -> tuple[Merchant, str]:
        kid = str(self.m.bundle["paymentCredentials"]["kid"])
        key_file = self.m.bundle_path("paymentCredentials", "privateKeyFile")
        config = {
            "enableResponseMleGlobally": 1,
            "responseMlePrivateKeyFilePath": str(key_file),
            "responseMleKID": kid,
        }
        return self.m.with_config(config), kid

    def check_sealed(self, name: str, tap: WireTap, kid: str) -> None:
        exchange = tap.last
        wire = json_object(exchange.response if exchange else None)
        sealed = wire.get("encryptedResponse")
        r = self.r
        r.check(
            f'{name}: the server answered {{"encryptedResponse": JWE}}',
            list(wire) == ["encryptedResponse"] and is_compact_jwe(sealed),
            str(exchange.response if exchange else None)[:300],
        )
        claims = jwt_claims(exchange.headers) if exchange else {}
        r.equal(
            f"{name}: JWT claim v-c-response-mle-kid = JWE kid = responseMleKID",
            (claims.get("v-c-response-mle-kid"), jose_header(sealed).get("kid")),
            (kid, kid),
        )

    def response_mle(self) -> None:
        r = self.r
        sealed_merchant, kid = self.sealed_merchant()
        customers = sealed_merchant.api(CustomerApi)
        tap = WireTap(customers)
        email = f"mle-{secrets.token_hex(4)}@example.com"
        body = json.dumps({"buyerInformation": {"email": email}})
        created, status, _ = customers.post_customer_with_http_info(body)
        r.equal("response MLE: customer.create: status 201", status, 201)
        self.check_sealed("response MLE: customer.create", tap, kid)
        got, status, raw = customers.get_customer(created.id)
        r.equal(
            "response MLE: customer.retrieve decrypted by the SDK (status, id, email)",
            (status, got.id, attr(got, "buyer_information.email")),
            (200, created.id, email),
        )
        r.equal(
            "response MLE: third tuple element is the plaintext",
            json_object(raw).get("id"),
            created.id,
        )
        self.check_sealed("response MLE: customer.retrieve", tap, kid)
        r.error(
            "response MLE: customer.retrieve unknown id: 404 notFound (error body decrypted)",
            failure(customers.get_customer, secrets.token_hex(16).upper()),
            (404,),
            "notFound",
        )
        self.check_sealed("response MLE: the 404 error", tap, kid)
        with r.step("response MLE: payment credentials"):
            self.sealed_credentials(sealed_merchant, kid)
        with r.step("no response MLE"):
            self.plain_responses(created.id)
        _, status, _ = customers.delete_customer_with_http_info(created.id)
        r.equal("response MLE: customer.delete (no body): status 204", status, 204)

    def sealed_credentials(self, sealed_merchant: Merchant, kid: str) -> None:
        r = self.r
        iis = sealed_merchant.api(InstrumentIdentifierApi)
        ii, status, _ = iis.post_instrument_identifier_with_http_info(ii_body(make_pan()))
        r.equal(
            "response MLE: ii.create decrypted (status, state)", (status, ii.state), (201, "ACTIVE")
        )
        tokens = sealed_merchant.api(NetworkTokensApi)
        tap = WireTap(tokens)
        key = credentials_key(self.m)
        data, status, _ = tokens.post_token_payment_credentials(ii.id, credentials_body(2))
        self.check_sealed("response MLE: credentials v2", tap, kid)
        r.check(
            "response MLE: credentials v2: the SDK unwraps the MLE layer, the model is the JWE",
            status == 201 and is_compact_jwe(data),
            f"status {status}, {str(data)[:100]!r}",
        )
        number = str(json_at(open_credentials(key, str(data)), "tokenizedCard", "number"))
        r.check("response MLE: credentials v2 decrypt to a token number", number.isdigit(), number)
        model, status, raw = tokens.post_token_payment_credentials_v3(ii.id, credentials_body(3))
        self.check_sealed("response MLE: credentials v3", tap, kid)
        r.check(
            "response MLE: credentials v3: empty model, the JWE in the third tuple element",
            status == 201 and model.tokenized_card is None and is_compact_jwe(raw),
            f"status {status}, {str(raw)[:100]!r}",
        )
        number = str(json_at(open_credentials(key, str(raw)), "tokenizedCard", "number"))
        r.check("response MLE: credentials v3 decrypt to a token number", number.isdigit(), number)

    def plain_responses(self, customer_id: str) -> None:
        tap = WireTap(self.customers)
        _, status, _ = self.customers.get_customer(customer_id)
        exchange = tap.last
        wire = json_object(exchange.response if exchange else None)
        claims = jwt_claims(exchange.headers) if exchange else {}
        self.r.equal(
            "no response MLE configured: plain JSON, no v-c-response-mle-kid claim",
            (status, wire.get("id"), "encryptedResponse" in wire, "v-c-response-mle-kid" in claims),
            (200, customer_id, False, False),
        )
