"""Two separate ``opentms serve`` processes on one PostgreSQL database (a fresh
schema) and one master key file: what one writes the other reads at once, and
uniqueness and counters hold across them because the database enforces them.

- read-your-writes: create on A, read and patch on B, read back on A with the
  new ETag; a stale If-Match on A is refused; a delete on A is a 410 on B;
- ATC uniqueness: 40 concurrent payment-credential requests for one Visa
  customer token, spread over both servers: 40 distinct ATCs (1..40), and each
  cryptogram APPROVED exactly once by the authorisation simulator when it is
  presented on both servers at the same time; every later presentation is a
  declined replay;
- one instrument identifier per card when both servers store it at once;
- a JWT accepted by one server is refused by the other (single use);
- wrong security codes sent to both servers at once are each counted, and the
  token's codes are locked after five until new credentials are issued.

Needs OPENTMS_TEST_POSTGRES_URL (skipped without it).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TypeVar

import httpx
import pytest

from tests.robustness.support import (
    CUSTOMERS,
    EXPIRY,
    II,
    JSON,
    SIMULATIONS,
    BundleMerchant,
    Server,
    client,
    create_visa_customer,
    credentials_path,
    environment,
    open_credentials,
    presentation,
    register_merchant,
    report,
    start_server,
)
from tests.support import fresh_postgres_schema, make_pan

pytestmark = pytest.mark.postgres

CONCURRENT_CREDENTIALS = 40
_T = TypeVar("_T")


@dataclass(frozen=True)
class Pair:
    a: Server
    b: Server
    merchant: BundleMerchant

    def servers(self) -> tuple[Server, Server]:
        return self.a, self.b


@pytest.fixture(scope="module")
def pair(postgres_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pair]:
    root = tmp_path_factory.mktemp("two-processes")
    with fresh_postgres_schema(postgres_url, "opentms_mp") as url:
        shared = {"database_url": url, "master_key_file": str(root / "master.key")}
        env_a = environment(data_dir=str(root / "a"), **shared)
        env_b = environment(data_dir=str(root / "b"), **shared)
        # The CLI migrates the schema and creates the master key both servers read.
        merchant = register_merchant(env_a, "multi_a", root / "bundles")
        servers: list[Server] = []
        try:
            servers.append(start_server(root / "a.log", env_a))
            servers.append(start_server(root / "b.log", env_b))
            yield Pair(servers[0], servers[1], merchant)
        finally:
            for server in servers:
                server.stop()


def in_parallel(jobs: list[Callable[[], _T]]) -> list[_T]:
    """Run each job on its own thread, all released at once; results in order."""
    barrier = threading.Barrier(len(jobs))
    results: dict[int, _T] = {}
    errors: list[BaseException] = []

    def run(index: int, job: Callable[[], _T]) -> None:
        try:
            barrier.wait(timeout=30)
            results[index] = job()
        except BaseException as exc:  # re-raised in the test's thread
            errors.append(exc)
            barrier.abort()

    threads = [threading.Thread(target=run, args=(i, job)) for i, job in enumerate(jobs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    if errors:
        raise errors[0]
    assert len(results) == len(jobs)
    return [results[i] for i in range(len(jobs))]


def post(
    server: Server, merchant: BundleMerchant, path: str, body: JSON
) -> Callable[[], httpx.Response]:
    def job() -> httpx.Response:
        with client(server, merchant) as http:
            return http.post(path, json=body)

    return job


def test_read_your_writes_across_processes(pair: Pair) -> None:
    with client(pair.a, pair.merchant) as on_a, client(pair.b, pair.merchant) as on_b:
        buyer = {"merchantCustomerID": "rw-1", "email": "first@example.com"}
        created = on_a.post(CUSTOMERS, json={"buyerInformation": buyer})
        assert created.status_code == 201, created.text
        path = f"{CUSTOMERS}/{created.json()['id']}"
        first_etag = created.headers["etag"]

        read = on_b.get(path)
        assert read.status_code == 200, read.text
        assert read.headers["etag"] == first_etag
        assert read.json()["buyerInformation"] == created.json()["buyerInformation"]

        patch = {"buyerInformation": {"email": "second@example.com"}}
        patched = on_b.patch(path, json=patch, headers={"if-match": first_etag})
        assert patched.status_code == 200, patched.text
        new_etag = patched.headers["etag"]
        assert new_etag != first_etag

        back = on_a.get(path)
        assert back.status_code == 200
        assert back.headers["etag"] == new_etag
        assert back.json()["buyerInformation"]["email"] == "second@example.com"

        stale = on_a.patch(path, json=patch, headers={"if-match": first_etag})
        assert stale.status_code == 412, stale.text

        assert on_a.delete(path).status_code == 204
        assert on_b.get(path).status_code == 410


def test_one_instrument_identifier_per_card_across_processes(pair: Pair) -> None:
    pan = make_pan()
    jobs = [
        post(server, pair.merchant, II, {"card": {"number": pan, **EXPIRY}})
        for _ in range(5)
        for server in pair.servers()
    ]
    responses = in_parallel(jobs)
    statuses = sorted(response.status_code for response in responses)
    assert statuses == [200] * (len(jobs) - 1) + [201], [r.text for r in responses]
    assert len({response.json()["id"] for response in responses}) == 1


def test_atcs_are_unique_across_processes(pair: Pair) -> None:
    merchant = pair.merchant
    with client(pair.a, merchant) as on_a:
        token = create_visa_customer(on_a, make_pan())
    jobs = [
        post(pair.servers()[i % 2], merchant, credentials_path(token), {})
        for i in range(CONCURRENT_CREDENTIALS)
    ]
    issued = [
        open_credentials(response, merchant)["tokenizedCard"] for response in in_parallel(jobs)
    ]
    atcs = [int(tokenized["applicationTransactionCounter"]) for tokenized in issued]
    assert sorted(atcs) == list(range(1, CONCURRENT_CREDENTIALS + 1))
    assert len({tokenized["cryptogram"] for tokenized in issued}) == CONCURRENT_CREDENTIALS

    # Each cryptogram presented on both servers at the same time: approved once.
    presentations = [
        post(server, merchant, SIMULATIONS, presentation(tokenized))
        for tokenized in issued
        for server in pair.servers()
    ]
    decisions = [response.json() for response in in_parallel(presentations)]
    approved = declined = 0
    for index, tokenized in enumerate(issued):
        pair_of = decisions[2 * index : 2 * index + 2]
        atc = int(tokenized["applicationTransactionCounter"])
        assert sorted(decision["status"] for decision in pair_of) == ["APPROVED", "DECLINED"]
        for decision in pair_of:
            assert decision["applicationTransactionCounter"] == atc
            if decision["status"] == "DECLINED":
                assert decision["reason"] == "REPLAYED_CRYPTOGRAM"
        approved += 1
        declined += 1

    # And again, one at a time on either server: every one is used up.
    for index, tokenized in enumerate(issued):
        with client(pair.servers()[index % 2], merchant) as http:
            again = http.post(SIMULATIONS, json=presentation(tokenized)).json()
        assert (again["status"], again["reason"]) == ("DECLINED", "REPLAYED_CRYPTOGRAM")
        declined += 1
    report(
        "two processes on PostgreSQL",
        credentials_requested=CONCURRENT_CREDENTIALS,
        distinct_atcs=len(set(atcs)),
        approved=approved,
        replays_declined=declined,
    )


def test_wrong_security_codes_are_counted_across_processes(pair: Pair) -> None:
    """Wrong Amex codes sent at once to both servers: the database counts
    every one, and only the first five are compared (then TOO_MANY_ATTEMPTS)
    until new credentials are issued, on either server."""
    merchant = pair.merchant
    with client(pair.a, merchant) as on_a:
        ii = on_a.post(II, json={"card": {"number": make_pan("378282", 15), **EXPIRY}})
        assert ii.status_code == 201, ii.text
        issued = on_a.post(credentials_path(ii.json()["id"]), json={})
    tokenized = open_credentials(issued, merchant)["tokenizedCard"]

    def with_code(code: str) -> JSON:
        body = {name: tokenized[name] for name in ("expirationMonth", "expirationYear")}
        return {"tokenNumber": tokenized["number"], "securityCode": code, **body}

    right = int(tokenized["securityCode"])
    guesses = [f"{(right + step) % 10_000:04d}" for step in range(1, 13)]
    jobs = [
        post(pair.servers()[i % 2], merchant, SIMULATIONS, with_code(guess))
        for i, guess in enumerate(guesses)
    ]
    reasons = sorted(response.json()["reason"] for response in in_parallel(jobs))
    assert reasons == ["INVALID_SECURITY_CODE"] * 5 + ["TOO_MANY_ATTEMPTS"] * 7
    for server in pair.servers():
        with client(server, merchant) as http:
            locked = http.post(SIMULATIONS, json=with_code(tokenized["securityCode"])).json()
        assert locked["reason"] == "TOO_MANY_ATTEMPTS"
    with client(pair.b, merchant) as on_b:
        assert on_b.post(credentials_path(ii.json()["id"]), json={}).status_code == 201
    with client(pair.a, merchant) as on_a:
        again = on_a.post(SIMULATIONS, json=with_code(tokenized["securityCode"])).json()
    assert (again["status"], again["applicationTransactionCounter"]) == ("APPROVED", 1)


@pytest.mark.parametrize("mode", ["jwt", "hs256"])
def test_a_jwt_used_on_one_process_is_refused_on_the_other(pair: Pair, mode: str) -> None:
    with httpx.Client(base_url=pair.a.url) as on_a:
        request = on_a.build_request("POST", CUSTOMERS, json={})
        signed = next(pair.merchant.auth(mode).auth_flow(request))
        assert on_a.send(signed).status_code == 201
    # Signed for A's host: B's host differs only by port, which the JWT's
    # request-host claim carries but opentms does not bind (behind a proxy it
    # could not); the single-use record is what refuses it.
    headers = {
        "authorization": signed.headers["authorization"],
        "content-type": "application/json",
    }
    with httpx.Client(base_url=pair.b.url) as on_b:
        replay = on_b.post(CUSTOMERS, content=signed.content, headers=headers)
    assert replay.status_code == 401, replay.text
    assert replay.json()["errors"][0]["reason"] == "replayed_token"
