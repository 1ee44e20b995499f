from __future__ import annotations

import httpx

from tests.support import make_pan


def test_instrument_identifier_round_trip(any_client: httpx.Client) -> None:
    pan = make_pan()
    created = any_client.post("/tms/v1/instrumentidentifiers", json={"card": {"number": pan}})
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["card"]["number"] == pan[:6] + "XXXXXX" + pan[-4:]
    fetched = any_client.get(f"/tms/v1/instrumentidentifiers/{body['id']}")
    assert fetched.status_code == 200
    assert fetched.json()["id"] == body["id"]
    assert fetched.headers["etag"] == '"1"'
