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
