"""One measurement of ``opentms.client`` (run by ``call_cpu.py``): ``--calls``
payment-credentials calls after ``--warmup`` ones; the process CPU time of
the calls (signing, serialisation, HTTP, response handling) to ``--out``."""

from __future__ import annotations

import argparse
import cProfile
import json
import pstats
import resource
import time
from pathlib import Path
from typing import cast

from opentms.client import Client, PaymentCredentialsRequest, TokenApi
from opentms.client._bundle import AuthMode


def main() -> None:
    parser = argparse.ArgumentParser()
    for name in ("bundle", "url", "token", "mode", "out"):
        parser.add_argument(f"--{name}", required=True)
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()

    client = Client.from_credentials_file(
        args.bundle, base_url=args.url, auth=cast(AuthMode, args.mode)
    )
    api = TokenApi(client)
    request = PaymentCredentialsRequest(payment_credential_type="CRYPTOGRAM")
    for _ in range(args.warmup):
        api.post_token_payment_credentials(args.token, request)
    profiler = cProfile.Profile() if args.profile else None
    if profiler:
        profiler.enable()
    usage = resource.getrusage(resource.RUSAGE_SELF)
    cpu, wall = time.process_time(), time.perf_counter()
    for _ in range(args.calls):
        jwe = api.post_token_payment_credentials(args.token, request)
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    after = resource.getrusage(resource.RUSAGE_SELF)
    user, system = after.ru_utime - usage.ru_utime, after.ru_stime - usage.ru_stime
    if profiler:
        profiler.disable()
        pstats.Stats(profiler).sort_stats("tottime").print_stats(25)
    assert jwe.count(".") == 4
    client.close()
    result = {
        "cpu_per_call": cpu / args.calls,
        "user_per_call": user / args.calls,
        "system_per_call": system / args.calls,
        "wall_per_call": wall / args.calls,
    }
    Path(args.out).write_text(json.dumps(result))


if __name__ == "__main__":
    main()
