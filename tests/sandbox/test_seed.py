"""Seed files over the admin API (POST /opentms/v1/sandbox/seed), the
merchant registration route (POST /opentms/v1/sandbox/merchants), and
`opentms serve --seed` refused in vault mode."""

from __future__ import annotations

import base64
import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.applications import Starlette

from opentms.adapters.seed_file import load_seed_file
from opentms.bootstrap import Services
from opentms.client import ASGIAppTransport, HTTPSignatureAuth
from opentms.crypto import certificates
from tests.conformance.server import free_port, opentms_executable, server_environment

SECRET = base64.b64encode(bytes(range(32))).decode()
OTHER_SECRET = base64.b64encode(bytes(range(1, 33))).decode()
PROFILE = "6F0E8A7C-0D4B-4C39-9A5E-1B2C3D4E5F60"
PLAIN_PROFILE = "6F0E8A7C-0D4B-4C39-9A5E-1B2C3D4E5F61"
CUSTOMER = "A" * 31 + "1"
PI_ID = "B" * 31 + "2"
ADDRESS = "C" * 31 + "3"
VISA = "4111111111111111"
MASTERCARD = "5555555555554444"
MAGIC_DECLINE = "4000000000000051"

YAML_DOCUMENT = f"""\
version: 1
merchants:
  - merchantId: seeded_yaml
    keyId: seeded-yaml-key
    sharedSecret: {SECRET}
    defaultProfileId: {PROFILE}
    profiles:
      - profileId: {PLAIN_PROFILE}
        name: no tokens
        networkTokens: false
    instrumentIdentifiers:
      - id: "7020000000016241113"
        card:
          number: "{MASTERCARD}"
      - card:
          number: "{MAGIC_DECLINE}"
    customers:
      - id: {CUSTOMER}
        buyerInformation:
          email: ada@example.com
        shippingAddresses:
          - id: {ADDRESS}
            shipTo:
              firstName: Ada
              country: GB
        paymentInstruments:
          - id: {PI_ID}
            card:
              expirationMonth: "12"
              expirationYear: "2031"
            instrumentIdentifier:
              card:
                number: "{VISA}"
            networkToken:
              state: SUSPENDED
"""


def seed(client: httpx.Client, body: str | bytes, kind: str = "yaml") -> httpx.Response:
    content = body.encode() if isinstance(body, str) else body
    return client.post("/seed", content=content, headers={"content-type": f"application/{kind}"})


def merchant_client(app: Starlette, merchant: str, key_id: str, secret: str) -> httpx.Client:
    return httpx.Client(
        transport=ASGIAppTransport(app),
        base_url="http://testserver",
        auth=HTTPSignatureAuth(merchant, key_id, secret),
    )


@pytest.fixture(scope="module")
def seeded(sandbox_app: Starlette, admin_token: str) -> dict[str, Any]:
    with httpx.Client(
        transport=ASGIAppTransport(sandbox_app),
        base_url="http://testserver/opentms/v1/sandbox",
        headers={"authorization": f"Bearer {admin_token}"},
    ) as client:
        response = seed(client, YAML_DOCUMENT)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


@pytest.fixture
def yaml_merchant(sandbox_app: Starlette, seeded: dict[str, Any]) -> Iterator[httpx.Client]:
    with merchant_client(sandbox_app, "seeded_yaml", "seeded-yaml-key", SECRET) as client:
        yield client


def test_a_yaml_seed_creates_what_it_lists(seeded: dict[str, Any]) -> None:
    assert seeded["merchants"] == ["seeded_yaml"]
    assert seeded["created"] == {
        "merchants": 1,
        "profiles": 1,
        "instrumentIdentifiers": 3,
        "customers": 1,
        "shippingAddresses": 1,
        "paymentInstruments": 1,
    }
    assert set(seeded["unchanged"].values()) == {0}


def test_the_seeded_merchant_signs_with_the_key_of_the_file(yaml_merchant: httpx.Client) -> None:
    customer = yaml_merchant.get(f"/tms/v2/customers/{CUSTOMER}")
    assert customer.status_code == 200, customer.text
    body = customer.json()
    assert body["buyerInformation"]["email"] == "ada@example.com"
    embedded = body["_embedded"]
    assert embedded["defaultPaymentInstrument"]["id"] == PI_ID
    assert embedded["defaultShippingAddress"]["id"] == ADDRESS


def test_the_default_profile_id_is_the_files(yaml_merchant: httpx.Client) -> None:
    response = yaml_merchant.get(
        f"/tms/v2/customers/{CUSTOMER}", headers={"profile-id": PROFILE.lower()}
    )
    assert response.status_code == 200


def test_fixed_instrument_identifier_id_and_its_token(yaml_merchant: httpx.Client) -> None:
    ii = yaml_merchant.get("/tms/v1/instrumentidentifiers/7020000000016241113")
    assert ii.status_code == 200, ii.text
    assert ii.json()["card"]["number"].endswith("4444")
    assert ii.json()["tokenizedCard"]["state"] == "ACTIVE"


def test_a_magic_card_is_stored_with_its_refusal(sandbox_services: Services, seeded: Any) -> None:
    tenant = sandbox_services.merchants.tenant("seeded_yaml", None)
    from opentms.domain.card import PAN

    with sandbox_services.payment_instruments._reading(tenant) as uow:
        fingerprint = tenant.keys.fingerprint("card", PAN(MAGIC_DECLINE).reveal())
        ii = uow.instrument_identifiers.find_by_fingerprint(fingerprint)
        assert ii is not None
        token = uow.network_tokens.current_for(ii.id)
    assert token is not None
    assert token.state.value == "UNPROVISIONED"
    assert token.reason is not None
    assert token.reason.value == "DECLINED"


def test_a_suspended_token_is_refused_payment_credentials(yaml_merchant: httpx.Client) -> None:
    pi = yaml_merchant.get(f"/tms/v1/paymentinstruments/{PI_ID}")
    assert pi.status_code == 200, pi.text
    ii_id = pi.json()["instrumentIdentifier"]["id"]
    ii = yaml_merchant.get(f"/tms/v1/instrumentidentifiers/{ii_id}").json()
    assert ii["tokenizedCard"]["state"] == "SUSPENDED"
    credentials = yaml_merchant.post(
        f"/tms/v2/tokens/{PI_ID}/payment-credentials",
        json={},
        headers={"profile-id": PROFILE},
    )
    # docs/simulators.md: a suspended token gets no payment credentials (403).
    assert credentials.status_code == 403, credentials.text
    assert "suspended" in credentials.json()["errors"][0]["message"]


def test_applying_the_same_file_again_changes_nothing(
    admin_client: httpx.Client, yaml_merchant: httpx.Client, seeded: dict[str, Any]
) -> None:
    before = yaml_merchant.get(f"/tms/v2/customers/{CUSTOMER}").json()
    again = seed(admin_client, YAML_DOCUMENT)
    assert again.status_code == 200, again.text
    assert again.json()["unchanged"] == seeded["created"]
    assert set(again.json()["created"].values()) == {0}
    after = yaml_merchant.get(f"/tms/v2/customers/{CUSTOMER}").json()
    assert after == before
    listed = yaml_merchant.get(f"/tms/v2/customers/{CUSTOMER}/payment-instruments").json()
    assert listed["total"] == 1


def test_a_json_seed_without_ids_gets_the_same_ids_each_time(
    admin_client: httpx.Client, sandbox_app: Starlette
) -> None:
    document = {
        "merchants": [
            {
                "merchantId": "seeded_json",
                "keyId": "seeded-json-key",
                "sharedSecret": SECRET,
                "customers": [
                    {
                        "clientReferenceInformation": {"code": "c-1"},
                        "paymentInstruments": [
                            {"instrumentIdentifier": {"card": {"number": "4012888888881881"}}}
                        ],
                    }
                ],
            }
        ]
    }
    text = json.dumps(document, indent=2)
    first = seed(admin_client, text, "json")
    assert first.status_code == 200, first.text
    assert first.json()["created"]["customers"] == 1
    second = seed(admin_client, text, "json")
    assert second.status_code == 200, second.text
    assert second.json()["unchanged"]["customers"] == 1
    assert second.json()["created"]["paymentInstruments"] == 0
    with merchant_client(sandbox_app, "seeded_json", "seeded-json-key", SECRET) as client:
        search = client.get("/tms/v2/customers/" + _derived_customer_id())
        assert search.status_code == 200, search.text
        assert search.json()["clientReferenceInformation"]["code"] == "c-1"


def _derived_customer_id() -> str:
    from opentms.domain.ids import derived_token_id

    return derived_token_id("opentms seed\x00seeded_json\x00merchants[0].customers[0]")


def test_a_conflicting_second_definition_names_its_field_and_line(
    admin_client: httpx.Client, seeded: dict[str, Any]
) -> None:
    changed = YAML_DOCUMENT.replace("ada@example.com", "grace@example.com")
    response = seed(admin_client, changed)
    assert response.status_code == 400
    message = response.json()["errors"][0]["message"] if "errors" in response.json() else ""
    message = message or response.json()["message"]
    assert "merchants[0].customers[0]" in message
    assert "(line 18)" in message
    other_secret = YAML_DOCUMENT.replace(SECRET, OTHER_SECRET)
    response = seed(admin_client, other_secret)
    assert response.status_code == 400
    assert "merchants[0].sharedSecret (line 5)" in _message(response)


def _message(response: httpx.Response) -> str:
    body = response.json()
    if "errors" in body:
        return str(body["errors"][0]["message"])
    return str(body["message"])


@pytest.mark.parametrize(
    ("document", "field", "line"),
    [
        ("merchants:\n  - merchantId: m1\n    keyId: k\n", "merchants[0]", 2),
        (
            f"merchants:\n  - merchantId: m1\n    keyId: k\n    sharedSecret: {SECRET}\n"
            "    colour: red\n",
            "merchants[0].colour",
            5,
        ),
        (
            "merchants:\n  - merchantId: m1\n    keyId: k\n    sharedSecret: c2hvcnQ=\n",
            "merchants[0].sharedSecret",
            4,
        ),
        (
            f"merchants:\n  - merchantId: m1\n    keyId: k\n    sharedSecret: {SECRET}\n"
            "    customers:\n      - buyerInformation:\n          email: 5\n",
            "merchants[0].customers[0].buyerInformation.email",
            7,
        ),
        (
            f"merchants:\n  - merchantId: m1\n    keyId: k\n    sharedSecret: {SECRET}\n"
            "    paymentInstruments:\n      - instrumentIdentifier:\n"
            "          card:\n            number: '4111111111111112'\n",
            "merchants[0].paymentInstruments[0].instrumentIdentifier.card.number",
            8,
        ),
        (
            f"merchants:\n  - merchantId: m1\n    keyId: k\n    sharedSecret: {SECRET}\n"
            "    paymentInstruments:\n      - instrumentIdentifier:\n"
            "          card:\n            number: '4111111111111111'\n"
            "          cardColour: red\n",
            "merchants[0].paymentInstruments[0].instrumentIdentifier.cardColour",
            9,
        ),
        (
            f"merchants:\n  - merchantId: m1\n    keyId: k\n    sharedSecret: {SECRET}\n"
            "    instrumentIdentifiers:\n      - card: {number: '4000000000000051'}\n"
            "        networkToken: {state: SUSPENDED}\n",
            "merchants[0].instrumentIdentifiers[0].networkToken",
            7,
        ),
        (
            f"merchants:\n  - merchantId: m1\n    keyId: k\n    sharedSecret: {SECRET}\n"
            f"  - merchantId: m1\n    keyId: k2\n    sharedSecret: {SECRET}\n",
            "merchants[1].merchantId",
            5,
        ),
        (
            "merchants:\n  - merchantId: m1\n    keyId: k\n    keyId: k2\n",
            "merchants[0].keyId",
            4,
        ),
        # An alias is the node it names: the line is the anchor's.
        ("base: &b {a: 1}\nmerchants: [*b]\n", "merchants[0]", 1),
        ("merchants:\n  - !!binary aGVsbG8=\n", "merchants[0]", 2),
        ("merchants: [\n", "document", 2),
    ],
)
def test_errors_name_the_field_and_its_line(
    admin_client: httpx.Client, document: str, field: str, line: int
) -> None:
    response = seed(admin_client, document)
    assert response.status_code == 400, response.text
    message = _message(response)
    assert f"{field} (line {line})" in message, message
    assert "4111111111111112" not in response.text


def test_json_errors_carry_lines_too(admin_client: httpx.Client) -> None:
    document = (
        '{\n  "merchants": [\n    {\n      "merchantId": "m1",\n'
        '      "keyId": 7,\n      "sharedSecret": "x"\n    }\n  ]\n}\n'
    )
    response = seed(admin_client, document, "json")
    assert response.status_code == 400
    assert "merchants[0].keyId (line 5)" in _message(response)
    broken = seed(admin_client, '{"merchants": [}', "json")
    assert broken.status_code == 400
    assert "(line 1)" in _message(broken)


def test_an_unknown_content_type_is_refused(admin_client: httpx.Client) -> None:
    response = admin_client.post(
        "/seed", content=b"merchants: []", headers={"content-type": "text/plain"}
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["details"][0]["name"] == "Content-Type" or (
        "Content-Type" in response.text
    )


def test_a_failing_file_writes_nothing(
    admin_client: httpx.Client, sandbox_services: Services
) -> None:
    document = f"""\
merchants:
  - merchantId: half_written
    keyId: half-key
    sharedSecret: {SECRET}
  - merchantId: seeded_yaml
    keyId: seeded-yaml-key
    sharedSecret: {OTHER_SECRET}
"""
    response = seed(admin_client, document)
    assert response.status_code == 400
    assert "merchants[1].sharedSecret" in _message(response)
    assert "half_written" not in sandbox_services.merchants.list_merchants()


def test_pem_paths_are_read_beside_the_file(tmp_path: Path) -> None:
    key = certificates.generate_rsa_key()
    certificate = certificates.issue_certificate(key, "pem_merchant", "123456789012345678901")
    (tmp_path / "certs").mkdir()
    (tmp_path / "certs" / "jwt.pem").write_bytes(certificates.certificate_pem(certificate))
    seed_file = tmp_path / "seed.yaml"
    seed_file.write_text(
        f"merchants:\n  - merchantId: pem_merchant\n    keyId: pem-key\n"
        f"    sharedSecret: {SECRET}\n    jwtCertificate: certs/jwt.pem\n"
    )
    document = load_seed_file(seed_file)
    assert document.merchants[0].jwt_certificate_pem == certificates.certificate_pem(certificate)


def test_over_http_a_pem_must_be_inline(admin_client: httpx.Client) -> None:
    document = (
        f"merchants:\n  - merchantId: m1\n    keyId: k\n    sharedSecret: {SECRET}\n"
        "    jwtCertificate: /etc/passwd\n"
    )
    response = seed(admin_client, document)
    assert response.status_code == 400
    assert "merchants[0].jwtCertificate (line 5)" in _message(response)
    assert "inline" in _message(response)


def test_a_jwt_certificate_of_the_file_authenticates(
    admin_client: httpx.Client, sandbox_app: Starlette
) -> None:
    from opentms.client import JWTAuth

    key = certificates.generate_rsa_key()
    kid = "998877665544332211001"
    pem = certificates.certificate_pem(certificates.issue_certificate(key, "jwt_seeded", kid))
    document = {
        "merchants": [
            {
                "merchantId": "jwt_seeded",
                "keyId": "jwt-seeded-key",
                "sharedSecret": SECRET,
                "jwtCertificate": pem.decode(),
            }
        ]
    }
    response = seed(admin_client, json.dumps(document), "json")
    assert response.status_code == 200, response.text
    with httpx.Client(
        transport=ASGIAppTransport(sandbox_app),
        base_url="http://testserver",
        auth=JWTAuth("jwt_seeded", kid, private_key=key),
    ) as client:
        created = client.post("/tms/v2/customers", json={})
    assert created.status_code == 201, created.text


# Mutated documents: never a 500, never a partial write ------------------------------------

_BASE: dict[str, Any] = yaml.safe_load(YAML_DOCUMENT)
_LEAVES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**20), 10**20),
    st.text(max_size=40),
    st.sampled_from([VISA, "4111111111111112", "ACTIVE", "DELETED", PROFILE, "x" * 300]),
)


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix]
    if isinstance(value, dict):
        for key, item in value.items():
            found += _paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += _paths(item, (*prefix, index))
    return found


_ALL_PATHS = _paths(_BASE)[1:]


@st.composite
def mutated_documents(draw: st.DrawFn) -> Any:
    document = json.loads(json.dumps(_BASE))
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(_ALL_PATHS))
        parent = document
        try:
            for part in path[:-1]:
                parent = parent[part]
            action = draw(st.sampled_from(["replace", "delete", "add"]))
            if action == "replace":
                parent[path[-1]] = draw(_LEAVES)
            elif action == "delete" and isinstance(parent, dict):
                del parent[path[-1]]
            elif isinstance(parent, dict):
                parent[draw(st.text(min_size=1, max_size=12))] = draw(_LEAVES)
        except (KeyError, IndexError, TypeError):
            continue
    # A merchant of its own, so that a document that applies cleanly
    # does not collide with the module's seeded merchant.
    merchants = document.get("merchants") if isinstance(document, dict) else None
    if isinstance(merchants, list) and merchants and isinstance(merchants[0], dict):
        merchants[0]["merchantId"] = "mutant"
        merchants[0]["keyId"] = "mutant-key"
    return document


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(document=mutated_documents(), as_json=st.booleans())
def test_mutated_documents_never_answer_500_nor_write_part(
    admin_client: httpx.Client, sandbox_services: Services, document: Any, as_json: bool
) -> None:
    before = set(sandbox_services.merchants.list_merchants())
    text = json.dumps(document) if as_json else yaml.safe_dump(document)
    response = seed(admin_client, text, "json" if as_json else "yaml")
    assert response.status_code in (200, 400), response.text
    if response.status_code == 400:
        assert set(sandbox_services.merchants.list_merchants()) == before
        assert "(line " in _message(response) or "document" in _message(response)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(raw=st.binary(max_size=200) | st.text(max_size=200).map(str.encode))
def test_arbitrary_bytes_are_a_400(raw: bytes) -> None:
    from opentms.adapters.seed_file import parse_seed
    from opentms.domain.errors import InvalidFields

    for seed_format in ("yaml", "json"):
        problems: list[str] = []
        try:
            parse_seed(raw, seed_format, None)
        except InvalidFields as exc:
            problems.append(exc.message)
        assert all(problem.startswith("Seed file: ") for problem in problems)


# POST /merchants ---------------------------------------------------------------------------


def test_post_merchants_answers_a_bundle_that_works(
    admin_client: httpx.Client, sandbox_app: Starlette
) -> None:
    response = admin_client.post(
        "/merchants", json={"merchantId": "bundled", "keyId": "bundled-key"}
    )
    assert response.status_code == 201, response.text
    bundle = response.json()
    assert bundle["merchantId"] == "bundled"
    assert bundle["httpSignature"]["keyId"] == "bundled-key"
    assert base64.b64decode(bundle["jwt"]["p12Base64"])
    assert bundle["jwt"]["keyAlias"] == "bundled"
    assert bundle["paymentCredentials"]["privateKeyPem"].startswith("-----BEGIN")
    secret = bundle["httpSignature"]["sharedSecret"]
    with merchant_client(sandbox_app, "bundled", "bundled-key", secret) as client:
        created = client.post("/tms/v2/customers", json={})
        assert created.status_code == 201, created.text
        profile = client.get(
            f"/tms/v2/customers/{created.json()['id']}",
            headers={"profile-id": bundle["defaultProfileId"]},
        )
        assert profile.status_code == 200
    again = admin_client.post("/merchants", json={"merchantId": "bundled"})
    assert again.status_code == 409


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "merchantId"),
        ({"merchantId": "has space"}, "merchantId"),
        ({"merchantId": "ok_one", "sharedSecret": "c2hvcnQ="}, "sharedSecret"),
        ({"merchantId": "ok_two", "keyId": "a b"}, "keyId"),
        ({"merchantId": "ok_three", "colour": "red"}, "colour"),
        ({"merchantId": 5}, "merchantId"),
    ],
)
def test_post_merchants_refuses_bad_input(
    admin_client: httpx.Client, body: dict[str, Any], field: str
) -> None:
    response = admin_client.post("/merchants", json=body)
    assert response.status_code == 400, response.text
    assert response.json()["errors"][0]["details"][0]["name"] == field


def test_post_merchants_needs_the_admin_token(sandbox_app: Starlette) -> None:
    with httpx.Client(
        transport=ASGIAppTransport(sandbox_app), base_url="http://testserver"
    ) as client:
        response = client.post("/opentms/v1/sandbox/merchants", json={"merchantId": "nope"})
    assert response.status_code == 401


# Vault mode --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("option", "variable"),
    [
        ("--seed={seed}", "OPENTMS_SEED_FILE"),
        ("--deterministic=abc", "OPENTMS_DETERMINISTIC_SEED"),
    ],
)
def test_vault_mode_refuses_seed_and_deterministic(
    tmp_path: Path, option: str, variable: str
) -> None:
    seed_file = tmp_path / "seed.yaml"
    seed_file.write_text("merchants: []\n")
    done = subprocess.run(
        [
            str(opentms_executable()),
            "serve",
            f"--port={free_port()}",
            f"--data-dir={tmp_path / 'data'}",
            option.format(seed=seed_file),
        ],
        env={**server_environment(), "OPENTMS_MODE": "vault"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2, done.stderr
    assert variable in done.stderr
    assert "only a sandbox has this" in done.stderr


def test_an_id_of_another_merchant_is_refused_before_any_write(
    admin_client: httpx.Client, sandbox_services: Services, seeded: dict[str, Any]
) -> None:
    document = f"""\
merchants:
  - merchantId: id_thief
    keyId: id-thief-key
    sharedSecret: {SECRET}
    customers:
      - id: {CUSTOMER}
"""
    response = seed(admin_client, document)
    assert response.status_code == 400, response.text
    assert "merchants[0].customers[0].id (line 6)" in _message(response)
    assert "another merchant's" in _message(response)
    assert "id_thief" not in sandbox_services.merchants.list_merchants()
    profile = document.replace(f"    customers:\n      - id: {CUSTOMER}\n", "") + (
        f"    defaultProfileId: {PROFILE}\n"
    )
    response = seed(admin_client, profile)
    assert response.status_code == 400, response.text
    assert "merchants[0].defaultProfileId (line 5)" in _message(response)
    assert "id_thief" not in sandbox_services.merchants.list_merchants()


def test_the_example_of_the_docs_applies_twice(admin_client: httpx.Client) -> None:
    """docs/sandbox.md's example, its PEM parts left out (they are placeholders)."""
    text = (Path(__file__).parents[2] / "docs" / "sandbox.md").read_text()
    block = text.split("An example that uses every part of the schema:\n\n```yaml\n")[1]
    kept: list[str] = []
    in_pem = False
    for line in block.split("```")[0].splitlines():
        if "jwtCertificate:" in line:
            continue
        if "paymentCredentialsPublicKey" in line:
            in_pem = True
            continue
        if in_pem and ("-----" in line or line.strip() == "..."):
            continue
        in_pem = False
        kept.append(line)
    document = "\n".join(kept).replace("acme", "docs_example") + "\n"
    first = seed(admin_client, document)
    assert first.status_code == 200, first.text
    assert first.json()["created"]["paymentInstruments"] == 3
    second = seed(admin_client, document)
    assert second.status_code == 200, second.text
    assert set(second.json()["created"].values()) == {0}


_HEAD = f"merchants:\n  - merchantId: repeats\n    keyId: repeats-key\n    sharedSecret: {SECRET}\n"


@pytest.mark.parametrize(
    ("entries", "field", "line"),
    [
        (
            "    paymentInstruments:\n"
            "      - instrumentIdentifier: {card: {number: '4012888888881881'}}\n"
            "        networkToken: {state: ACTIVE}\n"
            "      - instrumentIdentifier: {card: {number: '4012888888881881'}}\n"
            "        networkToken: {state: SUSPENDED}\n",
            "merchants[0].paymentInstruments[1].networkToken",
            9,
        ),
        (
            "    instrumentIdentifiers:\n"
            "      - {id: '7030000000016241112', card: {number: '4012888888881881'}}\n"
            "    paymentInstruments:\n"
            "      - instrumentIdentifier:\n"
            "          id: '7030000000016241113'\n"
            "          card: {number: '4012888888881881'}\n",
            "merchants[0].paymentInstruments[0].instrumentIdentifier.id",
            9,
        ),
    ],
)
def test_a_card_repeated_with_other_wishes_is_refused_before_any_write(
    admin_client: httpx.Client, sandbox_services: Services, entries: str, field: str, line: int
) -> None:
    response = seed(admin_client, _HEAD + entries)
    assert response.status_code == 400, response.text
    assert f"{field} (line {line})" in _message(response)
    assert "repeats" not in sandbox_services.merchants.list_merchants()


def test_a_repeated_card_is_one_instrument_identifier(admin_client: httpx.Client) -> None:
    entries = (
        "    paymentInstruments:\n"
        "      - instrumentIdentifier: {card: {number: '4012888888881881'}}\n"
        "        networkToken: {state: SUSPENDED}\n"
        "      - instrumentIdentifier: {card: {number: '4012888888881881'}}\n"
    )
    response = seed(admin_client, _HEAD.replace("repeats", "repeats_ok") + entries)
    assert response.status_code == 200, response.text
    assert response.json()["created"]["instrumentIdentifiers"] == 1
    assert response.json()["created"]["paymentInstruments"] == 2
