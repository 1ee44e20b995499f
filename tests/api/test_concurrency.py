"""Payment credentials and authorisations under concurrency: one token, many
threads, each with its own client, all on the session's SQLite database
(DESIGN.md decisions 5 and 7: the ATC is taken atomically in the database, and
the database decides that a cryptogram is accepted once)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TypeVar

import httpx
import pytest
from starlette.applications import Starlette

from tests.api.factories import JSON
from tests.api.tokens_support import (
    MASTERCARD,
    SIMULATIONS,
    VISA,
    Network,
    approved,
    authorize,
    create_ii,
    credentials_path,
    declined,
    network_params,
    open_credentials,
    presentation,
    signed_client,
)
from tests.support import Merchant

N = 16
_T = TypeVar("_T")


def in_parallel(
    app: Starlette, merchant: Merchant, jobs: list[Callable[[httpx.Client], _T]]
) -> list[_T]:
    """Run each job on its own thread with its own client, all released at
    once; return the results in job order (re-raising any thread's failure)."""
    barrier = threading.Barrier(len(jobs))
    results: list[_T | None] = [None] * len(jobs)
    errors: list[BaseException] = []

    def run(index: int, job: Callable[[httpx.Client], _T]) -> None:
        try:
            with signed_client(app, merchant) as client:
                barrier.wait(timeout=30)
                results[index] = job(client)
        except BaseException as exc:  # reported below, in the test's thread
            errors.append(exc)
            barrier.abort()

    threads = [
        threading.Thread(target=run, args=(index, job), name=f"job-{index}")
        for index, job in enumerate(jobs)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads)
    if errors:
        raise errors[0]
    assert all(result is not None for result in results)
    return [result for result in results if result is not None]


def post_credentials(token_id: str) -> Callable[[httpx.Client], httpx.Response]:
    def job(client: httpx.Client) -> httpx.Response:
        return client.post(credentials_path(token_id), json={})

    return job


def post_authorization(tokenized: JSON) -> Callable[[httpx.Client], httpx.Response]:
    def job(client: httpx.Client) -> httpx.Response:
        return client.post(SIMULATIONS, json=presentation(tokenized))

    return job


@pytest.mark.parametrize("network", network_params([VISA, MASTERCARD]))
def test_parallel_credentials_get_distinct_atcs_and_are_approved_once(
    app: Starlette, client: httpx.Client, merchant: Merchant, network: Network
) -> None:
    ii = create_ii(client, network.new_pan())
    responses = in_parallel(app, merchant, [post_credentials(ii["id"])] * N)
    issued = [open_credentials(response, merchant)["tokenizedCard"] for response in responses]
    cryptograms = {tokenized["cryptogram"] for tokenized in issued}
    assert len(cryptograms) == N
    if network == VISA:
        atcs = {int(tokenized["applicationTransactionCounter"]) for tokenized in issued}
        assert atcs == set(range(1, N + 1))

    # Each cryptogram presented twice at the same time: one wins, one is a replay.
    jobs = [post_authorization(tokenized) for tokenized in issued for _ in range(2)]
    answers = in_parallel(app, merchant, jobs)
    assert [answer.status_code for answer in answers] == [200] * len(jobs)
    decisions = [answer.json() for answer in answers]
    seen_atcs = set()
    for index, tokenized in enumerate(issued):
        pair = decisions[2 * index : 2 * index + 2]
        atc = pair[0]["applicationTransactionCounter"]
        assert pair[1]["applicationTransactionCounter"] == atc
        assert sorted(pair, key=lambda decision: decision["status"]) == [
            approved(network, atc),
            declined("REPLAYED_CRYPTOGRAM", network, atc),
        ], tokenized["cryptogram"]
        if network == VISA:
            assert atc == int(tokenized["applicationTransactionCounter"])
        seen_atcs.add(atc)
    assert seen_atcs == set(range(1, N + 1))

    # And once more, one after the other: every one of them is used up.
    for tokenized in issued:
        decision = authorize(client, tokenized)
        assert decision["status"] == "DECLINED"
        assert decision["reason"] == "REPLAYED_CRYPTOGRAM"


def test_parallel_credentials_on_several_tokens(
    app: Starlette, client: httpx.Client, merchant: Merchant
) -> None:
    """Counters are per token: four tokens, four calls each, all at once."""
    tokens = [create_ii(client, VISA.new_pan())["id"] for _ in range(4)]
    jobs = [post_credentials(token) for token in tokens for _ in range(4)]
    responses = in_parallel(app, merchant, jobs)
    by_token: dict[str, set[str]] = {}
    for job_index, response in enumerate(responses):
        tokenized = open_credentials(response, merchant)["tokenizedCard"]
        token = tokens[job_index // 4]
        by_token.setdefault(token, set()).add(tokenized["applicationTransactionCounter"])
    assert by_token == {token: {"1", "2", "3", "4"} for token in tokens}
