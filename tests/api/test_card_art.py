"""GET /tms/v2/tokens/{instrumentIdentifierId}/{tokenProvider}/assets/{assetType}
(tms-api.md §2.6 endpoint 29, §3.5.5)."""

from __future__ import annotations

import httpx
import pytest
from starlette.applications import Starlette

from opentms.adapters.networks.simulated import MAGIC_FAILURES
from opentms.bootstrap import Services
from tests.api.envelopes import assert_error
from tests.api.factories import JSON, json_of
from tests.api.tokens_support import (
    ASSET_KEYS,
    ASSET_TYPES,
    NETWORKS,
    VISA,
    Network,
    asset_path,
    b64decode,
    create_ii,
    create_tokenized_card,
    named,
    network_params,
    new_merchant,
    read_png,
    signed_client,
    token_id_of,
)
from tests.support import Merchant

PROVIDERS = [
    pytest.param(network, alias, id=f"{network.type}-{alias}")
    for network in NETWORKS
    for alias in (*network.aliases, network.aliases[0].upper())
]


@pytest.fixture(scope="module")
def cards(app: Starlette, merchant: Merchant) -> dict[str, JSON]:
    """One stored card per network (instrument identifiers with their token)."""
    with signed_client(app, merchant) as c:
        return {network.type: create_ii(c, network.new_pan()) for network in NETWORKS}


def assert_asset(response: httpx.Response, token: JSON, network: Network, asset_type: str) -> None:
    body = json_of(response, 200)
    art = token["metadata"]["cardArt"]
    content = body.pop("content")
    assert body == {
        "id": art[ASSET_KEYS[asset_type]]["id"],
        "type": asset_type,
        "provider": network.provider,
    }
    assert len(content) == 1
    image = content[0]
    assert set(image) == {"type", "data", "width", "height"}
    assert image["type"] == "image/png"
    png = read_png(b64decode(image["data"]))
    assert (png.width, png.height) == (image["width"], image["height"])
    assert png.first_pixel == bytes.fromhex(art["backgroundColor"])


@pytest.mark.parametrize("asset_type", named(*ASSET_TYPES))
@pytest.mark.parametrize(("network", "provider"), PROVIDERS)
def test_every_asset_of_every_provider_is_a_png(
    client: httpx.Client, cards: dict[str, JSON], network: Network, provider: str, asset_type: str
) -> None:
    ii = cards[network.type]
    response = client.get(asset_path(ii["id"], provider, asset_type))
    assert_asset(response, ii["tokenizedCard"], network, asset_type)


@pytest.mark.parametrize("network", network_params())
def test_the_links_in_the_token_lead_to_its_assets(
    client: httpx.Client, cards: dict[str, JSON], network: Network
) -> None:
    token = cards[network.type]["tokenizedCard"]
    for key in ("combinedAsset", "brandLogoAsset", "issuerLogoAsset", "iconAsset"):
        asset = token["metadata"]["cardArt"][key]
        body = json_of(client.get(asset["_links"]["self"]["href"]), 200)
        assert body["id"] == asset["id"]


@pytest.mark.parametrize("network", network_params())
def test_a_tokenized_card_without_an_identifier_serves_art_under_its_own_id(
    client: httpx.Client, network: Network
) -> None:
    token = create_tokenized_card(client, network.new_pan())
    href = token["metadata"]["cardArt"]["combinedAsset"]["_links"]["self"]["href"]
    assert href == asset_path(token["id"], network.provider, "card-art-combined")
    assert_asset(client.get(href), token, network, "card-art-combined")


def test_the_token_id_of_an_identifiers_token_serves_the_same_art(
    client: httpx.Client, cards: dict[str, JSON]
) -> None:
    ii = cards["visa"]
    by_ii = json_of(client.get(asset_path(ii["id"], "vts", "brand-logo")), 200)
    by_token = json_of(client.get(asset_path(token_id_of(ii), "vts", "brand-logo")), 200)
    assert by_token == by_ii


@pytest.mark.parametrize(
    ("network", "provider"),
    [
        pytest.param(network, wrong, id=f"{network.type}-{wrong}")
        for network in NETWORKS
        for wrong in ("vts", "mdes", "amex", "dts", "unknown")
        if wrong not in network.aliases
    ],
)
def test_the_wrong_provider_is_404(
    client: httpx.Client, cards: dict[str, JSON], network: Network, provider: str
) -> None:
    response = client.get(asset_path(cards[network.type]["id"], provider, "card-art-combined"))
    assert_error(response, 404, "notFound")


@pytest.mark.parametrize(
    "asset_type", named("card-art", "logo", "ICON-LOGO", "card-art-combined.png")
)
def test_an_unknown_asset_type_is_400(
    client: httpx.Client, cards: dict[str, JSON], asset_type: str
) -> None:
    response = client.get(asset_path(cards["visa"]["id"], "vts", asset_type))
    assert_error(response, 400, "invalidFields", field="assetType", location="path")


def test_an_unknown_identifier_is_404(client: httpx.Client) -> None:
    for owner in ("7030000000000000001", "0123456789ABCDEF0123456789ABCDEF"):
        assert_error(client.get(asset_path(owner, "vts", "icon-logo")), 404, "notFound")


def test_another_merchants_card_art_is_404(
    client: httpx.Client, other_client: httpx.Client
) -> None:
    theirs = create_ii(other_client, VISA.new_pan())
    for owner in (theirs["id"], token_id_of(theirs)):
        assert_error(client.get(asset_path(owner, "vts", "icon-logo")), 404, "notFound")
        assert other_client.get(asset_path(owner, "vts", "icon-logo")).status_code == 200


def test_a_card_without_a_token_has_no_art(
    client: httpx.Client, services: Services, merchant: Merchant
) -> None:
    plain = services.merchants.add_profile(merchant.id, "art without tokens", False).id
    ii = create_ii(client, VISA.new_pan(), profile_id=plain)
    assert_error(client.get(asset_path(ii["id"], "vts", "icon-logo")), 404, "notFound")


def test_an_unprovisioned_token_has_no_art(app: Starlette, services: Services) -> None:
    magic = next(pan for pan in MAGIC_FAILURES if pan.startswith("4"))
    with signed_client(app, new_merchant(services, "art")) as c:
        ii = create_ii(c, magic)
        assert ii["tokenizedCard"]["state"] == "UNPROVISIONED"
        assert_error(c.get(asset_path(ii["id"], "vts", "icon-logo")), 404, "notFound")
