"""Property-based attack on JWT authentication through a real server (issue 9,
point 1): thousands of mutations of one genuine RS256 token and one genuine
HS256 token (tests/jwt_mutations.py) are sent, and every one must be answered
401. The genuine tokens are sent last and must be accepted, so each refusal
was the mutation's doing. The number of tokens sent is printed at the end of
the run ("opentms robustness figures") and must reach FUZZ_MINIMUM for each
algorithm; ``OPENTMS_JWT_FUZZ_EXAMPLES`` raises it.
"""

from __future__ import annotations

import base64
import os
from collections.abc import Iterator

import httpx
import pytest
from hypothesis import HealthCheck, given, settings

from tests.jwt_mutations import Mutations
from tests.robustness.support import CUSTOMERS, Deployment, client, encode_jwt, jwt_claims, report

#: Tokens generated per algorithm; two algorithms make CI's 10,000 and more.
FUZZ_EXAMPLES = int(os.environ.get("OPENTMS_JWT_FUZZ_EXAMPLES", "5200"))
FUZZ_MINIMUM = 5000
TALLY: dict[str, dict[str, int]] = {}


@pytest.fixture(scope="module")
def customer(deployment: Deployment) -> str:
    with client(deployment.server, deployment.merchant) as http:
        created = http.post(CUSTOMERS, json={})
    assert created.status_code == 201, created.text
    return f"{CUSTOMERS}/{created.json()['id']}"


@pytest.fixture(scope="module")
def http(deployment: Deployment) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=deployment.server.url, timeout=30.0) as keep_alive:
        yield keep_alive


def genuine(deployment: Deployment, algorithm: str, path: str) -> tuple[str, Mutations]:
    """A token the server would accept for ``GET path``, never sent before the
    end of the test, and its mutations with the attacker's fresh claims for
    the same request (what a smuggling attack wants read)."""
    merchant = deployment.merchant
    host = f"127.0.0.1:{deployment.server.port}"
    claims = jwt_claims(merchant.id, host, "GET", path)
    if algorithm == "RS256":
        header = {"alg": "RS256", "kid": merchant.jwt_kid, "typ": "JWT"}
        token = encode_jwt(header, claims, key=merchant.jwt_key)
    else:
        header = {"alg": "HS256", "kid": merchant.key_id, "typ": "JWT"}
        token = encode_jwt(header, claims, secret=base64.b64decode(merchant.shared_secret))
    attacker_claims = jwt_claims(merchant.id, host, "GET", path, jti="attacker")
    return token, Mutations(token, header, attacker_claims, http_safe=True)


@pytest.mark.parametrize("algorithm", ["RS256", "HS256"])
def test_every_mutation_of_a_genuine_jwt_is_401(
    deployment: Deployment, http: httpx.Client, customer: str, algorithm: str
) -> None:
    token, mutations = genuine(deployment, algorithm, customer)
    tally = TALLY.setdefault(algorithm, {"sent": 0, "refused": 0})

    @settings(
        max_examples=FUZZ_EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    )
    @given(mutations.tokens())
    def attack(mutated: str) -> None:
        response = http.get(customer, headers=[(b"authorization", b"Bearer " + mutated.encode())])
        tally["sent"] += 1
        assert response.status_code == 401, (response.status_code, response.text[:300])
        assert response.json()["errors"][0]["reason"] != "replayed_token"
        tally["refused"] += 1

    attack()
    report(f"JWT fuzz ({algorithm})", tokens_sent=tally["sent"], refused_401=tally["refused"])
    assert tally["refused"] >= min(FUZZ_MINIMUM, FUZZ_EXAMPLES), tally
    # The token every mutation came from is good: the refusals were the mutations'.
    accepted = http.get(customer, headers={"authorization": f"Bearer {token}"})
    assert accepted.status_code == 200, accepted.text
