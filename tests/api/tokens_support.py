"""Helpers of the network-token API tests: the four simulated networks as the
docs describe them (docs/simulators.md), paths, cards stored through the API,
payment credentials opened with the merchant's key, the authorisation
simulator, PNG checks and JWT clients that ask for response MLE."""

from __future__ import annotations

import base64
import binascii
import functools
import json
import re
import struct
import uuid
import zlib
from collections.abc import Generator, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from jwcrypto.jwe import JWE
from jwcrypto.jwk import JWK
from starlette.applications import Starlette

from opentms.bootstrap import Services
from opentms.client import ASGIAppTransport
from opentms.domain.card import luhn_valid
from tests.api.factories import (
    CUSTOMERS,
    II,
    JSON,
    PI,
    json_of,
)
from tests.api.signing import encode_jwt, jwt_claims, private_key
from tests.support import Merchant, make_pan

TOKENIZED_CARDS = "/tms/v2/tokenized-cards"
SIMULATIONS = "/opentms/v1/simulations/authorizations"
JOSE = "application/jose"
EXPIRY = {"expirationMonth": "12", "expirationYear": "2031"}
ASSET_TYPES = ("card-art-combined", "brand-logo", "issuer-logo", "icon-logo", "icon")
# Asset type in the path → its entry in tokenizedCard.metadata.cardArt.
ASSET_KEYS = {
    "card-art-combined": "combinedAsset",
    "brand-logo": "brandLogoAsset",
    "issuer-logo": "issuerLogoAsset",
    "icon-logo": "iconAsset",
    "icon": "iconAsset",
}
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@dataclass(frozen=True)
class Network:
    """A simulated token service as docs/simulators.md and tms-api.md describe it."""

    type: str  # tokenizedCard.type
    card_prefix: str  # BIN of the test cards of this brand
    length: int
    card_type: str  # TMS card.type
    token_bin: str
    par_prefix: str
    requestor_prefix: str
    reference_prefix: str
    provider: str  # the canonical card-art tokenProvider
    aliases: tuple[str, ...]  # every tokenProvider spelling that names it
    eci: str  # without cardholder authentication
    commerce_indicator: str
    credential: Literal["cryptogram", "securityCode"]  # when no type is asked for

    def new_pan(self) -> str:
        """A card of this brand that no test has stored yet."""
        return make_pan(self.card_prefix, self.length)


VISA = Network(
    type="visa",
    card_prefix="411111",
    length=16,
    card_type="001",
    token_bin="489537",
    par_prefix="V001",
    requestor_prefix="400",
    reference_prefix="DNITHE",
    provider="vts",
    aliases=("vts", "visa"),
    eci="07",
    commerce_indicator="internet",
    credential="cryptogram",
)
MASTERCARD = Network(
    type="mastercard",
    card_prefix="555555",
    length=16,
    card_type="002",
    token_bin="520473",
    par_prefix="5001",
    requestor_prefix="501",
    reference_prefix="DM4MMC",
    provider="mdes",
    aliases=("mdes", "mscof", "mastercard"),
    eci="06",
    commerce_indicator="spa",
    credential="cryptogram",
)
AMEX = Network(
    type="americanexpress",
    card_prefix="378282",
    length=15,
    card_type="003",
    token_bin="371287",
    par_prefix="A001",
    requestor_prefix="372",
    reference_prefix="DAMEXT",
    provider="amex",
    aliases=("amex", "aets", "americanexpress"),
    eci="07",
    commerce_indicator="internet",
    credential="securityCode",
)
DISCOVER = Network(
    type="discover",
    card_prefix="601111",
    length=16,
    card_type="004",
    token_bin="601187",
    par_prefix="D001",
    requestor_prefix="601",
    reference_prefix="DDSCVR",
    provider="dts",
    aliases=("dts", "discover"),
    eci="07",
    commerce_indicator="internet",
    credential="cryptogram",
)
NETWORKS = (VISA, MASTERCARD, AMEX, DISCOVER)
CRYPTOGRAM_NETWORKS = (VISA, MASTERCARD, DISCOVER)
# Ids that name nothing: a tokenized card's shape, an identifier's, neither.
UNKNOWN_IDS = [
    pytest.param("0123456789ABCDEF0123456789ABCDEF", id="hex"),
    pytest.param("7030000000000000001", id="digits"),
    pytest.param("nope", id="garbage"),
]


def network_params(networks: Sequence[Network] = NETWORKS) -> list[Any]:
    return [pytest.param(network, id=network.type) for network in networks]


def named(*values: str) -> list[Any]:
    """``pytest.param`` for each value, with the value (lower case) as its id."""
    return [pytest.param(value, id=value.lower()) for value in values]


def network_of(token_type: str) -> Network:
    return next(network for network in NETWORKS if network.type == token_type)


# Paths -----------------------------------------------------------------------


def card_path(token_id: str) -> str:
    return f"{TOKENIZED_CARDS}/{token_id}"


def life_cycle_path(token_id: str) -> str:
    return f"{TOKENIZED_CARDS}/{token_id}/issuer-life-cycle-event-simulations"


def enrollment_path(ii_id: str) -> str:
    return f"{II}/{ii_id}/enrollment"


def asset_path(owner_id: str, provider: str, asset_type: str) -> str:
    return f"/tms/v2/tokens/{owner_id}/{provider}/assets/{asset_type}"


def credentials_path(token_id: str, version: int = 2) -> str:
    return f"/tms/v{version}/tokens/{token_id}/payment-credentials"


# Merchants and profiles ------------------------------------------------------


def new_merchant(services: Services, prefix: str) -> Merchant:
    """A merchant of its own, for tests that store fixed card numbers (a card
    is stored once per merchant, so a shared merchant would answer 200)."""
    return Merchant(services.merchants.register(f"{prefix}_{uuid.uuid4().hex[:12]}"))


def signed_client(app: Starlette, merchant: Merchant) -> httpx.Client:
    return httpx.Client(
        transport=ASGIAppTransport(app),
        base_url="http://testserver",
        auth=merchant.signature_auth(),
    )


def profile_header(profile_id: str | None) -> dict[str, str]:
    return {"profile-id": profile_id} if profile_id else {}


# Cards through the API -------------------------------------------------------


def create_ii(
    client: httpx.Client,
    pan: str,
    *,
    profile_id: str | None = None,
    status: int = 201,
    **card: str,
) -> JSON:
    """Store ``pan`` as an instrument identifier (expiry 12/2031 unless given)."""
    body = {"card": {"number": pan, **(card or EXPIRY)}}
    return json_of(client.post(II, json=body, headers=profile_header(profile_id)), status)


def token_id_of(ii: JSON) -> str:
    """The id of the instrument identifier's network token, from its link."""
    href: str = ii["_links"]["tokenized-cards"]["href"]
    prefix = TOKENIZED_CARDS + "/"
    assert href.startswith(prefix), href
    return href[len(prefix) :]


def get_token(client: httpx.Client, token_id: str) -> JSON:
    return json_of(client.get(card_path(token_id)), 200)


def create_tokenized_card(client: httpx.Client, pan: str, **fields: Any) -> JSON:
    body = {"source": "ONFILE", "card": {"number": pan, **EXPIRY}, **fields}
    return json_of(client.post(TOKENIZED_CARDS, json=body), 201)


def life_cycle(
    client: httpx.Client, merchant: Merchant, token_id: str, body: JSON
) -> httpx.Response:
    """The issuer life-cycle simulation, with the profile-id header it needs."""
    return client.post(
        life_cycle_path(token_id),
        json=body,
        headers={"profile-id": merchant.registration.default_profile_id},
    )


def set_state(client: httpx.Client, merchant: Merchant, token_id: str, state: str) -> None:
    response = life_cycle(client, merchant, token_id, {"state": state})
    assert response.status_code == 204, response.text


@dataclass(frozen=True)
class Stored:
    """A card stored as one kind of token, and what credentials for it link to."""

    token_id: str  # what goes in /tms/v{2,3}/tokens/{tokenId}/payment-credentials
    pan: str
    network: Network
    ii_id: str | None
    tokenized_card_id: str | None
    links_v3: JSON  # every _links entry of a v3 payload but self and tokenizedCard
    card_expiry: JSON  # what the payload's card carries besides number and type


TOKEN_KINDS = (
    "customer",
    "customer-payment-instrument",
    "payment-instrument",
    "instrument-identifier",
    "tokenized-card",
)


def _ii_link(ii_id: str) -> JSON:
    return {"instrumentIdentifier": {"href": f"{II}/{ii_id}"}}


def store_as(
    client: httpx.Client, kind: str, network: Network, profile_id: str | None = None
) -> Stored:
    """A new card of ``network`` stored as token kind ``kind`` (TOKEN_KINDS)."""
    pan = network.new_pan()
    headers = profile_header(profile_id)
    pi_card = {**EXPIRY, "type": network.card_type}
    pi_body = {"card": pi_card, "instrumentIdentifier": {"card": {"number": pan}}}
    if kind in ("customer", "customer-payment-instrument"):
        customer = json_of(
            client.post(
                CUSTOMERS, json={"buyerInformation": {"merchantCustomerID": "c"}}, headers=headers
            ),
            201,
        )
        pi = json_of(
            client.post(
                f"{CUSTOMERS}/{customer['id']}/payment-instruments", json=pi_body, headers=headers
            ),
            201,
        )
        assert pi["default"] is True
        ii_id = pi["instrumentIdentifier"]["id"]
        links = {
            "customer": {"href": f"{CUSTOMERS}/{customer['id']}"},
            "paymentInstruments": {
                "href": f"{CUSTOMERS}/{customer['id']}/payment-instruments/{pi['id']}"
            },
            **_ii_link(ii_id),
        }
        token_id = customer["id"] if kind == "customer" else pi["id"]
        embedded = pi["_embedded"]["instrumentIdentifier"]
        return Stored(token_id, pan, network, ii_id, _maybe_token(embedded), links, dict(EXPIRY))
    if kind == "payment-instrument":
        pi = json_of(client.post(PI, json=pi_body, headers=headers), 201)
        ii_id = pi["instrumentIdentifier"]["id"]
        links = {"paymentInstruments": {"href": f"{PI}/{pi['id']}"}, **_ii_link(ii_id)}
        embedded = pi["_embedded"]["instrumentIdentifier"]
        return Stored(pi["id"], pan, network, ii_id, _maybe_token(embedded), links, dict(EXPIRY))
    if kind == "instrument-identifier":
        ii = create_ii(client, pan, profile_id=profile_id)
        return Stored(ii["id"], pan, network, ii["id"], _maybe_token(ii), _ii_link(ii["id"]), {})
    assert kind == "tokenized-card", kind
    assert profile_id is None
    token = create_tokenized_card(client, pan, createPanInstrumentIdentifier=True)
    ii_id = token["_links"]["instrumentidentifier"]["href"].rsplit("/", 1)[1]
    return Stored(token["id"], pan, network, ii_id, token["id"], _ii_link(ii_id), dict(EXPIRY))


def _maybe_token(ii: JSON) -> str | None:
    return token_id_of(ii) if "tokenized-cards" in ii["_links"] else None


# Payment credentials -----------------------------------------------------------


def jwe_header(compact: str) -> JSON:
    """The protected header of a compact JWE (five base64url segments)."""
    segments = compact.split(".")
    assert len(segments) == 5, compact[:40]
    assert all(re.fullmatch(r"[A-Za-z0-9_-]*", segment) for segment in segments)
    encoded = segments[0] + "=" * (-len(segments[0]) % 4)
    header: JSON = json.loads(base64.urlsafe_b64decode(encoded))
    return header


@functools.lru_cache(maxsize=64)
def _jwk(pem: bytes) -> Any:
    # Loading an RSA private key checks it, which takes tens of milliseconds.
    return JWK.from_pem(pem)


def decrypt(compact: str, private_key_pem: bytes) -> bytes:
    token = JWE()
    token.deserialize(compact, key=_jwk(private_key_pem))
    return bytes(token.payload)


def open_credentials(response: httpx.Response, merchant: Merchant) -> JSON:
    """The decrypted payload of a payment-credentials answer, after checking
    the status, the content type and the JWE header (tms-api.md §3.7.2)."""
    assert response.status_code == 201, response.text
    assert response.headers["content-type"].startswith(JOSE)
    registration = merchant.registration
    assert jwe_header(response.text) == {
        "alg": "RSA-OAEP-256",
        "enc": "A256GCM",
        "kid": registration.credentials_kid,
        "cty": "json",
        "typ": "JWT",
    }
    assert registration.credentials_private_key_pem is not None
    payload: JSON = json.loads(decrypt(response.text, registration.credentials_private_key_pem))
    return payload


def issue(
    client: httpx.Client,
    merchant: Merchant,
    token_id: str,
    body: JSON | None = None,
    *,
    version: int = 2,
    profile_id: str | None = None,
) -> JSON:
    """Payment credentials for ``token_id``, decrypted."""
    response = client.post(
        credentials_path(token_id, version), json=body or {}, headers=profile_header(profile_id)
    )
    return open_credentials(response, merchant)


def amount(total: str, currency: str) -> JSON:
    return {"orderInformation": {"amountDetails": {"totalAmount": total, "currency": currency}}}


PASSKEY = {
    "authenticatedIdentities": [
        {
            "provider": "VISA_PAYMENT_PASSKEY",
            "id": "Y3JlZGVudGlhbC1pZA",
            "data": "YXNzZXJ0aW9uLWRhdGE",
            "relyingPartyId": "c2hvcC5leGFtcGxl",
        }
    ]
}


def cryptogram_bytes(cryptogram: str) -> bytes:
    """The 20 bytes of a 28-character base64 cryptogram."""
    assert re.fullmatch(r"[A-Za-z0-9+/]{27}=", cryptogram), cryptogram
    raw = base64.b64decode(cryptogram, validate=True)
    assert len(raw) == 20
    return raw


def flip(cryptogram: str, index: int) -> str:
    """The cryptogram with one bit of byte ``index`` changed, re-encoded."""
    raw = bytearray(base64.b64decode(cryptogram))
    raw[index] ^= 0x01
    return base64.b64encode(bytes(raw)).decode()


# The authorisation simulator ---------------------------------------------------


def presentation(tokenized: JSON, **overrides: Any) -> JSON:
    """An authorisation for the credentials in ``tokenized`` (the decrypted
    ``tokenizedCard``); ``None`` overrides remove a field."""
    body: JSON = {
        "tokenNumber": tokenized["number"],
        "expirationMonth": tokenized["expirationMonth"],
        "expirationYear": tokenized["expirationYear"],
    }
    for name in ("cryptogram", "securityCode"):
        if name in tokenized:
            body[name] = tokenized[name]
    body.update(overrides)
    return {name: value for name, value in body.items() if value is not None}


def authorize(client: httpx.Client, tokenized: JSON, **overrides: Any) -> JSON:
    return json_of(client.post(SIMULATIONS, json=presentation(tokenized, **overrides)), 200)


def approved(network: Network, atc: int) -> JSON:
    return {
        "status": "APPROVED",
        "reason": None,
        "network": network.type,
        "applicationTransactionCounter": atc,
    }


def declined(reason: str, network: Network | None = None, atc: int | None = None) -> JSON:
    return {
        "status": "DECLINED",
        "reason": reason,
        "network": network.type if network else None,
        "applicationTransactionCounter": atc,
    }


# PNG ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Png:
    width: int
    height: int
    first_pixel: bytes  # RGB of the top-left pixel


def read_png(data: bytes) -> Png:
    """Parse a PNG far enough to prove it is one: signature, chunk CRCs, IHDR
    first, IEND last, and the image data decompresses to the declared size."""
    assert data.startswith(PNG_SIGNATURE)
    at, chunks = len(PNG_SIGNATURE), []
    while at < len(data):
        (length,) = struct.unpack(">I", data[at : at + 4])
        kind, body = data[at + 4 : at + 8], data[at + 8 : at + 8 + length]
        (crc,) = struct.unpack(">I", data[at + 8 + length : at + 12 + length])
        assert zlib.crc32(kind + body) & 0xFFFFFFFF == crc, kind
        chunks.append((kind, body))
        at += 12 + length
    assert at == len(data)
    assert chunks[0][0] == b"IHDR"
    assert chunks[-1] == (b"IEND", b"")
    width, height, depth, colour, _, _, _ = struct.unpack(">IIBBBBB", chunks[0][1])
    assert (depth, colour) == (8, 2)  # 8-bit RGB
    pixels = zlib.decompress(b"".join(body for kind, body in chunks if kind == b"IDAT"))
    assert len(pixels) == height * (1 + 3 * width)
    assert pixels[0] == 0  # filter type None
    return Png(width, height, pixels[1:4])


def b64decode(data: str) -> bytes:
    try:
        return base64.b64decode(data, validate=True)
    except binascii.Error as exc:  # pragma: no cover - the assertion's message
        raise AssertionError(f"not base64: {data[:20]}") from exc


# Message-level encryption ------------------------------------------------------


class ResponseMLEAuth(httpx.Auth):
    """An RS256 JWT (the merchant's P12 key) whose claims carry
    ``v-c-response-mle-kid``, as the SDK sends when response MLE is on."""

    requires_request_body = True

    def __init__(self, merchant: Merchant, kid: str) -> None:
        self._registration = merchant.registration
        self._kid = kid

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        registration = self._registration
        target = request.url.raw_path.decode()
        claims = jwt_claims(
            registration.merchant_id,
            request.method,
            target,
            request.content,
            **{"v-c-response-mle-kid": self._kid},
        )
        header = {"alg": "RS256", "kid": registration.jwt_kid, "typ": "JWT"}
        token = encode_jwt(header, claims, key=private_key(registration))
        request.headers["authorization"] = f"Bearer {token}"
        yield request


def mle_client(app: Starlette, merchant: Merchant, kid: str) -> httpx.Client:
    return httpx.Client(
        transport=ASGIAppTransport(app),
        base_url="http://testserver",
        auth=ResponseMLEAuth(merchant, kid),
    )


def encrypt_to(certificate: x509.Certificate | bytes, plaintext: bytes) -> str:
    """A compact JWE (RSA-OAEP-256, A256GCM) of ``plaintext`` for the key of
    ``certificate`` (or a PEM public key), as the SDK builds encryptedRequest."""
    pem = (
        certificate
        if isinstance(certificate, bytes)
        else certificate.public_bytes(serialization.Encoding.PEM)
    )
    protected = {"alg": "RSA-OAEP-256", "enc": "A256GCM", "kid": "request-mle", "iat": 0}
    token = JWE(plaintext, recipient=JWK.from_pem(pem), protected=json.dumps(protected))
    return str(token.serialize(compact=True))


def is_luhn_valid(number: str) -> bool:
    return number.isdigit() and luhn_valid(number)
