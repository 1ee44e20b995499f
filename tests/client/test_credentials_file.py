"""``Client.from_credentials_file`` with the bundle ``opentms merchants create``
writes (``opentms.cli.bundle.write_bundle``), in every auth mode."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, cast

import httpx
import pytest
from starlette.applications import Starlette

from opentms.bootstrap import Services
from opentms.cli.bundle import write_bundle
from opentms.client import ASGIAppTransport, AsyncClient, Client, JWTAuth
from opentms.client._bundle import AuthMode, CredentialsBundle
from tests.client.conftest import BASE_URL, Blocking
from tests.client.factories import make_customer_with_card
from tests.client.test_tokenize import tokenize_request
from tests.support import make_pan


@pytest.fixture(scope="module")
def bundle(services: Services, tmp_path_factory: pytest.TempPathFactory) -> Path:
    registration = services.merchants.register("bundle_merchant")
    return write_bundle(registration, tmp_path_factory.mktemp("bundle"))


def open_client(bundle: Path, app: Starlette, variant: str, **options: Any) -> Client:
    kind, mode = variant.split("-")
    auth = cast(AuthMode, mode)
    if kind == "sync":
        transport = ASGIAppTransport(app)
        return Client.from_credentials_file(
            bundle, base_url=BASE_URL, auth=auth, transport=transport, **options
        )
    async_client = AsyncClient.from_credentials_file(
        bundle, base_url=BASE_URL, auth=auth, transport=httpx.ASGITransport(app=app), **options
    )
    return cast(Client, Blocking(async_client))


@pytest.mark.parametrize(
    "variant",
    ["sync-signature", "sync-jwt", "sync-hs256", "async-signature", "async-jwt", "async-hs256"],
)
def test_a_bundle_configures_everything(bundle: Path, app: Starlette, variant: str) -> None:
    document = json.loads(bundle.read_text())
    client = open_client(bundle, app, variant)
    assert client.profile_id == document["defaultProfileId"]
    customer, _ = make_customer_with_card(client)
    assert customer.metadata is not None
    assert customer.metadata.creator == "bundle_merchant"
    # The bundle's private key opens the credentials; no key argument needed.
    credentials = client.tokens.decrypted_payment_credentials(customer.id)
    assert credentials.tokenized_card is not None
    assert credentials.tokenized_card.eci == "07"
    # The P12's server certificate makes tokenize encrypted, and it works.
    assert client.tokens.tokenize(tokenize_request(make_pan())).id_of("customer")


def test_response_mle_from_the_bundle(bundle: Path, app: Starlette) -> None:
    client = open_client(bundle, app, "sync-jwt", response_mle=True)
    assert isinstance(client.auth, JWTAuth)
    assert (
        client.auth.response_mle_kid == json.loads(bundle.read_text())["paymentCredentials"]["kid"]
    )
    customer, _ = make_customer_with_card(client)
    assert client.customers.get(customer.id).id == customer.id


def test_a_bundle_without_p12_cannot_do_rs256(bundle: Path) -> None:
    document = json.loads(bundle.read_text())
    del document["jwt"]["p12File"]
    stripped = bundle.parent / "stripped.json"
    stripped.write_text(json.dumps(document))
    with pytest.raises(ValueError, match="P12"):
        Client.from_credentials_file(stripped, base_url=BASE_URL, auth="jwt")
    assert Client.from_credentials_file(stripped, base_url=BASE_URL, auth="hs256")


def test_bad_arguments_say_what_is_wrong(bundle: Path, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="auth must be"):
        Client.from_credentials_file(bundle, base_url=BASE_URL, auth="oauth")  # type: ignore[arg-type]
    not_a_bundle = tmp_path / "x.json"
    not_a_bundle.write_text("{}")
    with pytest.raises(ValueError, match="merchantId"):
        Client.from_credentials_file(not_a_bundle, base_url=BASE_URL)


def test_the_bundle_keeps_its_secrets_out_of_repr(bundle: Path) -> None:
    document = json.loads(bundle.read_text())
    loaded = CredentialsBundle.load(bundle)
    client = Client.from_credentials_file(bundle, base_url=BASE_URL, auth="hs256")
    for text in (repr(loaded), str(loaded), repr(client), repr(client.auth)):
        assert document["httpSignature"]["sharedSecret"] not in text
        assert document["jwt"]["p12Password"] not in text
    assert "bundle_merchant" in repr(loaded)


def copy_of(bundle: Path, directory: Path, *files: str) -> Path:
    """The bundle's JSON copied into ``directory`` with only ``files`` beside it."""
    directory.mkdir()
    for name in (bundle.name, *files):
        (directory / name).write_bytes((bundle.parent / name).read_bytes())
    return directory / bundle.name


@pytest.mark.parametrize("mode", ["signature", "hs256"])
def test_signature_modes_need_only_the_json(
    bundle: Path, app: Starlette, tmp_path: Path, mode: str
) -> None:
    alone = copy_of(bundle, tmp_path / "alone")
    client = open_client(alone, app, f"sync-{mode}")
    customer, _ = make_customer_with_card(client)
    assert client.customers.get(customer.id).id == customer.id
    # No P12, so no server certificate: tokenize goes unencrypted, as without one.
    assert client.tokens.tokenize(tokenize_request(make_pan())).id_of("customer")
    # The private key was not copied: opening credentials says which file is missing.
    key_name = "bundle_merchant-credentials-private.pem"
    with pytest.raises(FileNotFoundError, match=key_name) as caught:
        client.tokens.decrypted_payment_credentials(customer.id)
    assert "paymentCredentials.privateKeyFile" in str(caught.value)
    assert caught.value.filename == str(alone.parent / key_name)
    given = (bundle.parent / key_name).read_bytes()
    credentials = client.tokens.decrypted_payment_credentials(customer.id, private_key=given)
    assert credentials.tokenized_card is not None


@pytest.mark.parametrize("variant", ["sync-jwt", "async-jwt"])
def test_jwt_names_the_missing_p12(
    bundle: Path, app: Starlette, tmp_path: Path, variant: str
) -> None:
    alone = copy_of(bundle, tmp_path / "alone", "bundle_merchant-credentials-private.pem")
    with pytest.raises(FileNotFoundError) as caught:
        open_client(alone, app, variant)
    message = str(caught.value)
    assert "auth='jwt'" in message
    assert "bundle_merchant.p12" in message
    assert "jwt.p12File" in message
    assert caught.value.filename == str(alone.parent / "bundle_merchant.p12")


def test_options_that_need_a_missing_file_name_it(
    bundle: Path, app: Starlette, tmp_path: Path
) -> None:
    with_p12 = copy_of(bundle, tmp_path / "with-p12", "bundle_merchant.p12")
    with pytest.raises(FileNotFoundError, match=r"response_mle=True needs bundle_merchant-cred"):
        open_client(with_p12, app, "sync-jwt", response_mle=True)
    alone = copy_of(bundle, tmp_path / "alone")
    with pytest.raises(FileNotFoundError, match=r"request_mle=True .* needs bundle_merchant\.p12"):
        open_client(alone, app, "sync-signature", request_mle=True)
    # A key given as an argument stands in for the file that is not there.
    key = (bundle.parent / "bundle_merchant-credentials-private.pem").read_bytes()
    client = open_client(alone, app, "sync-hs256", credentials_private_key=key)
    customer, _ = make_customer_with_card(client)
    assert client.tokens.decrypted_payment_credentials(customer.id).tokenized_card is not None
