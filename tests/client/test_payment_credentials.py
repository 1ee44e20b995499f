"""Payment credentials through ``client.tokens`` and ``TokenApi`` in every
client variant: the JWE (v2, v3), and decrypted with each form of key."""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import load_pem_private_key

from opentms.client import (
    AmountDetails,
    AsyncClient,
    AsyncTokenApi,
    Client,
    CredentialDecryptionFailed,
    NotFound,
    OrderInformation,
    PaymentCredentials,
    PaymentCredentialsRequest,
    TokenApi,
    decrypt_payment_credentials,
)
from tests.client.conftest import Blocking
from tests.client.factories import make_customer_with_card, make_instrument_identifier
from tests.support import Merchant, make_pan

CRYPTOGRAM = PaymentCredentialsRequest(
    payment_credential_type="CRYPTOGRAM",
    order_information=OrderInformation(
        amount_details=AmountDetails(total_amount="10.00", currency="USD")
    ),
)


def token_api(client: Client) -> TokenApi:
    """``TokenApi`` over the client, or ``AsyncTokenApi`` for an async one."""
    if isinstance(client, Blocking):
        target = client._target
        assert isinstance(target, AsyncClient)
        return Blocking(AsyncTokenApi(target))  # type: ignore[return-value]
    return TokenApi(client)


def is_compact_jwe(value: str) -> bool:
    return value.count(".") == 4 and value.startswith("eyJ")


def test_post_token_payment_credentials_returns_the_jwe(tms: Client, merchant: Merchant) -> None:
    customer, _ = make_customer_with_card(tms)
    jwe = token_api(tms).post_token_payment_credentials(customer.id, CRYPTOGRAM)
    assert is_compact_jwe(jwe)
    key = merchant.registration.credentials_private_key_pem
    assert key is not None
    credentials = decrypt_payment_credentials(jwe, key)
    card = credentials.tokenized_card
    assert card is not None
    assert card.number is not None
    assert card.number.startswith("489537")
    assert card.cryptogram
    assert card.eci == "07"
    assert credentials.links is not None
    assert credentials.links["self"].href == f"/tms/v2/tokens/{customer.id}/payment-credentials"


def test_the_request_may_be_a_wire_dict_and_the_profile_explicit(
    tms: Client, merchant: Merchant
) -> None:
    customer, _ = make_customer_with_card(tms)
    api = token_api(tms)
    request = {"paymentCredentialType": "NETWORK_TOKEN"}
    jwe = api.post_token_payment_credentials(
        customer.id, request, merchant.registration.default_profile_id
    )
    v3 = api.post_token_payment_credentials_v3(customer.id, request)
    assert is_compact_jwe(jwe)
    assert is_compact_jwe(v3)
    decrypted = api.decrypted_payment_credentials(customer.id, request, version=2)
    assert decrypted.tokenized_card is not None
    assert decrypted.tokenized_card.cryptogram is None


def test_decrypted_credentials_with_each_form_of_key(
    tms: Client, merchant: Merchant, tmp_path: Path
) -> None:
    pem = merchant.registration.credentials_private_key_pem
    assert pem is not None
    key_file = tmp_path / "key.pem"
    key_file.write_bytes(pem)
    key = load_pem_private_key(pem, None)
    assert isinstance(key, rsa.RSAPrivateKey)
    ii = make_instrument_identifier(tms)
    for private_key in (None, pem, pem.decode(), key_file, str(key_file), key):
        credentials = tms.tokens.decrypted_payment_credentials(ii.id, private_key=private_key)
        assert isinstance(credentials, PaymentCredentials)
        assert credentials.tokenized_card is not None
        assert credentials.tokenized_card.eci == "07"
        assert credentials.processing_information is not None
        assert credentials.processing_information.commerce_indicator == "internet"


def test_v2_and_v3_without_a_network_token(tms: Client) -> None:
    # A JCB card is not tokenised: v2 has nothing to answer, v3 the card itself.
    pan = make_pan("3528000", 16)
    ii = make_instrument_identifier(tms, pan)
    with pytest.raises(NotFound):
        tms.tokens.payment_credentials(ii.id)
    assert is_compact_jwe(tms.tokens.payment_credentials_v3(ii.id))
    credentials = tms.tokens.decrypted_payment_credentials(ii.id)
    assert credentials.tokenized_card is None
    assert credentials.card is not None
    assert credentials.card.number == pan


def test_a_wrong_key_fails_to_decrypt(tms: Client) -> None:
    other_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    ii = make_instrument_identifier(tms)
    with pytest.raises(CredentialDecryptionFailed):
        tms.tokens.decrypted_payment_credentials(ii.id, private_key=other_key)
    with pytest.raises(CredentialDecryptionFailed):
        decrypt_payment_credentials("not.a.jwe.at.all", other_key)


def test_secrets_of_decrypted_credentials_stay_out_of_repr(tms: Client) -> None:
    ii = make_instrument_identifier(tms, make_pan())
    credentials = tms.tokens.decrypted_payment_credentials(ii.id, CRYPTOGRAM)
    card = credentials.tokenized_card
    assert card is not None
    assert card.number is not None
    assert card.cryptogram is not None
    text = repr(credentials) + str(credentials)
    assert card.number not in text
    assert card.cryptogram not in text
    assert card.masked_number is not None
    assert card.masked_number[-4:] == card.number[-4:]


def test_without_a_key_the_helper_says_what_to_give(app: object, merchant: Merchant) -> None:
    client = Client("http://testserver", auth=merchant.auth("signature"))
    with pytest.raises(ValueError, match="private_key"):
        client.tokens.decrypted_payment_credentials("7010000000000000001")
