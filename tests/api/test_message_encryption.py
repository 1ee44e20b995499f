"""Message-level encryption (tms-api.md §7.2 request MLE, §7.3 response MLE):
``{"encryptedRequest": JWE}`` bodies encrypted to the server's certificate, and
``{"encryptedResponse": JWE}`` answers when the JWT claims
``v-c-response-mle-kid``."""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from jwcrypto.jwe import JWE
from jwcrypto.jwk import JWK
from starlette.applications import Starlette

from opentms.bootstrap import Services
from tests.api.envelopes import assert_error
from tests.api.factories import CUSTOMERS, II, JSON, json_of, masked
from tests.api.signing import private_key
from tests.api.tokens_support import (
    VISA,
    credentials_path,
    decrypt,
    encrypt_to,
    jwe_header,
    mle_client,
    named,
    open_credentials,
    token_id_of,
)
from tests.support import Merchant

KID_HEADER = "v-c-response-mle-kid"


def p12_key_pem(merchant: Merchant) -> bytes:
    return private_key(merchant.registration).private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def credentials_key_pem(merchant: Merchant) -> bytes:
    pem = merchant.registration.credentials_private_key_pem
    assert pem is not None
    return pem


@pytest.fixture
def sealed_client(app: Starlette, merchant: Merchant) -> Iterator[httpx.Client]:
    """Signs with a JWT asking for responses encrypted to the merchant's
    payment-credentials key."""
    with mle_client(app, merchant, merchant.registration.credentials_kid) as c:
        yield c


def unseal(response: httpx.Response, kid: str, pem: bytes) -> bytes:
    """The plaintext of a response-MLE body, after checking its shape."""
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert list(body) == ["encryptedResponse"]
    header = jwe_header(body["encryptedResponse"])
    assert (header["alg"], header["enc"], header["kid"]) == ("RSA-OAEP-256", "A256GCM", kid)
    return decrypt(body["encryptedResponse"], pem)


# Response MLE ------------------------------------------------------------------------


@pytest.mark.parametrize("key", named("payment-credentials", "jwt-certificate"))
def test_a_response_is_sealed_to_the_kid_the_jwt_names(
    app: Starlette, client: httpx.Client, merchant: Merchant, key: str
) -> None:
    registration = merchant.registration
    if key == "payment-credentials":
        kid, pem = registration.credentials_kid, credentials_key_pem(merchant)
    else:
        kid, pem = registration.jwt_kid, p12_key_pem(merchant)
    pan = VISA.new_pan()
    with mle_client(app, merchant, kid) as sealed:
        response = sealed.post(II, json={"card": {"number": pan}})
    assert response.status_code == 201
    assert pan not in response.text
    created = json.loads(unseal(response, kid, pem))
    assert created["card"] == {"number": masked(pan)}
    assert response.headers["location"] == f"{II}/{created['id']}"
    assert response.headers["etag"] == '"1"'
    # The sealed body is the body a plain request gets.
    assert json_of(client.get(f"{II}/{created['id']}"), 200) == created


def test_a_read_is_sealed_too(
    sealed_client: httpx.Client, client: httpx.Client, merchant: Merchant
) -> None:
    ii = json_of(client.post(II, json={"card": {"number": VISA.new_pan()}}), 201)
    response = sealed_client.get(f"{II}/{ii['id']}")
    assert response.status_code == 200
    kid = merchant.registration.credentials_kid
    assert json.loads(unseal(response, kid, credentials_key_pem(merchant))) == ii


def test_an_error_is_sealed_too(sealed_client: httpx.Client, merchant: Merchant) -> None:
    response = sealed_client.get(f"{II}/7030000000000000001")
    assert response.status_code == 404
    kid = merchant.registration.credentials_kid
    error = json.loads(unseal(response, kid, credentials_key_pem(merchant)))
    assert error["errors"][0]["type"] == "notFound"


def test_no_content_stays_empty(sealed_client: httpx.Client, client: httpx.Client) -> None:
    ii = json_of(client.post(II, json={"card": {"number": VISA.new_pan()}}), 201)
    response = sealed_client.delete(f"{II}/{ii['id']}")
    assert response.status_code == 204
    assert response.content == b""


def test_payment_credentials_are_sealed_inside_the_response(
    sealed_client: httpx.Client, client: httpx.Client, merchant: Merchant
) -> None:
    ii = json_of(client.post(II, json={"card": {"number": VISA.new_pan()}}), 201)
    response = sealed_client.post(credentials_path(ii["id"], 3), json={})
    assert response.status_code == 201
    kid = merchant.registration.credentials_kid
    inner = unseal(response, kid, credentials_key_pem(merchant)).decode()
    # What the SDK hands its caller after opening the response: the JWE.
    opened = open_credentials(
        httpx.Response(201, headers={"content-type": "application/jose"}, text=inner), merchant
    )
    assert opened["tokenizedCard"]["applicationTransactionCounter"] == "1"
    assert opened["_links"]["tokenizedCard"]["href"].endswith(token_id_of(ii))


@pytest.mark.parametrize("whose", named("nobody", "other-credentials", "other-jwt"))
def test_an_unknown_kid_is_400(
    app: Starlette, merchant: Merchant, other_merchant: Merchant, whose: str
) -> None:
    kid = {
        "nobody": "no-such-key",
        "other-credentials": other_merchant.registration.credentials_kid,
        "other-jwt": other_merchant.registration.jwt_kid,
    }[whose]
    with mle_client(app, merchant, kid) as c:
        response = c.get(f"{II}/7030000000000000001")
    assert_error(response, 400, "invalidFields", field=KID_HEADER, location="header")


def test_a_request_refused_for_its_kid_stores_nothing(
    app: Starlette, client: httpx.Client, merchant: Merchant
) -> None:
    """A 400 tells the client its request was not carried out: the card must
    not have been stored."""
    pan = VISA.new_pan()
    with mle_client(app, merchant, "no-such-key") as c:
        refused = c.post(II, json={"card": {"number": pan}})
    assert_error(refused, 400, "invalidFields", field=KID_HEADER, location="header")
    # The card is new to the vault.
    assert client.post(II, json={"card": {"number": pan}}).status_code == 201


def test_a_request_refused_for_its_kid_takes_no_atc(
    app: Starlette, client: httpx.Client, merchant: Merchant
) -> None:
    ii = json_of(client.post(II, json={"card": {"number": VISA.new_pan()}}), 201)
    with mle_client(app, merchant, "no-such-key") as c:
        refused = c.post(credentials_path(ii["id"]), json={})
    assert_error(refused, 400, "invalidFields", field=KID_HEADER, location="header")
    # The token's first credentials are the first: ATC 1.
    payload = open_credentials(client.post(credentials_path(ii["id"]), json={}), merchant)
    assert payload["tokenizedCard"]["applicationTransactionCounter"] == "1"


# Request MLE -------------------------------------------------------------------------


def sealed_body(services: Services, body: JSON) -> JSON:
    certificate = services.server_keys.request_mle()[1]
    return {"encryptedRequest": encrypt_to(certificate, json.dumps(body).encode())}


def test_an_encrypted_request_is_accepted(
    client: httpx.Client, services: Services, merchant: Merchant
) -> None:
    fields = {"buyerInformation": {"merchantCustomerID": "mle-1", "email": "mle@example.com"}}
    created = json_of(client.post(CUSTOMERS, json=sealed_body(services, fields)), 201)
    assert created["buyerInformation"] == fields["buyerInformation"]
    assert created["metadata"] == {"creator": merchant.id}
    assert json_of(client.get(f"{CUSTOMERS}/{created['id']}"), 200) == created


def test_an_encrypted_card_is_stored(client: httpx.Client, services: Services) -> None:
    pan = VISA.new_pan()
    created = json_of(client.post(II, json=sealed_body(services, {"card": {"number": pan}})), 201)
    assert created["card"] == {"number": masked(pan)}
    assert created["tokenizedCard"]["state"] == "ACTIVE"


def test_encrypted_both_ways(
    sealed_client: httpx.Client, services: Services, merchant: Merchant
) -> None:
    """The SDK with JWT, request and response MLE on."""
    fields = {"buyerInformation": {"merchantCustomerID": "mle-2"}}
    response = sealed_client.post(CUSTOMERS, json=sealed_body(services, fields))
    assert response.status_code == 201
    kid = merchant.registration.credentials_kid
    created = json.loads(unseal(response, kid, credentials_key_pem(merchant)))
    assert created["buyerInformation"] == {"merchantCustomerID": "mle-2"}


def _garbage(services: Services, merchant: Merchant) -> dict[str, object]:
    good = sealed_body(services, {"buyerInformation": {"merchantCustomerID": "x"}})
    token = str(good["encryptedRequest"])
    head, key, iv, ciphertext, tag = token.split(".")
    flipped = ciphertext[:-2] + ("A" if ciphertext[-2] != "A" else "B") + ciphertext[-1]
    wrong_key = encrypt_to(merchant.registration.credentials_public_key_pem, b"{}")
    plaintext = json.dumps({"buyerInformation": {"merchantCustomerID": "x"}}).encode()
    certificate = services.server_keys.request_mle()[1]
    return {
        "garbage": "garbage",
        "number": 42,
        "null": None,
        "object": {"jwe": token},
        "four-segments": ".".join([head, key, iv, ciphertext]),
        "tampered": ".".join([head, key, iv, flipped, tag]),
        "wrong-key": wrong_key,
        # Issue 9, point 1: the compact form only, strictly; each of these
        # opened on fc518c7.
        "json-flattened": _jwe(certificate, plaintext).serialize(compact=False),
        "json-general": _general_json(_jwe(certificate, plaintext)),
        "padded": ".".join([head, key, iv + "=", ciphertext, tag]),
        "rsa-oaep-sha1": _jwe(certificate, plaintext, alg="RSA-OAEP").serialize(compact=True),
        "a128gcm": _jwe(certificate, plaintext, enc="A128GCM").serialize(compact=True),
        "deflated": _jwe(certificate, plaintext, zip="DEF").serialize(compact=True),
    }


def _jwe(certificate: x509.Certificate, plaintext: bytes, **header: str) -> JWE:
    protected = {"alg": "RSA-OAEP-256", "enc": "A256GCM", **header}
    pem = certificate.public_bytes(serialization.Encoding.PEM)
    return JWE(plaintext, recipient=JWK.from_pem(pem), protected=json.dumps(protected))


def _general_json(token: JWE) -> str:
    flattened = json.loads(token.serialize(compact=False))
    recipient = {"encrypted_key": flattened.pop("encrypted_key")}
    return json.dumps({**flattened, "recipients": [recipient]})


GARBAGE = [
    "garbage",
    "number",
    "null",
    "object",
    "four-segments",
    "tampered",
    "wrong-key",
    "json-flattened",
    "json-general",
    "padded",
    "rsa-oaep-sha1",
    "a128gcm",
    "deflated",
]


@pytest.mark.parametrize("name", named(*GARBAGE))
def test_a_bad_encrypted_request_is_400(
    client: httpx.Client, services: Services, merchant: Merchant, name: str
) -> None:
    value = _garbage(services, merchant)[name]
    response = client.post(CUSTOMERS, json={"encryptedRequest": value})
    assert_error(response, 400, "invalidFields", field="encryptedRequest")


def test_an_encrypted_body_that_is_not_a_json_object_is_400(
    client: httpx.Client, services: Services
) -> None:
    certificate = services.server_keys.request_mle()[1]
    for plaintext in (b"not json", b"[1, 2]"):
        body = {"encryptedRequest": encrypt_to(certificate, plaintext)}
        assert_error(client.post(CUSTOMERS, json=body), 400, "invalidFields", field="body")
