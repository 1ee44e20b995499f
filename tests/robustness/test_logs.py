"""What requests can make a real ``opentms serve`` write to its log
(docs/security.md): no forged line, no control character, no card number in
any form (grouped, glued to letters, split by an invisible character), in the
text format and in the JSON one (OPENTMS_LOG_FORMAT=json); and what its access
line says of who sent a request: the merchant once authenticated, the reason
of a 401, never a merchant a refused request claimed nor a credential."""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from opentms.client import HTTPSignatureAuth
from tests.robustness.support import (
    CUSTOMERS,
    II,
    BundleMerchant,
    client,
    database,
    environment,
    raw_exchange,
    register_merchant,
    report,
    start_server,
    wire_request,
)

FORGED = "2026-01-01 00:00:00,000 INFO opentms.http FORGED"
PANS = ["4000056655665556", "5555555555554444", "378282246310005", "4111111111111111"]

# Percent-encoded request targets, each with a marker (probe<n>) found in its
# access line. Every one reaches opentms (a 401 or 404), and is logged.
HOSTILE = [
    f"a%0A{quote(FORGED)}",
    f"a%0D%0A{quote(FORGED)}",
    "a%00b",
    "a%1B%5B31mred",
    "a%7Fb",
    "a%C2%85b",  # NEL
    "a%E2%80%A8b%E2%80%A9c",  # line and paragraph separators
    "a%E2%80%AEb",  # right-to-left override
    "a%5Cx0ab",  # a literal backslash
    "a%FFb",  # not UTF-8
    "4000-0566-5566-5556",
    "4000%200566%205566%205556",
    "4000.0566.5566.5556",
    "x4000056655665556",
    "card4000056655665556end",
    "4000056655%0A665556",
    "4000056655%00665556",
    "%34%30%30%30%30%35%36%36%35%35%36%36%35%35%35%36",
    "5555%095555%0B5555%0C4444",
    "3782%E2%80%A8822463%E2%80%A810005",
    "x3782-822463-10005y",
    "4111111111111111%20404%200.5",
]
# Raw bytes in the request line: the HTTP parser may refuse them (400) or
# pass them on; either way the log stays clean.
RAW_TARGETS = [b"/a\x7fb", b"/a\tb", b"/4111\x7f1111\x7f1111\x7f1111"]

RECORD = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} [A-Z]+ [\w.]+ ")
# What a control character may not be, once the log is decoded.
UNSAFE = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u200e\u200f\u2028-\u202e\u2066-\u2069]")
# Escapes and separators, removed before looking for digits of a card number.
NOISE = re.compile(r"\\+x[0-9a-f]{2}|\\+u[0-9a-f]{4}|[ .\-\t]")


def send_hostile_requests(port: int) -> int:
    """Send every hostile request; how many reached opentms."""
    headers = {"Host": "x", "v-c-correlation-id": "4000-0566-5566-5556\x85"}
    for number, payload in enumerate(HOSTILE):
        response = raw_exchange(port, wire_request("GET", f"{II}/probe{number}/{payload}", headers))
        assert response.status in (401, 404), (payload, response)
    for target in RAW_TARGETS:
        request = b"GET %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n" % target
        assert raw_exchange(port, request).status in (400, 401, 404)
    return len(HOSTILE)


@pytest.fixture
def logged(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, bytes]]:
    """(log format, the server's log once every hostile request was answered
    and the server stopped)."""
    log_format: str = request.param
    with database(tmp_path) as settings:
        if log_format == "json":
            settings["log_format"] = "json"
        server = start_server(tmp_path / "server.log", environment(**settings))
        try:
            sent = send_hostile_requests(server.port)
        finally:
            server.stop()
        data = (tmp_path / "server.log").read_bytes()
        report(f"log injection ({log_format})", requests=sent + len(RAW_TARGETS))
        yield log_format, data


def assert_no_control_character(data: bytes) -> str:
    assert not re.search(rb"[\x00-\x09\x0b-\x1f\x7f]", data), data
    text = data.decode("utf-8")  # strict: whatever was sent, the log is UTF-8
    assert not UNSAFE.search(text), text
    return text


def assert_no_card_number(text: str) -> None:
    digits = NOISE.sub("", text)
    for pan in PANS:
        # More than the first six and last four: any 12 digits in a row.
        assert pan[:12] not in digits, pan
        assert pan[-12:] not in digits, pan
    # The requests were logged, masked.
    assert "400005XXXXXX5556" in digits
    assert "378282XXXXX0005" in digits


def application_lines(text: str) -> list[str]:
    """The log's lines but the one ``opentms serve`` prints (not a record)."""
    lines = text.splitlines()
    return [line for line in lines if not line.startswith("opentms serving on ")]


@pytest.mark.parametrize("logged", ["text"], indirect=True)
def test_text_log_has_one_clean_record_per_line(logged: tuple[str, bytes]) -> None:
    _, data = logged
    text = assert_no_control_character(data)
    lines = application_lines(text)
    for line in lines:
        assert RECORD.match(line), line
        assert not line.startswith(FORGED[:23]), line
    forged = [line for line in lines if "FORGED" in line]
    assert len(forged) == 2
    assert all(" opentms.http " in line and "\\x0a2026-01-01" in line for line in forged)
    probes = [line for line in lines if "/probe" in line]
    assert len(probes) == len(HOSTILE)
    assert_no_card_number(text)


@pytest.mark.parametrize("logged", ["json"], indirect=True)
def test_json_log_has_one_object_per_line(logged: tuple[str, bytes]) -> None:
    _, data = logged
    text = assert_no_control_character(data)
    entries = [json.loads(line) for line in application_lines(text)]
    assert entries
    values: list[str] = []
    for entry in entries:
        assert isinstance(entry, dict), entry
        assert {"ts", "level", "logger", "message"} <= entry.keys(), entry
        values += [value for value in entry.values() if isinstance(value, str)]
    for value in values:
        assert not UNSAFE.search(value), value
        assert "\n" not in value
    access = [entry for entry in entries if "/probe" in entry.get("path", "")]
    assert len(access) == len(HOSTILE)
    for entry in access:
        assert entry["logger"] == "opentms.http"
        assert entry["method"] == "GET"
        assert entry["status"] in (401, 404)
        assert isinstance(entry["duration_ms"], float)
        assert entry["client"].startswith("127.0.0.1:")
        assert entry["correlation_id"] == "4000-05XX-XXXX-5556\\x85"
    assert any(entry["path"].endswith("/a\\x0a" + FORGED) for entry in access)
    assert_no_card_number("\n".join(values))


# The access line names who made the request -------------------------------------------------------

# A merchant id (letters, digits, - and _) may look like a card number: it is masked as one.
CARD_LIKE_MERCHANT = "4111111111111111"
# A well-formed shared secret that is not the merchant's: the signature made with it fails.
WRONG_SECRET = base64.b64encode(b"not the merchant's secret, 32 B").decode()
# A refused request that writes "merchant=log_merchant" where the client may write.
FORGED_CORRELATION = "x merchant=log_merchant"
FORGED_PATH = CUSTOMERS + "/" + quote('a" merchant=log_merchant "')
# A text access line after its logger name: client, who, then what the client chose.
ACCESS_LINE = re.compile(r'opentms\.http (?P<client>\S+) (?P<who>\S+) "(?P<method>[A-Z]+) ')


@dataclass(frozen=True)
class AccessLog:
    """A real server's log once it answered the requests of :func:`identify`."""

    log_format: str
    text: str

    def line(self, correlation: str) -> str:
        """The text access line of the request sent with ``correlation`` (in
        the JSON format, its ``message``, which is the same)."""
        if self.log_format == "json":
            message: str = self.entry(correlation)["message"]
            return message
        found = [line for line in self.text.splitlines() if line.endswith(f"ms {correlation}")]
        assert len(found) == 1, (correlation, self.text[-4000:])
        return found[0]

    def entry(self, correlation: str) -> dict[str, Any]:
        """The JSON access entry of the request sent with ``correlation``."""
        entries = [json.loads(line) for line in application_lines(self.text)]
        found: list[dict[str, Any]] = [e for e in entries if e.get("correlation_id") == correlation]
        assert len(found) == 1, (correlation, self.text[-4000:])
        return found[0]

    def who(self, correlation: str) -> dict[str, str]:
        """What the access line of that request says of who sent it: its
        ``merchant`` or ``auth_failure``, as a reader parses it (the text
        line's field after the client address; the JSON fields)."""
        if self.log_format == "json":
            entry = self.entry(correlation)
            return {name: entry[name] for name in ("merchant", "auth_failure") if name in entry}
        line = self.line(correlation)
        parsed = ACCESS_LINE.search(line)
        assert parsed is not None, line
        if parsed["who"] == "-":
            return {}
        name, value = parsed["who"].split("=", 1)
        return {name: value}


def identify(
    server_url: str, http: httpx.Client, card_like: httpx.Client, merchant: BundleMerchant
) -> None:
    """One request of each kind the access line tells apart, each with its own
    correlation id: authenticated (201, 404), refused (401 with the real
    merchant claimed, with an unknown one, with no credentials, with a
    forged merchant field), and outside the TMS API."""

    def sent(response: httpx.Response, status: int) -> None:
        assert response.status_code == status, response.text

    body = {"buyerInformation": {"merchantCustomerID": "logs"}}
    sent(http.post(CUSTOMERS, json=body, headers={"v-c-correlation-id": "log-created"}), 201)
    sent(http.get(f"{CUSTOMERS}/0", headers={"v-c-correlation-id": "log-missing"}), 404)
    sent(card_like.post(CUSTOMERS, json=body, headers={"v-c-correlation-id": "log-card"}), 201)
    forged = HTTPSignatureAuth(merchant.id, merchant.key_id, WRONG_SECRET)
    stranger = HTTPSignatureAuth("mallory_claimed", "k", WRONG_SECRET)
    refused = [
        ("log-forged", forged, "POST", CUSTOMERS),
        ("log-stranger", stranger, "POST", CUSTOMERS),
        ("log-anonymous", None, "POST", CUSTOMERS),
        (FORGED_CORRELATION, None, "GET", FORGED_PATH),
    ]
    for correlation, auth, method, path in refused:
        with httpx.Client(base_url=server_url, auth=auth, timeout=30.0) as other:
            headers = {"v-c-correlation-id": correlation}
            sent(other.request(method, path, json=body, headers=headers), 401)
    sent(httpx.get(f"{server_url}/healthz", headers={"v-c-correlation-id": "log-health"}), 200)


@pytest.fixture(scope="module", params=["text", "json"])
def access_log(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[AccessLog]:
    root = tmp_path_factory.mktemp(f"access-{request.param}")
    with database(root) as settings:
        if request.param == "json":
            settings["log_format"] = "json"
        env = environment(**settings)
        merchant = register_merchant(env, "log_merchant", root / "bundles")
        card_like = register_merchant(env, CARD_LIKE_MERCHANT, root / "bundles")
        server = start_server(root / "server.log", env)
        try:
            with client(server, merchant) as http, client(server, card_like) as card_http:
                identify(server.url, http, card_http, merchant)
        finally:
            server.stop()
        text = (root / "server.log").read_text()
        assert merchant.shared_secret not in text
        assert WRONG_SECRET not in text
        yield AccessLog(request.param, text)


@pytest.mark.parametrize("correlation", ["log-created", "log-missing"])
def test_the_access_line_names_the_authenticated_merchant(
    access_log: AccessLog, correlation: str
) -> None:
    assert access_log.who(correlation) == {"merchant": "log_merchant"}


def test_the_line_gives_who_after_the_client_address(access_log: AccessLog) -> None:
    client = r"^(.* )?127\.0\.0\.1:\d+ "
    created = access_log.line("log-created")
    assert re.search(client + r'merchant=log_merchant "POST /tms/v2/customers" 201 ', created)
    assert re.search(r'^[^"]* merchant=log_merchant "', created)
    forged = access_log.line("log-forged")
    assert re.search(client + r'auth_failure=bad_signature "POST /tms/v2/customers" 401 ', forged)
    assert re.search(client + r'- "GET /healthz" 200 ', access_log.line("log-health"))


def test_a_merchant_id_shaped_like_a_card_number_is_masked(access_log: AccessLog) -> None:
    assert CARD_LIKE_MERCHANT[:12] not in access_log.text
    assert access_log.who("log-card") == {"merchant": "411111XXXXXX1111"}


@pytest.mark.parametrize(
    ("correlation", "reason"),
    [
        pytest.param("log-forged", "bad_signature", id="real-merchant-claimed"),
        pytest.param("log-stranger", "unknown_key_id", id="unknown-merchant-claimed"),
        pytest.param("log-anonymous", "missing_credentials", id="no-credentials"),
        pytest.param(FORGED_CORRELATION, "missing_credentials", id="merchant-field-forged"),
    ],
)
def test_a_401_gives_the_reason_and_no_merchant(
    access_log: AccessLog, correlation: str, reason: str
) -> None:
    # The merchant a refused request claimed is not logged, even marked as a
    # claim: nothing vouches for it. What the client wrote in its path or
    # correlation id is never read as the field.
    assert access_log.who(correlation) == {"auth_failure": reason}
    line = access_log.line(correlation)
    # The search docs/security.md gives finds only the merchant's own requests.
    assert not re.search(r'^[^"]* merchant=log_merchant "', line), line
    if correlation == FORGED_CORRELATION:
        assert line.count("merchant=log_merchant") == 2, line
    else:
        assert "merchant" not in line
    assert "mallory_claimed" not in access_log.text


def test_a_request_outside_the_api_names_neither(access_log: AccessLog) -> None:
    assert access_log.who("log-health") == {}
