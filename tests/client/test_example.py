"""``examples/credentials.py`` (the README's example) runs end to end against
a real ``opentms serve`` with a bundle from ``opentms merchants create``."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from tests.client.server import Served

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "credentials.py"


def run_example(*args: str) -> str:
    done = subprocess.run(
        [sys.executable, str(EXAMPLE), *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_the_example_prints_the_masked_token_and_eci(served: Served) -> None:
    output = run_example(str(served.bundle), "--base-url", served.url)
    assert re.search(r"^network token  489537X{6}[0-9]{4} \(visa\)$", output, re.M), output
    assert re.search(r"^ECI            07$", output, re.M), output
    assert re.search(r"^cryptogram     present$", output, re.M), output
    customer = re.search(r"^customer       ([0-9A-F]{32})$", output, re.M)
    assert customer, output
    # The clear token never reaches the output: only 6 + 4 digits of it (the
    # customer id is hex, and one in ten has 11 decimal digits in a row).
    assert not re.search(r"[0-9]{11,}", output.replace(customer[1], "")), output
    again = run_example(str(served.bundle), "--base-url", served.url, "--customer", customer[1])
    assert f"customer       {customer[1]}" in again
