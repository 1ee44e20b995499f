"""Network-token scenarios of the Python-SDK driver (``NetworkTokensApi`` and
``InstrumentIdentifierApi.post_instrument_identifier_enrollment`` of SDK 0.0.80),
plus the opentms authorisation simulator the cryptograms are presented to.

How SDK users get payment credentials (tms-api §3.7, §7.4, §8.5): v2
(``post_token_payment_credentials``) returns the bare JWE as the model; v3
(``post_token_payment_credentials_v3``) builds an empty ``InlineResponse2011``
and leaves the JWE in the third tuple element of the public method. Both are
decrypted with the SDK's ``JWEUtility.decrypt_jwe_response_using_private_key``
and a ``jwcrypto`` JWK of the bundle's ``paymentCredentials.privateKeyFile``, as
the official network-token sample does.

SDK quirks the scenarios work around: ``post_tokenized_card_delete`` without a
body crashes inside the SDK in every auth mode (it digests ``None``), so the
body is ``"{}"`` or a reason object; 0.0.80 has no ``DELETE`` form of it; and
``post_issuer_life_cycle_simulation`` takes ``profile_id`` as a required
positional argument (the merchant's default profile here).
"""

from __future__ import annotations

import base64
import re
import secrets
import uuid
from typing import Any

from CyberSource import (  # type: ignore[import-not-found]
    CustomerApi,
    CustomerPaymentInstrumentApi,
    InstrumentIdentifierApi,
    NetworkTokensApi,
    PostCustomerPaymentInstrumentRequest,
    PostInstrumentIdentifierEnrollmentRequest,
    PostIssuerLifeCycleSimulationRequest,
    PostPaymentCredentialsRequest,
    PostPaymentCredentialsRequest1,
    PostTokenizedCardDeleteRequest,
    PostTokenizedCardRequest,
    TmsEmbeddedInstrumentIdentifierCard,
    TmsIssuerLifeCycleEventSimulationMetadata,
    TmsIssuerLifeCycleEventSimulationMetadataCardArt,
    TmsIssuerLifeCycleEventSimulationMetadataCardArtCombinedAsset,
    Tmsv2tokenizedcardsCard,
    Tmsv2tokenizedcardstokenizedCardIddeleteReason,
    Tmsv2tokenizedcardstokenizedCardIdissuerlifecycleeventsimulationsCard,
    Tmsv3tokenstokenIdpaymentcredentialsOrderInformation,
    Tmsv3tokenstokenIdpaymentcredentialsOrderInformationAmountDetails,
)
from CyberSource.rest import ApiException  # type: ignore[import-not-found]
from CyberSource.utilities.JWEResponse.JWEUtility import (  # type: ignore[import-not-found]
    JWEUtility,
)
from jwcrypto import jwk

from tests.conformance.python_sdk_support import (
    GONE,
    Merchant,
    Report,
    attr,
    customer_body,
    failure,
    ii_body,
    is_compact_jwe,
    jose_header,
    json_at,
    json_object,
    make_pan,
    masked,
    pi_body,
    post_signed,
    sample_body,
    with_check_digit,
)

AMOUNT, CURRENCY = "10.00", "USD"
SIMULATOR = "/opentms/v1/simulations/authorizations"
VISA, MASTERCARD, AMEX = "visa", "mastercard", "americanexpress"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# The simulated networks' magic card numbers (adapters/networks/simulated.py):
# prefix + two-digit reason code + check digit.
VISA_DECLINED = with_check_digit("4000000000000" + "05")  # 4000000000000051
MASTERCARD_VERIFICATION_FAILED = with_check_digit("5100000000000" + "02")


# -- request bodies, sample style ---------------------------------------------


def credentials_body(version: int) -> str:
    """PostPaymentCredentialsRequest1 (v2) / PostPaymentCredentialsRequest (v3)
    for AMOUNT CURRENCY: the cryptogram is bound to them."""
    amount = Tmsv3tokenstokenIdpaymentcredentialsOrderInformationAmountDetails(
        total_amount=AMOUNT, currency=CURRENCY
    )
    order = Tmsv3tokenstokenIdpaymentcredentialsOrderInformation(amount_details=amount.__dict__)
    model = PostPaymentCredentialsRequest1 if version == 2 else PostPaymentCredentialsRequest
    return sample_body(model(order_information=order.__dict__))


def tokenized_card_body(pan: str) -> str:
    card = Tmsv2tokenizedcardsCard(number=pan, expiration_month="12", expiration_year="2031")
    return sample_body(PostTokenizedCardRequest(source="ONFILE", card=card.__dict__))


def life_cycle_body(
    state: str | None = None, last4: str | None = None, new_card_art: bool = False
) -> str:
    card = None
    if last4 is not None:
        card = Tmsv2tokenizedcardstokenizedCardIdissuerlifecycleeventsimulationsCard(
            last4=last4, expiration_month="06", expiration_year="2033"
        ).__dict__
    metadata = None
    if new_card_art:
        combined = TmsIssuerLifeCycleEventSimulationMetadataCardArtCombinedAsset(update="true")
        art = TmsIssuerLifeCycleEventSimulationMetadataCardArt(combined_asset=combined.__dict__)
        metadata = TmsIssuerLifeCycleEventSimulationMetadata(card_art=art.__dict__).__dict__
    request = PostIssuerLifeCycleSimulationRequest(state=state, card=card, metadata=metadata)
    return sample_body(request)


def enrollment_body() -> str:
    card = TmsEmbeddedInstrumentIdentifierCard(
        expiration_month="12", expiration_year="2031", security_code="123"
    )
    return sample_body(
        PostInstrumentIdentifierEnrollmentRequest(type="enrollable card", card=card.__dict__)
    )


def open_credentials(key: Any, sealed: str) -> dict[str, Any]:
    """The decrypted payment-credentials JWE, the way SDK users decrypt it."""
    return json_object(JWEUtility.decrypt_jwe_response_using_private_key(key, sealed))


def credentials_key(m: Merchant) -> Any:
    pem = m.bundle_path("paymentCredentials", "privateKeyFile").read_bytes()
    return jwk.JWK.from_pem(pem)


# -- scenarios ----------------------------------------------------------------


class NetworkScenarios:
    """Network tokens for merchant ``m``; ``plain_profile`` is one of its
    profiles that provisions no network tokens."""

    def __init__(self, report: Report, m: Merchant, other: Merchant, plain_profile: str) -> None:
        self.r = report
        self.m = m
        self.other = other
        self.plain_profile = plain_profile
        self.tokens = m.api(NetworkTokensApi)
        self.iis = m.api(InstrumentIdentifierApi)
        self.customers = m.api(CustomerApi)
        self.cpis = m.api(CustomerPaymentInstrumentApi)
        self.key = credentials_key(m)

    def scenarios(self) -> list[Any]:
        return [
            self.payment_credentials,
            self.tokenized_cards,
            self.issuer_life_cycle,
            self.card_art,
            self.enrollment,
        ]

    # -- helpers ---------------------------------------------------------------

    def new_ii(self, pan: str, **kwargs: Any) -> Any:
        ii, _, _ = self.iis.post_instrument_identifier_with_http_info(ii_body(pan), **kwargs)
        return ii

    def new_tokenized_card(self, pan: str) -> Any:
        created, _, _ = self.tokens.post_tokenized_card_with_http_info(tokenized_card_body(pan))
        return created.tokenized_card

    def credentials(self, name: str, version: int, token_id: str, **kwargs: Any) -> dict[str, Any]:
        """Ask for payment credentials and decrypt them as SDK users do."""
        r, body = self.r, credentials_body(version)
        if version == 2:
            data, status, _ = self.tokens.post_token_payment_credentials(token_id, body, **kwargs)
            sealed = data
            r.check(f"{name}: the returned model is the JWE string", is_compact_jwe(data), data)
        else:
            model, status, raw = self.tokens.post_token_payment_credentials_v3(
                token_id, body, **kwargs
            )
            sealed = raw
            empty = (model.links, model.card, model.tokenized_card) == (None, None, None)
            r.check(
                f"{name}: empty InlineResponse2011, the JWE in the third tuple element",
                empty and is_compact_jwe(raw),
                f"model {model!r}; third element {str(raw)[:100]!r}",
            )
        r.equal(f"{name}: status 201", status, 201)
        header = jose_header(sealed)
        r.equal(
            f"{name}: JWE header alg/enc/cty/kid (bundle paymentCredentials.kid)",
            tuple(header.get(key) for key in ("alg", "enc", "cty", "kid")),
            ("RSA-OAEP-256", "A256GCM", "json", self.m.bundle["paymentCredentials"]["kid"]),
        )
        payload = open_credentials(self.key, str(sealed))
        r.equal(
            f"{name}: _links.self.href",
            json_at(payload, "_links", "self", "href"),
            f"/tms/v{version}/tokens/{token_id}/payment-credentials",
        )
        return payload

    def check_token_credentials(
        self, name: str, payload: dict[str, Any], pan: str, network: str, has_ii: bool
    ) -> None:
        r = self.r
        card = payload.get("tokenizedCard") or {}
        number = str(card.get("number", ""))
        r.check(
            f"{name}: tokenizedCard.number is the clear token number (not the card)",
            number.isdigit() and len(number) == len(pan) and number != pan,
            number,
        )
        r.equal(
            f"{name}: tokenizedCard.type/state",
            (card.get("type"), card.get("state")),
            (network, "ACTIVE"),
        )
        r.check(
            f"{name}: tokenizedCard expirationMonth/expirationYear",
            re.fullmatch(r"\d{2}", str(card.get("expirationMonth")))
            and re.fullmatch(r"\d{4}", str(card.get("expirationYear"))),
            card,
        )
        if network == AMEX:
            code = str(card.get("securityCode"))
            ok = re.fullmatch(r"\d{4}", code) and "cryptogram" not in card
            r.check(f"{name}: Amex: a 4-digit securityCode, no cryptogram", ok, card)
        else:
            ok = bool(card.get("cryptogram")) and "securityCode" not in card
            r.check(f"{name}: a cryptogram, no securityCode", ok, card)
        r.check(f"{name}: eci (2 digits)", re.fullmatch(r"\d{2}", str(card.get("eci"))), card)
        par = card.get("paymentAccountReference")
        r.check(
            f"{name}: paymentAccountReference in tokenizedCard and issuer",
            par and json_at(payload, "issuer", "paymentAccountReference") == par,
            payload,
        )
        r.equal(f"{name}: tokenizedCard.card.suffix", json_at(card, "card", "suffix"), pan[-4:])
        if has_ii:
            r.equal(f"{name}: card.number masked", json_at(payload, "card", "number"), masked(pan))

    def authorize(
        self,
        name: str,
        card: dict[str, Any],
        expected: tuple[str, str | None],
        amount: str = AMOUNT,
    ) -> None:
        """Present decrypted credentials to the authorisation simulator."""
        body: dict[str, Any] = {
            "tokenNumber": card.get("number"),
            "expirationMonth": card.get("expirationMonth"),
            "expirationYear": card.get("expirationYear"),
            "eci": card.get("eci"),
            "amount": amount,
            "currency": CURRENCY,
        }
        if "cryptogram" in card:
            body["cryptogram"] = card["cryptogram"]
        else:
            body["securityCode"] = card.get("securityCode")
        status, answer = post_signed(self.m, SIMULATOR, body)
        self.r.equal(name, (status, answer.get("status"), answer.get("reason")), (200, *expected))

    # -- payment credentials ----------------------------------------------------

    def payment_credentials(self) -> None:
        r = self.r
        visa, amex, mastercard = make_pan("411111"), make_pan("378282", 15), make_pan("510510")
        ii = self.new_ii(visa)
        r.equal(
            "credentials setup: II's tokenized card", attr(ii, "tokenized_card.state"), "ACTIVE"
        )
        customer, _, _ = self.customers.post_customer_with_http_info(
            customer_body("nt-" + uuid.uuid4().hex[:12])
        )
        pi, _, _ = self.cpis.post_customer_payment_instrument_with_http_info(
            customer.id, pi_body(ii.id, PostCustomerPaymentInstrumentRequest)
        )
        amex_ii = self.new_ii(amex)
        card = self.new_tokenized_card(mastercard)
        subjects = [
            ("customer", customer.id, visa, VISA, True, "customer"),
            ("payment instrument", pi.id, visa, VISA, True, "paymentInstruments"),
            ("instrument identifier", ii.id, visa, VISA, True, "instrumentIdentifier"),
            ("tokenized card", card.id, mastercard, MASTERCARD, False, "tokenizedCard"),
            ("Amex instrument identifier", amex_ii.id, amex, AMEX, True, "instrumentIdentifier"),
        ]  # label, token id, card number, network, has an II, v3 _links key of the token kind
        issued: dict[tuple[str, int], dict[str, Any]] = {}
        for label, token_id, pan, network, has_ii, link in subjects:
            for version in (2, 3):
                name = f"credentials v{version} ({label})"
                with r.step(name):
                    payload = self.credentials(name, version, token_id)
                    self.check_token_credentials(name, payload, pan, network, has_ii)
                    if version == 3:
                        links = payload.get("_links") or {}
                        wanted = sorted({link, "tokenizedCard"})
                        r.check(
                            f"{name}: _links.{' and _links.'.join(wanted)}",
                            set(wanted) <= set(links),
                            links,
                        )
                    issued[label, version] = payload.get("tokenizedCard") or {}
        masked_token = attr(ii, "tokenized_card.number") or ""
        r.equal(
            "credentials: the clear token ends like the II's masked tokenizedCard.number",
            issued["instrument identifier", 2].get("number", "")[-4:],
            masked_token[-4:],
        )
        with r.step("authorisation simulator"):
            self.authorisations(issued)

    def authorisations(self, issued: dict[tuple[str, int], dict[str, Any]]) -> None:
        visa = issued["instrument identifier", 2]
        self.authorize("simulator: Visa cryptogram APPROVED", visa, ("APPROVED", None))
        self.authorize(
            "simulator: the same Visa cryptogram again DECLINED REPLAYED_CRYPTOGRAM",
            visa,
            ("DECLINED", "REPLAYED_CRYPTOGRAM"),
        )
        self.authorize(
            "simulator: Visa cryptogram (v3, customer) for another amount DECLINED AMOUNT_MISMATCH",
            issued["customer", 3],
            ("DECLINED", "AMOUNT_MISMATCH"),
            amount="11.00",
        )
        self.authorize(
            "simulator: Mastercard cryptogram (v3, tokenized card) APPROVED",
            issued["tokenized card", 3],
            ("APPROVED", None),
        )
        amex = issued["Amex instrument identifier", 2]
        self.authorize("simulator: Amex dynamic security code APPROVED", amex, ("APPROVED", None))
        self.authorize(
            "simulator: the same Amex code again DECLINED REPLAYED_CRYPTOGRAM",
            amex,
            ("DECLINED", "REPLAYED_CRYPTOGRAM"),
        )

    # -- tokenized cards ----------------------------------------------------------

    def tokenized_cards(self) -> None:
        r, pan = self.r, make_pan("510510")
        created, status, raw = self.tokens.post_tokenized_card(tokenized_card_body(pan))
        r.check("tokenized card.create: status 200/201", status in (200, 201), status)
        self.check_tokenized_card("tokenized card.create", created, pan, MASTERCARD)
        card, flat = created.tokenized_card, json_object(raw)
        r.equal(
            "tokenized card.create: flat fields beside tokenizedCard (SDK <= 0.0.73 envelope)",
            (flat.get("id"), flat.get("state"), flat.get("number")),
            (card.id, "ACTIVE", card.number),
        )
        with r.step("tokenized card.retrieve"):
            self.tokenized_card_retrieve(card, pan)
        with r.step("tokenized card.create declined"):
            self.declined_provisioning()
        with r.step("tokenized card.delete"):
            self.tokenized_card_delete(card.id)

    def check_tokenized_card(self, name: str, model: Any, pan: str, network: str) -> None:
        r, card = self.r, model.tokenized_card
        r.equal(
            f"{name}: _links.self.href",
            attr(model, "links._self.href"),
            f"/tms/v2/tokenized-cards/{card.id}",
        )
        r.equal(
            f"{name}: object/source/state/type",
            (card.object, card.source, card.state, card.type),
            ("tokenizedCard", "ONFILE", "ACTIVE", network),
        )
        number = card.number or ""
        r.check(
            f"{name}: number is the masked token number",
            re.fullmatch(r"\d{6}X+\d{4}", number) and number != masked(pan),
            number,
        )
        r.equal(
            f"{name}: card.suffix/expirationMonth/expirationYear",
            (attr(card, "card.suffix"), attr(card, "card.expiration_month")),
            (pan[-4:], "12"),
        )
        ids = (card.token_reference_id, card.enrollment_id, card.payment_account_reference)
        r.check(f"{name}: tokenReferenceId, enrollmentId, paymentAccountReference", all(ids), ids)
        combined = attr(card, "metadata.card_art.combined_asset")
        r.check(
            f"{name}: metadata.cardArt.combinedAsset id and href",
            attr(combined, "id")
            and str(attr(combined, "links._self.href")).endswith("/assets/card-art-combined"),
            combined,
        )
        r.check(f"{name}: metadata.issuer.name", attr(card, "metadata.issuer.name"), card.metadata)

    def tokenized_card_retrieve(self, card: Any, pan: str) -> None:
        r = self.r
        got, status, _ = self.tokens.get_tokenized_card_with_http_info(card.id)
        r.equal("tokenized card.retrieve: status 200", status, 200)
        self.check_tokenized_card("tokenized card.retrieve", got, pan, MASTERCARD)
        same = got.tokenized_card
        r.equal(
            "tokenized card.retrieve: the created token (id, number, tokenReferenceId)",
            (same.id, same.number, same.token_reference_id),
            (card.id, card.number, card.token_reference_id),
        )
        r.error(
            "tokenized card.retrieve unknown id: 404 notFound",
            failure(self.tokens.get_tokenized_card, secrets.token_hex(16).upper()),
            (404,),
            "notFound",
        )
        r.error(
            "merchant B: tokenized card.retrieve of A's card: 404",
            failure(self.other.api(NetworkTokensApi).get_tokenized_card, card.id),
            (404,),
            "notFound",
        )

    def declined_provisioning(self) -> None:
        for pan, reason in (
            (VISA_DECLINED, "DECLINED"),
            (MASTERCARD_VERIFICATION_FAILED, "CARD_VERIFICATION_FAILED"),
        ):
            self.r.error(
                f"tokenized card.create {pan} (the network answers {reason}): 403 declined",
                failure(self.tokens.post_tokenized_card, tokenized_card_body(pan)),
                (403,),
                "declined",
            )

    def tokenized_card_delete(self, card_id: str) -> None:
        r, tokens = self.r, self.tokens
        _, status, _ = tokens.post_tokenized_card_delete_with_http_info(
            card_id, post_tokenized_card_delete_request="{}"
        )
        r.equal('tokenized card.delete (body "{}"): status 204', status, 204)
        self.expect_state("tokenized card.retrieve after delete", card_id, "DELETED")
        r.error(
            "credentials v2 of a deleted tokenized card: 410",
            failure(tokens.post_token_payment_credentials, card_id, credentials_body(2)),
            (410,),
        )
        r.error(
            "tokenized card.delete again: 404/410",
            failure(
                tokens.post_tokenized_card_delete, card_id, post_tokenized_card_delete_request="{}"
            ),
            GONE,
        )
        other = self.new_tokenized_card(make_pan("411111"))
        reason = Tmsv2tokenizedcardstokenizedCardIddeleteReason(
            code="FRAUD", description="reported stolen"
        )
        body = sample_body(PostTokenizedCardDeleteRequest(reason=reason.__dict__))
        _, status, _ = tokens.post_tokenized_card_delete_with_http_info(
            other.id, post_tokenized_card_delete_request=body
        )
        r.equal("tokenized card.delete (reason FRAUD): status 204", status, 204)

    def expect_state(self, name: str, card_id: str, state: str) -> None:
        """A retrieve shows ``state`` (a deleted card may also be 404/410)."""
        try:
            got, status, _ = self.tokens.get_tokenized_card_with_http_info(card_id)
        except ApiException as exc:
            if state != "DELETED":
                raise
            self.r.error(f"{name}: state DELETED (or 404/410)", exc, GONE)
            return
        self.r.equal(
            f"{name}: state {state}", (status, attr(got, "tokenized_card.state")), (200, state)
        )

    # -- issuer life cycle ----------------------------------------------------------

    def simulate(self, name: str, card_id: str, body: str, profile_id: str | None = None) -> None:
        _, status, _ = self.tokens.post_issuer_life_cycle_simulation(
            profile_id or self.m.default_profile_id, card_id, body
        )
        self.r.equal(f"{name}: simulation status 204", status, 204)

    def issuer_life_cycle(self) -> None:
        r, tokens, pan = self.r, self.tokens, make_pan("411111")
        card = self.new_tokenized_card(pan)
        early = self.credentials("life cycle: credentials while ACTIVE", 2, card.id)
        cryptogram = early.get("tokenizedCard") or {}
        self.simulate("life cycle SUSPENDED", card.id, life_cycle_body("SUSPENDED"))
        self.expect_state("life cycle SUSPENDED: retrieve", card.id, "SUSPENDED")
        for version, call in (
            (2, tokens.post_token_payment_credentials),
            (3, tokens.post_token_payment_credentials_v3),
        ):
            r.error(
                f"life cycle SUSPENDED: credentials v{version}: 403",
                failure(call, card.id, credentials_body(version)),
                (403,),
            )
        self.authorize(
            "life cycle SUSPENDED: simulator DECLINED TOKEN_SUSPENDED",
            cryptogram,
            ("DECLINED", "TOKEN_SUSPENDED"),
        )
        self.simulate("life cycle ACTIVE again", card.id, life_cycle_body("ACTIVE"))
        self.expect_state("life cycle ACTIVE again: retrieve", card.id, "ACTIVE")
        self.credentials("life cycle ACTIVE again: credentials v3", 3, card.id)
        self.authorize(
            "life cycle ACTIVE again: the cryptogram issued before the suspension APPROVED",
            cryptogram,
            ("APPROVED", None),
        )
        with r.step("life cycle card update"):
            self.card_update(card.id)
        with r.step("life cycle DELETED"):
            self.deleted_by_issuer(card.id)

    def card_update(self, card_id: str) -> None:
        r = self.r
        before, _, _ = self.tokens.get_tokenized_card_with_http_info(card_id)
        body = life_cycle_body(last4="9876", new_card_art=True)
        self.simulate("life cycle card update (last4, expiry, card art)", card_id, body)
        after, _, _ = self.tokens.get_tokenized_card_with_http_info(card_id)
        card = after.tokenized_card.card
        r.equal(
            "life cycle card update: retrieve shows card.suffix/expirationMonth/expirationYear",
            (attr(card, "suffix"), attr(card, "expiration_month"), attr(card, "expiration_year")),
            ("9876", "06", "2033"),
        )
        path = "tokenized_card.metadata.card_art.combined_asset.id"
        r.check(
            "life cycle card update: a new combinedAsset id",
            attr(after, path) and attr(after, path) != attr(before, path),
            f"{attr(before, path)} -> {attr(after, path)}",
        )
        r.error(
            'life cycle simulation with profile_id="" (no profile-id): 400 missingHeaders',
            failure(
                self.tokens.post_issuer_life_cycle_simulation,
                "",
                card_id,
                life_cycle_body("ACTIVE"),
            ),
            (400,),
            "missingHeaders",
        )
        r.error(
            "life cycle simulation with an unknown profile-id: 424",
            failure(
                self.tokens.post_issuer_life_cycle_simulation,
                str(uuid.uuid4()).upper(),
                card_id,
                life_cycle_body("ACTIVE"),
            ),
            (424,),
        )

    def deleted_by_issuer(self, card_id: str) -> None:
        r = self.r
        self.simulate("life cycle DELETED", card_id, life_cycle_body("DELETED"))
        self.expect_state("life cycle DELETED: retrieve", card_id, "DELETED")
        r.error(
            "life cycle DELETED: credentials v2: 410",
            failure(self.tokens.post_token_payment_credentials, card_id, credentials_body(2)),
            (410,),
        )
        r.error(
            "life cycle DELETED: simulating ACTIVE again: 400",
            failure(
                self.tokens.post_issuer_life_cycle_simulation,
                self.m.default_profile_id,
                card_id,
                life_cycle_body("ACTIVE"),
            ),
            (400,),
        )

    # -- card art ---------------------------------------------------------------------

    def card_art(self) -> None:
        r, ii = self.r, self.new_ii(make_pan("411111"))
        asset, status, _ = self.tokens.get_card_art_asset_with_http_info(
            ii.id, "vts", "card-art-combined"
        )
        r.equal("card art (vts, card-art-combined): status 200", status, 200)
        r.equal(
            "card art: type/provider", (asset.type, asset.provider), ("card-art-combined", "vts")
        )
        combined = attr(ii, "tokenized_card.metadata.card_art.combined_asset")
        r.equal("card art: id = the II's combinedAsset.id", asset.id, attr(combined, "id"))
        r.equal(
            "card art: the II's combinedAsset href",
            attr(combined, "links._self.href"),
            f"/tms/v2/tokens/{ii.id}/vts/assets/card-art-combined",
        )
        content = asset.content[0] if asset.content else None
        r.equal("card art: content[0].type", attr(content, "type"), "image/png")
        png = base64.b64decode(str(attr(content, "data")))
        r.check(
            "card art: content[0].data is a base64 PNG", png.startswith(PNG_SIGNATURE), png[:16]
        )
        size = (attr(content, "width"), attr(content, "height"))
        r.check("card art: width/height are ints", all(isinstance(n, int) for n in size), size)
        brand, status, _ = self.tokens.get_card_art_asset_with_http_info(ii.id, "vts", "brand-logo")
        r.equal("card art (brand-logo): status/type", (status, brand.type), (200, "brand-logo"))
        # The spec's and docs' example hrefs spell the provider "visa" (tms-api §2.6).
        same, status, _ = self.tokens.get_card_art_asset_with_http_info(
            ii.id, "visa", "card-art-combined"
        )
        r.equal("card art (provider spelled visa): status/id", (status, same.id), (200, asset.id))
        r.error(
            "card art with provider mdes for a Visa token: 404",
            failure(self.tokens.get_card_art_asset, ii.id, "mdes", "card-art-combined"),
            (404,),
        )
        r.error(
            "card art of an unknown instrument identifier: 404",
            failure(self.tokens.get_card_art_asset, "7" + "0" * 18, "vts", "card-art-combined"),
            (404,),
        )

    # -- enrollment -------------------------------------------------------------------

    def enrollment(self) -> None:
        r, iis = self.r, self.iis
        ii = self.new_ii(make_pan("411111"))
        with r.step("enrollment of an II with an ACTIVE token"):
            data, status, _ = iis.post_instrument_identifier_enrollment(ii.id, enrollment_body())
            r.equal(
                "enrollment of an II with an ACTIVE token: 204, None", (status, data), (204, None)
            )
        pan = make_pan("411111")
        plain, status, _ = iis.post_instrument_identifier_with_http_info(
            ii_body(pan), profile_id=self.plain_profile
        )
        r.equal(
            "II under a profile without network tokens: 201, no tokenizedCard",
            (status, plain.tokenized_card),
            (201, None),
        )
        with r.step("no network token"):
            self.without_network_token(plain.id, pan)
        with r.step("enrollment of an II without a token"):
            self.enroll_without_token(plain.id)

    def enroll_without_token(self, ii_id: str) -> None:
        r, iis, profile = self.r, self.iis, {"profile_id": self.plain_profile}
        data, status, _ = iis.post_instrument_identifier_enrollment(
            ii_id, enrollment_body(), **profile
        )
        r.equal("enrollment of an II without a token: 202, None", (status, data), (202, None))
        got, _, _ = iis.get_instrument_identifier_with_http_info(ii_id)
        r.equal("II after enrollment: tokenizedCard", attr(got, "tokenized_card.state"), "ACTIVE")
        _, status, _ = iis.post_instrument_identifier_enrollment_with_http_info(
            ii_id, enrollment_body(), **profile
        )
        r.equal("enrollment again: 204", status, 204)
        r.error(
            "enrollment of an unknown II: 404 notFound",
            failure(iis.post_instrument_identifier_enrollment, "7" + "0" * 18, enrollment_body()),
            (404,),
            "notFound",
        )

    def without_network_token(self, ii_id: str, pan: str) -> None:
        r, profile = self.r, {"profile_id": self.plain_profile}
        r.error(
            "no network token: credentials v2: 404",
            failure(
                self.tokens.post_token_payment_credentials, ii_id, credentials_body(2), **profile
            ),
            (404,),
        )
        payload = self.credentials("no network token: credentials v3", 3, ii_id, **profile)
        r.equal(
            "no network token: v3 carries the clear card number and no tokenizedCard",
            (json_at(payload, "card", "number"), "tokenizedCard" in payload),
            (pan, False),
        )
        r.error(
            "no network token: card art: 404",
            failure(self.tokens.get_card_art_asset, ii_id, "vts", "card-art-combined"),
            (404,),
        )
