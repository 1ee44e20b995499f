"""A data-key rotation while a real two-worker ``opentms serve`` answers a
steady stream of reads and writes of the merchant being rotated: no request
fails, and afterwards every value of the merchant is under the new key
(read raw from the database). On the suite's backend."""

from __future__ import annotations

import threading
from pathlib import Path

import httpx
from click.testing import CliRunner

from opentms.bootstrap import build_services, open_database
from opentms.cli.main import main
from opentms.domain.merchant import WrappedKeys
from tests.api.factories import CUSTOMERS, II, PI
from tests.conftest import make_settings
from tests.sandbox.served import serve
from tests.storage.vault_support import key_ids, merchant_row
from tests.support import Merchant, backend_database_url, make_pan

CARD = {"expirationMonth": "12", "expirationYear": "2031", "type": "001"}


def load(
    client: httpx.Client, stop: threading.Event, failures: list[str], counts: list[int]
) -> None:
    """Create a card, read it, store it again (the same id), add a payment
    instrument for it and read a customer, until told to stop."""
    customer = client.post(CUSTOMERS, json={"buyerInformation": {"email": "a@example.com"}})
    if customer.status_code != 201:
        failures.append(f"customer: {customer.status_code} {customer.text}")
        return
    customer_id = customer.json()["id"]
    while not stop.is_set():
        pan = make_pan()
        steps: list[tuple[str, httpx.Response, int]] = []
        created = client.post(II, json={"card": {"number": pan}})
        steps.append(("create", created, 201))
        if created.status_code == 201:
            ii_id = created.json()["id"]
            steps.append(("read", client.get(f"{II}/{ii_id}"), 200))
            again = client.post(II, json={"card": {"number": pan}})
            steps.append(("again", again, 200))
            if again.status_code == 200 and again.json()["id"] != ii_id:
                failures.append(f"same card, other id: {again.json()['id']} != {ii_id}")
            body = {"card": CARD, "instrumentIdentifier": {"id": ii_id}}
            steps.append(("pi", client.post(PI, json=body), 201))
            steps.append(("customer", client.get(f"{CUSTOMERS}/{customer_id}"), 200))
        for name, response, expected in steps:
            counts.append(1)
            if response.status_code != expected:
                failures.append(f"{name}: {response.status_code} {response.text[:200]}")


def test_a_rotation_under_load_fails_no_request(tmp_path: Path) -> None:
    with backend_database_url("opentms_dk_served") as url:
        settings = make_settings(tmp_path / "data", database_url=url, mode="vault")
        services = build_services(settings)
        try:
            merchant = Merchant(services.merchants.register("rotated_live"))
        finally:
            services.close()
        environment = {"OPENTMS_MODE": "vault"}
        with serve(tmp_path, workers=2, database_url=url, environment=environment) as served:
            client = httpx.Client(base_url=served.url, auth=merchant.signature_auth(), timeout=30)
            with client:
                for _ in range(20):  # enough for several batches of 5
                    made = client.post(II, json={"card": {"number": make_pan()}})
                    assert made.status_code == 201, made.text
                database = open_database(settings, upgrade=False)
                try:
                    before = merchant_row(database, merchant.id)
                    old_key = database.keyring.open(
                        merchant.id,
                        WrappedKeys(
                            bytes(before.data_key_wrapped), bytes(before.fingerprint_key_wrapped)
                        ),
                    ).data_key.key_id
                    stop = threading.Event()
                    failures: list[str] = []
                    counts: list[int] = []
                    threads = [
                        threading.Thread(target=load, args=(client, stop, failures, counts))
                        for _ in range(4)
                    ]
                    for thread in threads:
                        thread.start()
                    try:
                        env = {"OPENTMS_MODE": "vault"}
                        if url:
                            env["OPENTMS_DATABASE_URL"] = url
                        rotated = CliRunner().invoke(
                            main,
                            [
                                "merchants",
                                "rotate-data-key",
                                merchant.id,
                                "--grace-seconds=1",
                                "--batch-size=5",
                                f"--data-dir={settings.data_dir}",
                            ],
                            env=env,
                        )
                        during = len(counts)
                        # A few more rounds once it is done: the new key serves on.
                        while len(counts) < during + 40 and not failures:
                            stop.wait(0.05)
                    finally:
                        stop.set()
                        for thread in threads:
                            thread.join()
                    assert rotated.exit_code == 0, rotated.output
                    assert "data key rotated" in rotated.output
                    assert failures == []
                    assert during > 0
                    after = merchant_row(database, merchant.id)
                    assert after.previous_data_keys is None
                    assert old_key not in key_ids(database, merchant.id)
                    assert len(key_ids(database, merchant.id)) == 1
                finally:
                    database.close()


def test_a_shredding_is_seen_by_every_server_process_at_once(tmp_path: Path) -> None:
    """Shredded while a two-worker server runs: the very next requests with
    the merchant's credentials are refused by whichever worker answers,
    and the other merchant is served as before."""
    with backend_database_url("opentms_shred_served") as url:
        settings = make_settings(tmp_path / "data", database_url=url, mode="vault")
        services = build_services(settings)
        try:
            merchant = Merchant(services.merchants.register("shred_live"))
            other = Merchant(services.merchants.register("kept_live"))
        finally:
            services.close()
        with serve(
            tmp_path, workers=2, database_url=url, environment={"OPENTMS_MODE": "vault"}
        ) as served:
            shredded = httpx.Client(base_url=served.url, auth=merchant.signature_auth(), timeout=30)
            kept = httpx.Client(base_url=served.url, auth=other.signature_auth(), timeout=30)
            with shredded, kept:
                ii = shredded.post(II, json={"card": {"number": make_pan()}})
                assert ii.status_code == 201, ii.text
                kept_ii = kept.post(II, json={"card": {"number": make_pan()}})
                assert kept_ii.status_code == 201, kept_ii.text
                # Both workers have the merchant's keys cached by now.
                for _ in range(20):
                    assert shredded.get(f"{II}/{ii.json()['id']}").status_code == 200
                env = {"OPENTMS_MODE": "vault"}
                if url:
                    env["OPENTMS_DATABASE_URL"] = url
                done = CliRunner().invoke(
                    main,
                    [
                        "merchants",
                        "delete",
                        merchant.id,
                        "--shred",
                        "--yes",
                        f"--data-dir={settings.data_dir}",
                    ],
                    env=env,
                )
                assert done.exit_code == 0, done.output
                for _ in range(20):
                    assert shredded.get(f"{II}/{ii.json()['id']}").status_code == 401
                    assert (
                        shredded.post(II, json={"card": {"number": make_pan()}}).status_code == 401
                    )
                    assert kept.get(f"{II}/{kept_ii.json()['id']}").status_code == 200
