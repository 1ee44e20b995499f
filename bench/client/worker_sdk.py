"""One measurement of the official CyberSource Python SDK (run by
``call_cpu.py`` with the SDK venv's interpreter): the same calls as
``worker_opentms.py``, configured from the same bundle as the SDK's users
would (``tests/conformance/python_sdk_driver.py``). Standard library + SDK only."""

from __future__ import annotations

import argparse
import cProfile
import json
import pstats
import resource
import time
from pathlib import Path
from typing import Any

from CyberSource import NetworkTokensApi  # type: ignore[import-not-found]


def config_for(mode: str, bundle_path: Path, url: str) -> dict[str, Any]:
    bundle = json.loads(bundle_path.read_text())
    config: dict[str, Any] = {
        "merchantid": bundle["merchantId"],
        "run_environment": url.split("://", 1)[1],
        "IntermediateHost": url,
    }
    if mode == "signature":
        config |= {
            "authentication_type": "http_signature",
            "merchant_keyid": bundle["httpSignature"]["keyId"],
            "merchant_secretkey": bundle["httpSignature"]["sharedSecret"],
        }
    elif mode == "jwt":
        jwt = bundle["jwt"]
        config |= {
            "authentication_type": "jwt",
            "keys_directory": str(bundle_path.parent),
            "key_file_name": str(jwt["p12File"]).removesuffix(".p12"),
            "key_alias": jwt["keyAlias"],
            "key_password": jwt["p12Password"],
        }
    else:
        raise SystemExit(f"unknown mode {mode}")
    return config


def main() -> None:
    parser = argparse.ArgumentParser()
    for name in ("bundle", "url", "token", "mode", "out"):
        parser.add_argument(f"--{name}", required=True)
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()

    api = NetworkTokensApi(config_for(args.mode, Path(args.bundle), args.url))
    body = json.dumps({"paymentCredentialType": "CRYPTOGRAM"})
    for _ in range(args.warmup):
        api.post_token_payment_credentials(args.token, body)
    profiler = cProfile.Profile() if args.profile else None
    if profiler:
        profiler.enable()
    usage = resource.getrusage(resource.RUSAGE_SELF)
    cpu, wall = time.process_time(), time.perf_counter()
    for _ in range(args.calls):
        data, status, _ = api.post_token_payment_credentials(args.token, body)
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    after = resource.getrusage(resource.RUSAGE_SELF)
    user, system = after.ru_utime - usage.ru_utime, after.ru_stime - usage.ru_stime
    if profiler:
        profiler.disable()
        pstats.Stats(profiler).sort_stats("tottime").print_stats(25)
    assert status == 201
    assert str(data).count(".") == 4
    result = {
        "cpu_per_call": cpu / args.calls,
        "user_per_call": user / args.calls,
        "system_per_call": system / args.calls,
        "wall_per_call": wall / args.calls,
    }
    Path(args.out).write_text(json.dumps(result))


if __name__ == "__main__":
    main()
