"""Deterministic mode: fresh `opentms serve --deterministic SEED` servers fed
the same requests, one after another, answer the same ids, token numbers,
token reference ids, PARs, enrollment ids and generated keys; with one
worker or two; a different seed answers others. The randomness port itself
is tested here too."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from opentms.client import HTTPSignatureAuth
from opentms.domain import ids, randomness
from opentms.domain.randomness import DeterministicSource, ProcessCounter
from tests.sandbox.served import Served
from tests.sandbox.served import serve as serve_sandbox
from tests.support import backend_database_url

_MOMENT = re.compile(r"^\d{4}-\d{2}-\d{2}T[\d:.]+Z?$")


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[Any]:
    """Starts `opentms serve` subprocesses with the given options, each on a
    database of its own; stops them (and drops their schemas) after."""
    with contextlib.ExitStack() as stack:
        started: list[Served] = []

        def start(*options: str, workers: int = 1) -> Served:
            root = tmp_path / f"server-{len(started)}"
            root.mkdir()
            database_url = stack.enter_context(backend_database_url("opentms_det"))
            started.append(
                stack.enter_context(
                    serve_sandbox(root, workers=workers, database_url=database_url, options=options)
                )
            )
            return started[-1]

        yield start


def scenario(server: Served) -> list[Any]:
    """The same requests, one after another: a merchant, an instrument
    identifier, a customer with a payment instrument, a standalone payment
    instrument and a tokenized card. Answers every body, times left out."""
    answers: list[Any] = []
    admin = {"authorization": f"Bearer {server.admin_token}"}
    bundle = httpx.post(
        f"{server.url}/opentms/v1/sandbox/merchants",
        json={"merchantId": "deterministic"},
        headers=admin,
        timeout=30,
    )
    assert bundle.status_code == 201, bundle.text
    registered = bundle.json()
    answers.append(
        {
            "defaultProfileId": registered["defaultProfileId"],
            "httpSignature": registered["httpSignature"],
        }
    )
    auth = HTTPSignatureAuth(
        "deterministic",
        registered["httpSignature"]["keyId"],
        registered["httpSignature"]["sharedSecret"],
    )
    with httpx.Client(base_url=server.url, auth=auth, timeout=30) as client:
        card = {"card": {"number": "4111111111111111", "expirationMonth": "12"}}
        ii = client.post("/tms/v1/instrumentidentifiers", json=card)
        assert ii.status_code == 200 or ii.status_code == 201, ii.text
        answers.append(ii.json())
        customer = client.post("/tms/v2/customers", json={"buyerInformation": {"email": "a@b.c"}})
        assert customer.status_code == 201, customer.text
        answers.append(customer.json())
        customer_id = customer.json()["id"]
        pi_body = {
            "card": {"expirationMonth": "11", "expirationYear": "2032"},
            "instrumentIdentifier": {"card": {"number": "5555555555554444"}},
        }
        pi = client.post(f"/tms/v2/customers/{customer_id}/payment-instruments", json=pi_body)
        assert pi.status_code == 201, pi.text
        answers.append(pi.json())
        ii_id = pi.json()["instrumentIdentifier"]["id"]
        answers.append(client.get(f"/tms/v1/instrumentidentifiers/{ii_id}").json())
        standalone = client.post(
            "/tms/v1/paymentinstruments",
            json={"instrumentIdentifier": {"card": {"number": "378282246310005"}}},
        )
        assert standalone.status_code == 201, standalone.text
        answers.append(standalone.json())
        tokenized = client.post(
            "/tms/v2/tokenized-cards",
            json={
                "card": {
                    "number": "6011111111111117",
                    "expirationMonth": "10",
                    "expirationYear": "2031",
                }
            },
        )
        assert tokenized.status_code in (200, 201), tokenized.text
        answers.append(tokenized.json())
    return [_without_times(answer) for answer in answers]


def _without_times(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _without_times(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_without_times(item) for item in value]
    if isinstance(value, str) and _MOMENT.match(value):
        return "<time>"
    return value


def _ids(answers: list[Any]) -> list[str]:
    """The token ids answered, in order."""
    found: list[str] = []

    def walk(value: Any) -> None:
        if isinstance(value, dict):
            for key, item in value.items():
                if key == "id" and isinstance(item, str):
                    found.append(item)
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    walk(answers)
    return found


def test_two_fresh_servers_with_one_seed_answer_the_same(serve: Any) -> None:
    first = scenario(serve("--deterministic=alpha"))
    second = scenario(serve("--deterministic=alpha"))
    assert first == second
    assert len(set(_ids(first))) >= 8
    tokenized = first[-1]
    assert tokenized["tokenReferenceId"]
    assert tokenized["id"]


def test_two_workers_answer_what_one_worker_does(serve: Any) -> None:
    one = scenario(serve("--deterministic=alpha"))
    two = scenario(serve("--deterministic=alpha", workers=2))
    also_two = scenario(serve("--deterministic=alpha", workers=2))
    assert two == also_two
    assert one == two


def test_another_seed_answers_other_ids(serve: Any) -> None:
    alpha = _ids(scenario(serve("--deterministic=alpha")))
    beta = _ids(scenario(serve("--deterministic=beta")))
    assert not set(alpha) & set(beta)


def test_without_a_seed_ids_differ(serve: Any) -> None:
    assert set(_ids(scenario(serve()))).isdisjoint(_ids(scenario(serve())))


def test_a_seed_file_and_deterministic_mode_together(serve: Any, tmp_path: Path) -> None:
    seed_file = tmp_path / "seed.yaml"
    seed_file.write_text(
        "merchants:\n  - merchantId: seeded\n    keyId: seeded-key\n"
        "    sharedSecret: AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n"
        "    paymentInstruments:\n      - instrumentIdentifier:\n"
        "          card: {number: '4111111111111111'}\n"
    )
    answers = []
    for _ in range(2):
        server = serve("--deterministic=gamma", f"--seed={seed_file}", workers=2)
        auth = HTTPSignatureAuth(
            "seeded", "seeded-key", "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
        )
        with httpx.Client(base_url=server.url, auth=auth, timeout=30) as client:
            customer = client.post("/tms/v2/customers", json={})
            assert customer.status_code == 201, customer.text
            answers.append(customer.json()["id"])
    assert answers[0] == answers[1]


# The port itself -------------------------------------------------------------------------


def test_a_deterministic_source_replays_after_restart() -> None:
    counter = ProcessCounter()
    source = DeterministicSource("seed", counter)
    previous = randomness.install(source)
    try:
        first = [ids.new_token_id(), ids.new_instrument_identifier_id()]
        source.restart()
        again = [ids.new_token_id(), ids.new_instrument_identifier_id()]
    finally:
        randomness.install(previous)
    assert first == again
    assert ids.is_token_id(first[0])
    assert ids.is_instrument_identifier_id(first[1])
    assert ids.new_token_id() != first[0]


def test_named_draws_do_not_move_the_stream() -> None:
    counter = ProcessCounter()
    source = DeterministicSource("seed", counter)
    assert source.named_bytes("x", 48) == DeterministicSource("seed", ProcessCounter()).named_bytes(
        "x", 48
    )
    assert len(source.named_bytes("x", 48)) == 48
    assert counter.next() == 1


def test_the_file_counter_is_shared(tmp_path: Path) -> None:
    from opentms.adapters.storage.random_counter import FileCounter

    path = tmp_path / "counter"
    one, two = FileCounter(path), FileCounter(path)
    assert [one.next(), two.next(), one.next()] == [1, 2, 3]
    two.restart()
    assert one.next() == 1
