"""The request journal (docs/sandbox.md, "Request journal"): an entry per TMS
request, read through the admin API; why a request was refused and what the
server signed; filters and paging; the bound; and a scan that proves it never
holds a card number, a security code, a cryptogram or a secret."""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Generator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from sqlalchemy import create_engine, select
from starlette.applications import Starlette

from opentms.adapters.http.app import create_app
from opentms.adapters.storage.sandbox_journal import SQLJournalStore
from opentms.adapters.storage.tables import sandbox_journal
from opentms.bootstrap import Database, Services, build_services
from opentms.client import ASGIAppTransport, HTTPSignatureAuth, JWTAuth
from opentms.services.sandbox.journal import RequestJournal
from tests.api.factories import CUSTOMERS, II
from tests.api.tokens_support import (
    SIMULATIONS,
    VISA,
    create_ii,
    encrypt_to,
    issue,
    mle_client,
    new_merchant,
    presentation,
)
from tests.conftest import client_for, make_settings
from tests.support import Merchant, make_pan

JSON = dict[str, Any]
EXPIRY_FIELDS = {"expirationMonth": "12", "expirationYear": "2031"}


@pytest.fixture(autouse=True)
def empty_journal(admin_client: httpx.Client) -> None:
    assert admin_client.delete("/journal").status_code == 204


def entries(admin_client: httpx.Client, **query: str | int) -> list[JSON]:
    response = admin_client.get("/journal", params={"limit": 1000, **query})
    assert response.status_code == 200, response.text
    found: list[JSON] = response.json()["entries"]
    return found


def only_entry(admin_client: httpx.Client) -> JSON:
    found = entries(admin_client)
    assert len(found) == 1, found
    return found[0]


# An entry per request -----------------------------------------------------------


def test_an_entry_records_the_request_and_its_answer(
    admin_client: httpx.Client, sandbox_client: httpx.Client, sandbox_merchant: Merchant
) -> None:
    body = {"buyerInformation": {"merchantCustomerID": "journal-1", "email": "j@example.com"}}
    before = datetime.now(UTC)
    response = sandbox_client.post(
        CUSTOMERS, json=body, headers={"v-c-correlation-id": "journal-corr-1"}
    )
    assert response.status_code == 201
    entry = only_entry(admin_client)
    assert entry["merchantId"] == sandbox_merchant.id
    assert (entry["method"], entry["path"], entry["query"]) == ("POST", CUSTOMERS, "")
    assert entry["status"] == 201
    assert entry["durationMs"] > 0
    assert entry["correlationId"] == "journal-corr-1" == response.headers["v-c-correlation-id"]
    assert entry["authentication"] == {
        "verdict": "authenticated",
        "reason": None,
        "message": None,
        "signedString": None,
        "claimedMerchantId": None,
    }
    assert entry["requestBody"] == body
    assert entry["responseBody"] == response.json()
    at = datetime.fromisoformat(entry["at"])
    assert before - timedelta(seconds=1) <= at <= datetime.now(UTC)
    assert isinstance(entry["id"], int)


def test_a_generated_correlation_id_is_the_one_the_client_got(
    admin_client: httpx.Client, sandbox_client: httpx.Client
) -> None:
    response = sandbox_client.get(f"{CUSTOMERS}/0123456789ABCDEF0123456789ABCDEF")
    assert response.status_code == 404
    entry = only_entry(admin_client)
    assert entry["correlationId"] == response.headers["v-c-correlation-id"]
    assert entry["status"] == 404
    assert entry["requestBody"] is None
    assert entry["responseBody"] == response.json()


def test_the_query_string_is_recorded(
    admin_client: httpx.Client, sandbox_client: httpx.Client
) -> None:
    customer = sandbox_client.post(CUSTOMERS, json={}).json()
    path = f"{CUSTOMERS}/{customer['id']}/payment-instruments"
    assert sandbox_client.get(path, params={"offset": 0, "limit": 5}).status_code == 200
    assert entries(admin_client)[0]["query"] == "offset=0&limit=5"


def test_a_request_that_never_reached_authentication_has_no_verdict(
    admin_client: httpx.Client, sandbox_client: httpx.Client
) -> None:
    assert sandbox_client.get("/tms/v9/nothing-here").status_code == 404
    entry = only_entry(admin_client)
    assert entry["authentication"]["verdict"] == "none"
    assert entry["merchantId"] is None


def test_the_admin_api_and_health_are_not_recorded(
    admin_client: httpx.Client, sandbox_app: Starlette
) -> None:
    with httpx.Client(transport=ASGIAppTransport(sandbox_app), base_url="http://t") as plain:
        assert plain.get("/healthz").status_code == 200
        assert plain.get("/openapi.json").status_code == 200
    assert admin_client.get("/clock").status_code == 200
    assert entries(admin_client) == []


# Refused requests -----------------------------------------------------------------


def test_a_wrong_http_signature_shows_the_reason_and_the_signed_string(
    admin_client: httpx.Client, sandbox_app: Starlette, sandbox_merchant: Merchant
) -> None:
    registration = sandbox_merchant.registration
    wrong_secret = base64.b64encode(b"not the merchant's secret").decode()
    auth = HTTPSignatureAuth(registration.merchant_id, registration.key_id, wrong_secret)
    with httpx.Client(
        transport=ASGIAppTransport(sandbox_app), base_url="http://testserver", auth=auth
    ) as client:
        response = client.post(CUSTOMERS + "?x=1", json={"buyerInformation": {}})
    assert response.status_code == 401
    entry = only_entry(admin_client)
    assert entry["merchantId"] is None
    authentication = entry["authentication"]
    assert authentication["verdict"] == "refused"
    assert authentication["reason"] == "bad_signature"
    assert authentication["claimedMerchantId"] == sandbox_merchant.id
    assert "does not match" in authentication["message"]
    lines = authentication["signedString"].split("\n")
    assert "host: testserver" in lines
    assert f"v-c-merchant-id: {sandbox_merchant.id}" in lines
    assert f"request-target: post {CUSTOMERS}?x=1" in lines
    assert any(line.startswith("date: ") for line in lines)
    # The body's digest is left out: with the masked body it would give back
    # the hidden digits of a card number.
    assert "digest: [masked]" in lines
    assert entry["requestBody"] == {"buyerInformation": {}}
    assert entry["responseBody"]["errors"][0]["type"] == "authenticationFailed"


def test_a_jwt_with_a_wrong_signature_shows_what_was_checked(
    admin_client: httpx.Client, sandbox_app: Starlette, sandbox_merchant: Merchant
) -> None:
    registration = sandbox_merchant.registration
    other_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    auth = JWTAuth(registration.merchant_id, registration.jwt_kid, private_key=other_key)
    with httpx.Client(
        transport=ASGIAppTransport(sandbox_app), base_url="http://testserver", auth=auth
    ) as client:
        assert client.post(CUSTOMERS, json={}).status_code == 401
    authentication = only_entry(admin_client)["authentication"]
    assert authentication["reason"] == "bad_signature"
    header, claims = authentication["signedString"].split("\n")
    assert json.loads(header.removeprefix("header: "))["kid"] == registration.jwt_kid
    checked = json.loads(claims.removeprefix("claims: "))
    assert checked["request-resource-path"] == CUSTOMERS
    assert checked["digest"] == "[masked]"


def test_a_wrong_digest_is_recorded_with_its_reason(
    admin_client: httpx.Client, sandbox_app: Starlette, sandbox_merchant: Merchant
) -> None:
    class TamperingAuth(httpx.Auth):
        """Signs the request, then changes its body."""

        requires_request_body = True

        def auth_flow(
            self, request: httpx.Request
        ) -> Generator[httpx.Request, httpx.Response, None]:
            signed = next(sandbox_merchant.signature_auth().auth_flow(request))
            headers = {k: v for k, v in signed.headers.items() if k != "content-length"}
            yield httpx.Request(signed.method, signed.url, headers=headers, content=b'{"a":1}')

    with httpx.Client(
        transport=ASGIAppTransport(sandbox_app), base_url="http://testserver", auth=TamperingAuth()
    ) as client:
        assert client.post(CUSTOMERS, json={}).status_code == 401
    authentication = only_entry(admin_client)["authentication"]
    assert authentication["reason"] == "digest_mismatch"
    assert authentication["signedString"].startswith("host: testserver")


def test_a_refused_request_never_names_the_claimed_merchant_as_its_merchant(
    admin_client: httpx.Client, sandbox_client: httpx.Client, sandbox_merchant: Merchant
) -> None:
    response = sandbox_client.get(
        CUSTOMERS + "/x", headers={"v-c-merchant-id": "someone_else"}, auth=None
    )
    assert response.status_code == 401
    entry = only_entry(admin_client)
    assert entry["merchantId"] is None
    assert entry["authentication"]["reason"] == "missing_credentials"
    assert entry["authentication"]["claimedMerchantId"] == "someone_else"
    assert entries(admin_client, merchantId="someone_else") == []


# Filters, paging, one entry, clearing ----------------------------------------------


def _traffic(client: httpx.Client) -> None:
    """Six requests: 3 POST customers (201), 1 GET unknown customer (404),
    1 GET an unknown instrument identifier (404), 1 PATCH with a bad body (400)."""
    for index in range(3):
        body = {"buyerInformation": {"merchantCustomerID": f"f-{index}"}}
        assert client.post(CUSTOMERS, json=body).status_code == 201
    assert client.get(f"{CUSTOMERS}/0123456789ABCDEF0123456789ABCDEE").status_code == 404
    assert client.get(f"{II}/7030000000000000001").status_code == 404
    assert client.post(CUSTOMERS, content=b"{not json").status_code == 400


def test_filters(
    admin_client: httpx.Client,
    sandbox_client: httpx.Client,
    sandbox_app: Starlette,
    sandbox_services: Services,
    sandbox_merchant: Merchant,
) -> None:
    other = new_merchant(sandbox_services, "journal_other")
    _traffic(sandbox_client)
    with client_for(sandbox_app, other) as other_client:
        assert other_client.post(CUSTOMERS, json={}).status_code == 201
    assert len(entries(admin_client)) == 7
    assert len(entries(admin_client, merchantId=sandbox_merchant.id)) == 6
    assert [e["merchantId"] for e in entries(admin_client, merchantId=other.id)] == [other.id]
    assert len(entries(admin_client, method="POST")) == 5
    assert len(entries(admin_client, method="get")) == 2
    assert len(entries(admin_client, status=404)) == 2
    assert len(entries(admin_client, status=400)) == 1
    assert len(entries(admin_client, path="/tms/v2/customers")) == 5
    assert len(entries(admin_client, path="/tms/v2/customers/*")) == 1
    assert len(entries(admin_client, path="/TMS/*")) == 7
    assert len(entries(admin_client, path="/tms/v?/instrumentidentifiers/*")) == 1
    assert entries(admin_client, path="/tms/v2/customer_") == []  # _ is literal
    both = entries(admin_client, method="POST", status=201, merchantId=sandbox_merchant.id)
    assert len(both) == 3


def test_time_range(admin_client: httpx.Client, sandbox_client: httpx.Client) -> None:
    _traffic(sandbox_client)
    found = entries(admin_client)
    middle = found[3]["at"]
    newer = entries(admin_client, since=middle)
    older = entries(admin_client, until=middle)
    assert len(newer) + len(older) == 6
    assert all(e["at"] >= middle for e in newer)
    assert all(e["at"] < middle for e in older)
    future = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    assert entries(admin_client, since=future) == []
    assert len(entries(admin_client, until=future)) == 6


def test_paging_newest_first_with_the_total(
    admin_client: httpx.Client, sandbox_client: httpx.Client
) -> None:
    _traffic(sandbox_client)
    everything = entries(admin_client)
    ids = [e["id"] for e in everything]
    assert ids == sorted(ids, reverse=True)
    assert everything[0]["status"] == 400  # the last request made
    page = admin_client.get("/journal", params={"limit": 2, "offset": 2}).json()
    assert page["total"] == 6
    assert [e["id"] for e in page["entries"]] == ids[2:4]
    default = admin_client.get("/journal").json()
    assert len(default["entries"]) == 6
    assert admin_client.get("/journal", params={"offset": 6}).json() == {
        "entries": [],
        "total": 6,
    }
    filtered = admin_client.get("/journal", params={"status": 201, "limit": 1}).json()
    assert filtered["total"] == 3
    assert len(filtered["entries"]) == 1


def test_one_entry_by_its_id(admin_client: httpx.Client, sandbox_client: httpx.Client) -> None:
    _traffic(sandbox_client)
    listed = entries(admin_client)[2]
    response = admin_client.get(f"/journal/{listed['id']}")
    assert response.status_code == 200
    assert response.json() == listed


@pytest.mark.parametrize("entry_id", ["999999999", "0", "abc", "1e3", "-1", "9" * 40])
def test_an_unknown_entry_is_404(admin_client: httpx.Client, entry_id: str) -> None:
    response = admin_client.get(f"/journal/{entry_id}")
    assert response.status_code == 404
    assert response.json()["errors"][0]["type"] == "notFound"


def test_clear(admin_client: httpx.Client, sandbox_client: httpx.Client) -> None:
    _traffic(sandbox_client)
    assert admin_client.get("/journal").json()["total"] == 6
    response = admin_client.delete("/journal")
    assert response.status_code == 204
    assert admin_client.get("/journal").json() == {"entries": [], "total": 0}
    assert sandbox_client.post(CUSTOMERS, json={}).status_code == 201
    assert admin_client.get("/journal").json()["total"] == 1


def test_the_journal_needs_the_admin_token(
    admin_client: httpx.Client, sandbox_app: Starlette, sandbox_merchant: Merchant
) -> None:
    with client_for(sandbox_app, sandbox_merchant) as merchant_client:
        assert merchant_client.get("/opentms/v1/sandbox/journal").status_code == 401
        assert merchant_client.delete("/opentms/v1/sandbox/journal").status_code == 401
    assert entries(admin_client) == []


@pytest.mark.parametrize(
    ("query", "parameter"),
    [
        ("status=abc", "status"),
        ("status=700", "status"),
        ("status=", "status"),
        ("limit=0", "limit"),
        ("limit=1001", "limit"),
        ("offset=-1", "offset"),
        ("since=yesterday", "since"),
        ("until=2031-01-01T00:00:00", "until"),
        ("method=P0ST", "method"),
        ("method=", "method"),
        ("path=", "path"),
        ("merchantId=", "merchantId"),
        ("status=200&status=201", "status"),
        ("colour=blue", "colour"),
    ],
)
def test_a_bad_query_is_a_400_naming_the_parameter(
    admin_client: httpx.Client, query: str, parameter: str
) -> None:
    response = admin_client.get(f"/journal?{query}")
    assert response.status_code == 400, response.text
    error = response.json()["errors"][0]
    assert error["type"] == "invalidFields"
    assert {"name": parameter, "location": "query"} in error["details"]
    assert parameter in error["message"]


# The bound -------------------------------------------------------------------------


def _app_with_limit(database: Database, limit: int) -> Starlette:
    """Another app over the module's database, keeping ``limit`` entries."""
    settings = make_settings(
        database.settings.data_dir,
        database_url=database.settings.database_url,
        journal_limit=limit,
    )
    return create_app(build_services(settings, database=database))


def test_the_journal_keeps_the_newest_entries_up_to_its_limit(
    admin_client: httpx.Client, sandbox_database: Database, sandbox_merchant: Merchant
) -> None:
    app = _app_with_limit(sandbox_database, 3)
    with client_for(app, sandbox_merchant) as client:
        for index in range(5):
            body = {"buyerInformation": {"merchantCustomerID": f"bound-{index}"}}
            assert client.post(CUSTOMERS, json=body).status_code == 201
    kept = entries(admin_client)
    assert [e["requestBody"]["buyerInformation"]["merchantCustomerID"] for e in kept] == [
        "bound-4",
        "bound-3",
        "bound-2",
    ]
    with sandbox_database.engine.connect() as conn:
        assert len(conn.execute(select(sandbox_journal.c.id)).all()) == 3


def test_a_limit_of_zero_records_nothing(
    admin_client: httpx.Client, sandbox_database: Database, sandbox_merchant: Merchant
) -> None:
    app = _app_with_limit(sandbox_database, 0)
    with client_for(app, sandbox_merchant) as client:
        assert client.post(CUSTOMERS, json={}).status_code == 201
    assert entries(admin_client) == []


def test_a_failed_write_is_logged_and_the_request_goes_on(
    admin_client: httpx.Client,
    sandbox_services: Services,
    sandbox_client: httpx.Client,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    # A real database with no journal table: every write fails.
    engine = create_engine(f"sqlite:///{tmp_path / 'empty.db'}")
    sandbox = sandbox_services.sandbox
    assert sandbox is not None
    monkeypatch.setattr(sandbox, "journal", RequestJournal(SQLJournalStore(engine), 10))
    with caplog.at_level("WARNING", logger="opentms.sandbox"):
        response = sandbox_client.post(CUSTOMERS, json={})
    assert response.status_code == 201
    assert "an entry was not recorded (OperationalError)" in caplog.text
    engine.dispose()
    monkeypatch.undo()
    assert entries(admin_client) == []


# Card data and secrets never recorded -----------------------------------------------

_SEPARATORS = re.compile(r"[ .\-]")


def _journal_texts(admin_client: httpx.Client, database: Database, merchant_id: str) -> list[str]:
    """Every journal row of ``merchant_id`` as stored (raw, every column),
    and every answer of the admin API about the journal."""
    with database.engine.connect() as conn:
        rows = conn.execute(select(sandbox_journal)).all()
    texts = [" ".join(str(value) for value in row) for row in rows]
    listing = admin_client.get("/journal", params={"limit": 1000})
    texts.append(listing.text)
    for entry in listing.json()["entries"]:
        texts.append(admin_client.get(f"/journal/{entry['id']}").text)
    texts.append(admin_client.get("/journal", params={"merchantId": merchant_id}).text)
    return texts


def _assert_absent(
    texts: list[str], *, pans: list[str], codes: list[str], exact: list[str]
) -> None:
    for text in texts:
        joined = _SEPARATORS.sub("", text)
        for pan in pans:
            assert pan not in joined, f"card {pan[:6]}… in {text[:200]}"
        for run in re.findall(r"[0-9]{13,19}", joined):
            assert run not in pans
        for code in codes:
            assert not re.search(f"(?<![0-9A-Za-z]){code}(?![0-9A-Za-z])", text), code
        for value in exact:
            assert value not in text, value[:6]


def test_the_journal_never_holds_card_data_or_secrets(
    admin_client: httpx.Client,
    admin_token: str,
    sandbox_app: Starlette,
    sandbox_services: Services,
    sandbox_database: Database,
) -> None:
    merchant = new_merchant(sandbox_services, "journal_scan")
    secret = merchant.registration.shared_secret
    pans = [make_pan("411111"), make_pan("555555"), make_pan("378282", 15), make_pan("601111")]
    pans += [make_pan("400000", 19), make_pan("520000", 13)]
    spaced = " ".join(pans[5][i : i + 4] for i in range(0, 13, 4))
    codes = ["4821", "739"]
    certificate = sandbox_services.server_keys.request_mle()[1]
    sealed_card = json.dumps({"card": {"number": pans[3], **EXPIRY_FIELDS}}).encode()
    with client_for(sandbox_app, merchant) as client:
        card = {"number": pans[0], **EXPIRY_FIELDS, "securityCode": codes[0]}
        assert client.post(II, json={"card": card}).status_code == 201
        # Payment credentials: a cryptogram inside a JWE, then shown in clear
        # to the authorisation simulator.
        stored_pan = VISA.new_pan()
        pans.append(stored_pan)
        ii = create_ii(client, stored_pan)
        tokenized = issue(client, merchant, ii["id"])["tokenizedCard"]
        cryptogram, token_number = tokenized["cryptogram"], tokenized["number"]
        pans.append(token_number)
        assert client.post(SIMULATIONS, json=presentation(tokenized)).status_code == 200
        # JSON that does not parse, a form, a card in groups, a number.
        broken = f'{{"card":{{"number":"{pans[1]}","securityCode":"{codes[1]}",}}'
        assert client.post(CUSTOMERS, content=broken.encode()).status_code == 400
        form = f"number={pans[1]}&securityCode={codes[1]}&sharedSecret={secret}"
        client.post(
            CUSTOMERS,
            content=form.encode(),
            headers={"content-type": "application/x-www-form-urlencoded"},
        )
        client.post(CUSTOMERS, json={"buyerInformation": {"merchantCustomerID": spaced}})
        client.post(CUSTOMERS, json={"note": int(pans[2]), "card": {"cvv": codes[1]}})
        # The path, the query, the correlation id.
        client.get(f"{II}/{pans[2]}")
        client.get(
            CUSTOMERS + "/x",
            params={"number": pans[2], "securityCode": codes[0], "sharedSecret": secret},
        )
        client.post(CUSTOMERS, json={}, headers={"v-c-correlation-id": pans[4]})
        # Secrets in a body, under their names and not.
        client.post(
            CUSTOMERS,
            json={"sharedSecret": secret, "adminToken": admin_token, "note": admin_token},
        )
        # Request message-level encryption: the card is inside the JWE.
        encrypted = {"encryptedRequest": encrypt_to(certificate, sealed_card)}
        assert client.post(II, json=encrypted).status_code == 201
    # Response message-level encryption, a refused card, the admin token as a
    # bearer token, a card number as the claimed merchant.
    with mle_client(sandbox_app, merchant, merchant.registration.credentials_kid) as sealed:
        card = {"number": pans[5], **EXPIRY_FIELDS, "securityCode": codes[1]}
        assert sealed.post(II, json={"card": card}).status_code == 201
    with httpx.Client(transport=ASGIAppTransport(sandbox_app), base_url="http://t") as plain:
        bearer = {"authorization": f"Bearer {admin_token}"}
        assert plain.post(II, json={"card": {"number": pans[0]}}, headers=bearer).status_code == 401
    pretender = HTTPSignatureAuth(pans[4], merchant.registration.key_id, secret)
    with httpx.Client(
        transport=ASGIAppTransport(sandbox_app), base_url="http://t", auth=pretender
    ) as wrong:
        assert wrong.post(II, json={"card": {"number": pans[4]}}).status_code == 401

    texts = _journal_texts(admin_client, sandbox_database, merchant.id)
    assert len(entries(admin_client)) == 16
    assert any(pans[0][:6] + "XXXXXX" + pans[0][-4:] in text for text in texts)
    _assert_absent(
        texts,
        pans=pans,
        codes=codes,
        exact=[cryptogram, secret, quote(secret, safe=""), admin_token],
    )
    # What the client sent encrypted is neither recorded nor opened.
    assert any('"encryptedRequest":"[JWE: not recorded]"' in text for text in texts)
    assert any('"encryptedResponse":"[JWE: not recorded]"' in text for text in texts)
    assert any('"[JWE: not recorded]"' in text for text in texts)  # payment credentials
