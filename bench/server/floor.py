"""Benchmark 4: the cryptographic floor of one payment credential, in process,
against the server's CPU time per credential measured by benchmark 1.

    .venv/bin/python -m bench.server.floor      (after bench.server.credentials)

Per credential the floor does what no server could skip: the Digest of the
body, the HMAC of the HTTP signature (verified), the cryptogram (EMV session
key from the token master key and the ATC, ISO 9797-1 MAC) and the JWE
(RSA-OAEP-256 wrap of a fresh key, A256GCM) of a payload of the server's size.
Timed with CPU time (``time.process_time``), as the server's figure is.
"""

from __future__ import annotations

import argparse
import json
import secrets
import time
from typing import Any

import orjson

from bench.server.harness import RESULTS, median, stop_on_sigterm, write_result
from opentms.crypto import certificates, cryptograms, signing
from opentms.crypto.jwe import encrypt_compact
from opentms.domain.network_token import TokenNetwork

# A payment-credentials answer of the shape and size the server seals.
PAYLOAD: dict[str, Any] = {
    "_links": {"self": {"href": "/tms/v2/tokens/" + "A" * 32 + "/payment-credentials"}},
    "tokenizedCard": {
        "state": "ACTIVE",
        "enrollmentId": "1" * 32,
        "tokenReferenceId": "DNITHE" + "1" * 26,
        "number": "4895370000000000",
        "expirationMonth": "12",
        "expirationYear": "2029",
        "type": "visa",
        "cryptogram": "EQAAAZLBZHAHuljwg4j8uAMAAAA=",
        "eci": "07",
        "requestorId": "40010030273",
        "paymentAccountReference": "V0010013019339934785743543743",
        "card": {"suffix": "1111", "expirationMonth": "12", "expirationYear": "2031"},
        "applicationTransactionCounter": "1",
    },
    "card": {"number": "411111XXXXXX1111", "type": "001"},
    "issuer": {"paymentAccountReference": "V0010013019339934785743543743"},
    "processingInformation": {"commerceIndicator": "internet"},
}


def one_credential(context: dict[str, Any], n: int) -> str:
    body = b'{"paymentCredentialType":"CRYPTOGRAM","clientCorrelationId":"%d"}' % n
    digest = "SHA-256=" + signing.body_digest(body)
    signing_string = f"host: 127.0.0.1\ndigest: {digest}\nv-c-merchant-id: bench"
    signature = signing.hmac_signature(context["secret"], signing_string)  # the client's part
    started = time.process_time()
    signing.verify_digest(body, digest.removeprefix("SHA-256="))
    signing.verify_hmac_signature(context["secret"], signing_string, signature)
    cryptogram = cryptograms.generate_cryptogram(
        context["tmk"],
        TokenNetwork.VISA,
        n % 65_536,
        secrets.token_bytes(4),
        context["data"],
        bound=True,
    )
    payload = {**PAYLOAD, "tokenizedCard": {**PAYLOAD["tokenizedCard"], "cryptogram": cryptogram}}
    sealed = encrypt_compact(
        context["pem"], "kid", orjson.dumps(payload), {"cty": "json", "typ": "JWT"}
    )
    context["cpu"] += time.process_time() - started
    return sealed


def measure(iterations: int) -> float:
    """Milliseconds of CPU per credential over ``iterations`` credentials."""
    key = certificates.generate_rsa_key()
    context: dict[str, Any] = {
        "secret": secrets.token_bytes(32),
        "tmk": cryptograms.derive_token_master_key(secrets.token_bytes(16), "4895370000000000"),
        "data": cryptograms.TransactionData(0, "000", cryptograms.merchant_reference("bench")),
        "pem": certificates.public_key_pem(key.public_key()),
        "cpu": 0.0,
    }
    for n in range(200):  # warm-up: caches (the loaded public key) as the server has them
        one_credential(context, n)
    context["cpu"] = 0.0
    for n in range(iterations):
        one_credential(context, n)
    return float(context["cpu"]) * 1000 / iterations


def main() -> None:
    stop_on_sigterm()
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--iterations", type=int, default=2_000)
    args = parser.parse_args()
    runs = [measure(args.iterations) for _ in range(args.runs)]
    floor = median(runs)
    print(f"cryptographic floor: {floor:.3f} ms CPU per credential (runs: {runs})")
    comparisons = []
    source = RESULTS / "credentials.json"
    if source.exists():
        for config in json.loads(source.read_text())["configs"]:
            server = config["server_cpu_ms"]
            with_db = server + config["postgres_cpu_ms"]
            comparisons.append(
                {
                    "database": config["database"],
                    "workers": config["workers"],
                    "server_cpu_ms": server,
                    "with_database_cpu_ms": with_db,
                    "ratio": server / floor,
                    "ratio_with_database": with_db / floor,
                }
            )
            print(f"  {config['database']} workers={config['workers']}: {server / floor:.1f} x")
    write_result("floor", {"floor_ms": floor, "runs": runs, "comparisons": comparisons})


if __name__ == "__main__":
    main()
