"""The request journal (docs/sandbox.md, "Request journal"): an entry per TMS
request, read through the admin API; why a request was refused and what the
server signed; filters and paging; the bound; and a scan that proves it never
holds a card number, a security code, a cryptogram or a secret."""

from __future__ import annotations

import base64
import hashlib
import json
import re
from collections.abc import Generator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from sqlalchemy import create_engine, select
from starlette.applications import Starlette

from opentms.adapters.http.app import create_app
from opentms.adapters.storage.sandbox_journal import SQLJournalStore
from opentms.adapters.storage.tables import sandbox_journal
from opentms.bootstrap import Database, Services, build_services
from opentms.client import ASGIAppTransport, HTTPSignatureAuth, JWTAuth
from opentms.services.sandbox.journal import (
    CARD_NUMBER_FIELDS,
    JWE_FIELDS,
    MASKED,
    MASKED_FIELDS,
    MAX_BODY_CHARS,
    SECRET_FIELDS,
    RequestJournal,
    mask_body,
    mask_json,
)
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
from tests.conformance.test_python_sdk import python_sdk, run_sdk_python
from tests.conftest import client_for, make_settings
from tests.sandbox.served import serve
from tests.support import Merchant, backend_database_url, make_pan

JSON = dict[str, Any]
EXPIRY_FIELDS = {"expirationMonth": "12", "expirationYear": "2031"}

__all__ = ["python_sdk"]  # the fixture, used by name


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


def test_a_path_with_a_nul_character_is_recorded(
    admin_client: httpx.Client, sandbox_client: httpx.Client
) -> None:
    assert sandbox_client.get(f"{CUSTOMERS}/a%00b").status_code == 404
    assert only_entry(admin_client)["path"] == f"{CUSTOMERS}/a\ufffdb"


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
        ("since=0001-01-01T00:00:00%2B01:00", "since"),
        ("until=9999-12-31T23:59:59-01:00", "until"),
        ("path=a%00b", "path"),
        ("path=" + "x" * 1025, "path"),
        ("merchantId=m%0A", "merchantId"),
        ("merchantId=" + "m" * 65, "merchantId"),
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
    # A wrong HTTP signature and a wrong JWT over a card: their signed strings
    # hold the body's digest, which must not be recorded (with the masked
    # body, it would give the hidden digits back).
    carded = json.dumps({"card": {"number": pans[3], "securityCode": codes[0]}}).encode()
    digests = [base64.b64encode(hashlib.sha256(carded).digest()).decode()]
    wrong_secret = base64.b64encode(b"not this merchant's secret").decode()
    other_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    registration = merchant.registration
    for auth in (
        HTTPSignatureAuth(merchant.id, registration.key_id, wrong_secret),
        JWTAuth(merchant.id, registration.jwt_kid, private_key=other_key),
    ):
        with httpx.Client(
            transport=ASGIAppTransport(sandbox_app), base_url="http://t", auth=auth
        ) as forger:
            headers = {"content-type": "application/json"}
            assert forger.post(II, content=carded, headers=headers).status_code == 401

    texts = _journal_texts(admin_client, sandbox_database, merchant.id)
    assert len(entries(admin_client)) == 18
    reasons = [e["authentication"]["reason"] for e in entries(admin_client)[:2]]
    assert reasons == ["bad_signature", "bad_signature"]
    assert any(pans[0][:6] + "XXXXXX" + pans[0][-4:] in text for text in texts)
    _assert_absent(
        texts,
        pans=pans,
        codes=codes,
        exact=[cryptogram, secret, quote(secret, safe=""), admin_token, *digests],
    )
    for text in texts:
        assert not re.search(r"SHA-256=[A-Za-z0-9+/]{8}", text)
    # What the client sent encrypted is neither recorded nor opened.
    assert any('"encryptedRequest":"[JWE: not recorded]"' in text for text in texts)
    assert any('"encryptedResponse":"[JWE: not recorded]"' in text for text in texts)
    assert any('"[JWE: not recorded]"' in text for text in texts)  # payment credentials


# The masking function, over arbitrary JSON --------------------------------------------

_CARDS = [make_pan("411111"), make_pan("555555"), make_pan("378282", 15), make_pan("62", 19)]
_SECRETS = ["s3cr3t-Zq8NfJ2kLm", "tok_9aPqR7vXw2yB", "KZ0p1ElJ+8rT/wq=="]
_NAMED_KEYS = sorted(CARD_NUMBER_FIELDS | MASKED_FIELDS | SECRET_FIELDS | JWE_FIELDS)
_letters = st.text(alphabet="abcXYZ _-:/", max_size=8)
_cards = st.sampled_from(_CARDS)
_leaves = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=12),
    _cards,
    _cards.map(int),
    st.builds(lambda a, card, b: a + card + b, _letters, _cards, _letters),
    st.builds(lambda card: " ".join(card[i : i + 4] for i in range(0, len(card), 4)), _cards),
)
_keys = st.one_of(st.text(max_size=10), st.sampled_from(_NAMED_KEYS), st.sampled_from(["Number"]))


def _json_values(leaves: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.recursive(
        leaves,
        lambda children: (
            st.lists(children, max_size=4) | st.dictionaries(_keys, children, max_size=4)
        ),
        max_leaves=25,
    )


def _with_secrets() -> st.SearchStrategy[Any]:
    """JSON whose secret fields hold one of _SECRETS (and JWE fields any value)."""
    secret_field = st.builds(
        lambda key, value: {key: value},
        st.sampled_from(sorted(SECRET_FIELDS | JWE_FIELDS)),
        st.sampled_from(_SECRETS) | _json_values(st.sampled_from(_SECRETS)),
    )
    return _json_values(st.one_of(_leaves, secret_field))


def _named_values(value: Any, names: frozenset[str]) -> Iterator[Any]:
    if isinstance(value, dict):
        for key, item in value.items():
            if str(key).lower() in names:
                yield item
            yield from _named_values(item, names)
    elif isinstance(value, list):
        for item in value:
            yield from _named_values(item, names)


@settings(max_examples=400, deadline=None)
@given(_with_secrets())
def test_masking_leaves_no_card_number_or_secret(value: Any) -> None:
    masked = mask_json(value)
    text = json.dumps(masked, ensure_ascii=False)
    compact = _SEPARATORS.sub("", text)
    for card in _CARDS:
        assert card not in compact
    for secret in _SECRETS:
        assert secret not in text
    for item in _named_values(masked, MASKED_FIELDS):
        assert item in (MASKED, None) or isinstance(item, dict | list)
    # Masking twice changes nothing more: what is recorded is stable.
    assert mask_json(masked) == masked


@settings(max_examples=300, deadline=None)
@given(_json_values(st.text(alphabet="abcdefXYZ _-.:", max_size=10)))
def test_masking_keeps_what_holds_nothing_to_mask(value: Any) -> None:
    """Without digits or named fields, the masked value is the value."""
    assume(not any(True for _ in _named_values(value, frozenset(_NAMED_KEYS))))
    assume("eyJ" not in json.dumps(value))
    assert mask_json(value) == value


@settings(max_examples=300, deadline=None)
@given(_with_secrets(), st.sampled_from(["application/json", "text/plain", None]))
def test_a_body_is_recorded_as_json_without_card_data(value: Any, content_type: str | None) -> None:
    recorded = mask_body(json.dumps(value).encode(), content_type)
    if recorded is None:
        return
    assert json.loads(recorded) == mask_json(value)
    for card in _CARDS:
        assert card not in _SEPARATORS.sub("", recorded)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=300), st.sampled_from(["application/json", "image/png", None]))
def test_any_body_is_recorded_as_a_json_text(raw: bytes, content_type: str | None) -> None:
    recorded = mask_body(raw, content_type)
    if not raw:
        assert recorded is None
    else:
        assert recorded is not None
        json.loads(recorded)  # Always a JSON text, whatever was sent.


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.one_of(
            _letters,
            _cards,
            st.builds(lambda n, c: f'"{n}":"{c}"', st.sampled_from(_NAMED_KEYS), _letters),
            st.builds(lambda n, c: f"{n}={c}", st.sampled_from(_NAMED_KEYS), _letters),
        ),
        max_size=8,
    ).map("&".join)
)
def test_text_that_is_not_json_is_masked_by_name_and_digits(text: str) -> None:
    recorded = mask_body(text.encode() + b"{", "text/plain")
    assert recorded is not None
    shown = json.loads(recorded)
    for card in _CARDS:
        assert card not in _SEPARATORS.sub("", shown)
    for match in re.finditer(r'(?i)"?([a-z0-9]+)"?\s*[:=]\s*"?([^"&]*)', shown):
        if match.group(1).lower() in _NAMED_KEYS and match.group(2):
            assert match.group(2).startswith(("[masked]", "[secret", "[JWE")), shown


@pytest.mark.parametrize("depth", [100, 400, 900, 5000])
def test_deeply_nested_json_is_recorded_masked(depth: int) -> None:
    card = _CARDS[1]
    raw = ('{"a":' * depth + f'"{card}"' + "}" * depth).encode()
    recorded = mask_body(raw, "application/json")
    assert recorded is not None
    assert card not in recorded
    if len(raw) < MAX_BODY_CHARS:
        assert card[:6] + "XXXXXX" + card[-4:] in recorded
    else:
        assert json.loads(recorded).endswith("…[truncated]")


def test_long_text_is_cut_after_masking() -> None:
    """A card number across the cut is masked whole first: what is left of it
    is its first six digits, never eight."""
    card = _CARDS[0]
    text = "x" * (MAX_BODY_CHARS - 8) + card + "y" * 100_000
    recorded = mask_body(text.encode(), "text/plain")
    assert recorded is not None
    shown = json.loads(recorded)
    assert shown == "x" * (MAX_BODY_CHARS - 8) + card[:6] + "XX" + "…[truncated]"


# Shared by the server's processes ---------------------------------------------------


@pytest.fixture
def worker_database_url() -> Iterator[str | None]:
    """None (SQLite in the data directory), or a fresh PostgreSQL schema of its own."""
    with backend_database_url("opentms_journal") as url:
        yield url


@pytest.fixture
def two_workers(
    tmp_path: Path, worker_database_url: str | None
) -> Iterator[tuple[str, str, Merchant]]:
    """A real ``opentms serve --workers 2``, its admin token and a merchant
    registered before it started."""
    data_dir = tmp_path / "data"
    settings = make_settings(data_dir, database_url=worker_database_url)
    services = build_services(settings)
    merchant = Merchant(services.merchants.register("journal_workers"))
    assert services.sandbox is not None
    admin_token = services.sandbox.admin_token
    services.close()
    with serve(tmp_path, workers=2, database_url=worker_database_url) as server:
        yield server.url, admin_token, merchant


def test_every_worker_writes_to_the_one_journal(two_workers: tuple[str, str, Merchant]) -> None:
    url, admin_token, merchant = two_workers
    admin_headers = {"authorization": f"Bearer {admin_token}", "connection": "close"}
    sent: list[str] = []
    for index in range(12):
        correlation = f"workers-{index}"
        # A new connection each time: either worker may take the request,
        # and either may answer the admin API right after.
        with httpx.Client(base_url=url, auth=merchant.signature_auth()) as client:
            response = client.post(
                CUSTOMERS,
                json={"buyerInformation": {"merchantCustomerID": correlation}},
                headers={"v-c-correlation-id": correlation, "connection": "close"},
            )
        assert response.status_code == 201
        sent.append(correlation)
        found = httpx.get(
            f"{url}/opentms/v1/sandbox/journal", params={"limit": 1}, headers=admin_headers
        )
        # Written before the answer's last byte left: already there.
        assert found.json()["entries"][0]["correlationId"] == correlation
    listing = httpx.get(
        f"{url}/opentms/v1/sandbox/journal", params={"limit": 100}, headers=admin_headers
    ).json()
    assert listing["total"] == 12
    assert [entry["correlationId"] for entry in listing["entries"]] == sent[::-1]
    assert {entry["merchantId"] for entry in listing["entries"]} == {merchant.id}


def test_a_vault_has_no_journal(tmp_path: Path) -> None:
    services = build_services(make_settings(tmp_path / "vault", mode="vault"))
    try:
        assert services.sandbox is None
        with httpx.Client(
            transport=ASGIAppTransport(create_app(services)),
            base_url="http://testserver",
            headers={"authorization": "Bearer anything"},
        ) as client:
            assert client.get("/opentms/v1/sandbox/journal").status_code == 404
            assert client.get("/opentms/v1/sandbox/journal/1").status_code == 404
            assert client.delete("/opentms/v1/sandbox/journal").status_code == 404
    finally:
        services.close()


# The official Python SDK --------------------------------------------------------------

_SDK_SCRIPT = """
import json, sys
from CyberSource import InstrumentIdentifierApi
from CyberSource.rest import ApiException

url, merchant_id, key_id, secret, pan = sys.argv[1:6]
config = {
    "merchantid": merchant_id,
    "run_environment": url.split("://", 1)[1],
    "IntermediateHost": url,
    "authentication_type": "http_signature",
    "merchant_keyid": key_id,
    "merchant_secretkey": secret,
}
body = json.dumps({"card": {"number": pan, "expirationMonth": "12", "expirationYear": "2031"}})
try:
    _, status, _ = InstrumentIdentifierApi(config).post_instrument_identifier_with_http_info(body)
except ApiException as exc:
    status = exc.status
print(status)
"""


def _sdk_post(python: Path, url: str, merchant: Merchant, secret: str, pan: str, cwd: Path) -> int:
    registration = merchant.registration
    arguments = [url, merchant.id, registration.key_id, secret, pan]
    done = run_sdk_python(
        python, "-W", "ignore", "-c", _SDK_SCRIPT, *arguments, cwd=cwd, timeout=120
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return int(done.stdout.strip().splitlines()[-1])


@pytest.mark.conformance
def test_the_journal_shows_why_the_official_sdk_was_refused(
    two_workers: tuple[str, str, Merchant], python_sdk: Path, tmp_path: Path
) -> None:
    url, admin_token, merchant = two_workers
    admin = {"authorization": f"Bearer {admin_token}"}
    pan = make_pan("411111")
    wrong_secret = base64.b64encode(b"a secret the server does not know").decode()
    assert _sdk_post(python_sdk, url, merchant, wrong_secret, pan, tmp_path) == 401
    secret = merchant.registration.shared_secret
    assert _sdk_post(python_sdk, url, merchant, secret, pan, tmp_path) == 201
    listing = httpx.get(f"{url}/opentms/v1/sandbox/journal", headers=admin)
    assert pan not in listing.text
    accepted, refused = listing.json()["entries"]
    assert refused["authentication"]["verdict"] == "refused"
    assert refused["authentication"]["reason"] == "bad_signature"
    assert refused["merchantId"] is None
    signed = refused["authentication"]["signedString"].split("\n")
    assert f"v-c-merchant-id: {merchant.id}" in signed
    assert "request-target: post /tms/v1/instrumentidentifiers" in signed
    assert refused["requestBody"]["card"]["number"] == pan[:6] + "XXXXXX" + pan[-4:]
    assert accepted["authentication"]["verdict"] == "authenticated"
    assert accepted["merchantId"] == merchant.id
    assert accepted["status"] == 201
