"""A JWT is single-use: the same signed request sent twice is refused."""

from __future__ import annotations

import httpx
import pytest
from starlette.applications import Starlette

from opentms.client import ASGIAppTransport
from tests.support import Merchant


@pytest.mark.parametrize(
    "mode", [pytest.param("jwt", id="rs256"), pytest.param("hs256", id="hs256")]
)
def test_a_replayed_jwt_is_refused(app: Starlette, merchant: Merchant, mode: str) -> None:
    with httpx.Client(transport=ASGIAppTransport(app), base_url="http://testserver") as client:
        request = client.build_request("POST", "/tms/v2/customers", json={})
        signed = next(merchant.auth(mode).auth_flow(request))
        first = client.send(signed)
        assert first.status_code == 201
        again = client.send(
            client.build_request(
                "POST",
                "/tms/v2/customers",
                json={},
                headers={"authorization": signed.headers["authorization"]},
            )
        )
        assert again.status_code == 401
        assert again.json()["errors"][0]["reason"] == "replayed_token"
        # A fresh JWT for the same request is accepted.
        assert (
            client.post("/tms/v2/customers", json={}, auth=merchant.auth(mode)).status_code == 201
        )


def test_http_signature_requests_may_repeat_within_the_date_window(
    app: Starlette, merchant: Merchant
) -> None:
    """HTTP Signature covers the Date to the second only: two identical GETs in
    one second carry the same signature, so repeats are not refused (the Date
    window bounds them); see docs/security.md."""
    with httpx.Client(transport=ASGIAppTransport(app), base_url="http://testserver") as client:
        created = client.post("/tms/v2/customers", json={}, auth=merchant.auth("signature"))
        path = f"/tms/v2/customers/{created.json()['id']}"
        signed = next(merchant.auth("signature").auth_flow(client.build_request("GET", path)))
        assert client.send(signed).status_code == 200
        assert client.send(signed).status_code == 200
