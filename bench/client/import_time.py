"""Import time: ``python -c "import opentms.client"`` against the official
SDK's ``python -c "import CyberSource"``, each in its own interpreter (the
project venv, the SDK venv), alternating, median of ``--runs`` wall times.

    .venv/bin/python bench/client/import_time.py [--runs 21] [--profile]

Also measured: bare interpreter start-up (``-c pass``); a first use that
loads the models (``from opentms.client import Client, TokenApi,
PaymentCredentialsRequest``), which pulls in pydantic; and both again in a
"client-only" site holding just the client's dependencies (httpx, pydantic,
cryptography, jwcrypto and theirs), as ``pip install`` of the client alone
would: there httpx does not find click and rich, so it skips its CLI module.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PROJECT_PYTHON = ROOT / ".venv" / "bin" / "python"
SDK_PYTHON = Path(
    os.environ.get(
        "SDK_PYTHON",
        Path.home() / ".cache/opentms-conformance/python-sdk-0.0.80-py3.11/bin/python",
    )
)

CLIENT_DEPENDENCIES = ["httpx", "pydantic", "cryptography", "jwcrypto"]
FIRST_USE = "from opentms.client import Client, TokenApi, PaymentCredentialsRequest"


def _distributions(name: str, seen: dict[str, set[str]]) -> None:
    key = name.lower().replace("_", "-")
    if key in seen:
        return
    try:
        dist = importlib.metadata.distribution(name)
    except importlib.metadata.PackageNotFoundError:
        return  # excluded by its environment marker
    seen[key] = {
        file.parts[0]
        for file in dist.files or []
        if not file.parts[0].endswith((".dist-info", ".data"))
        and file.parts[0] not in ("..", "__pycache__")
    }
    for requirement in dist.requires or []:
        if ";" not in requirement or "extra" not in requirement.split(";", 1)[1]:
            _distributions(re.split(r"[ ;<>=!~\[(]", requirement, maxsplit=1)[0], seen)


def client_only_site(site: Path) -> Path:
    """Fill ``site`` with only the client's dependencies and ``opentms.client``."""
    seen: dict[str, set[str]] = {}
    for name in CLIENT_DEPENDENCIES:
        _distributions(name, seen)
    site_packages = Path(str(importlib.metadata.distribution("httpx").locate_file("")))
    for tops in seen.values():
        for top in tops:
            (site / top).symlink_to(site_packages / top)
    (site / "opentms").mkdir()
    (site / "opentms" / "__init__.py").write_text('__version__ = "0.1.0"\n')
    (site / "opentms" / "client").symlink_to(ROOT / "src" / "opentms" / "client")
    return site


def cases(site: Path) -> dict[str, tuple[Path, list[str], str]]:
    alone = f"import sys; sys.path.insert(0, {str(site)!r}); "
    return {
        "opentms: python -c pass": (PROJECT_PYTHON, [], "pass"),
        "sdk: python -c pass": (SDK_PYTHON, [], "pass"),
        "opentms: import opentms.client": (PROJECT_PYTHON, [], "import opentms.client"),
        "opentms: + models (first use)": (PROJECT_PYTHON, [], FIRST_USE),
        "client-only site: import opentms.client": (
            PROJECT_PYTHON,
            ["-S", "-I"],
            alone + "import opentms.client",
        ),
        "client-only site: + models (first use)": (PROJECT_PYTHON, ["-S", "-I"], alone + FIRST_USE),
        "sdk: import CyberSource": (SDK_PYTHON, [], "import CyberSource"),
    }


def wall_time(python: Path, flags: list[str], code: str) -> float:
    started = time.perf_counter()
    subprocess.run(
        [str(python), *flags, "-c", code],
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        cwd=ROOT,
    )
    return time.perf_counter() - started


def profile(python: Path, flags: list[str], code: str, top: int = 10) -> list[str]:
    """Import time by package: the self time of every module (``-X importtime``)
    summed per top-level package, slowest first."""
    done = subprocess.run(
        [str(python), *flags, "-X", "importtime", "-c", code],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )
    tops: dict[str, int] = {}
    for line in done.stderr.splitlines():
        parts = line.split("|")
        own = parts[0].rsplit(":", 1)[-1].strip()
        if len(parts) != 3 or not own.isdigit():
            continue
        package = parts[2].strip().split(".")[0]
        tops[package] = tops.get(package, 0) + int(own)
    ranked = sorted(tops.items(), key=lambda item: -item[1])[:top]
    return [f"{name:<24} {micros / 1000:7.1f} ms" for name, micros in ranked]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=21)
    parser.add_argument("--profile", action="store_true", help="also show -X importtime tops")
    args = parser.parse_args()
    if not SDK_PYTHON.exists():
        raise SystemExit(
            f"{SDK_PYTHON} is missing: run the conformance tests once, or set SDK_PYTHON"
        )

    with tempfile.TemporaryDirectory(prefix="opentms-client-site-") as directory:
        all_cases = cases(client_only_site(Path(directory)))
        for python, flags, code in all_cases.values():  # warm the file-system cache
            wall_time(python, flags, code)
        samples: dict[str, list[float]] = {name: [] for name in all_cases}
        for _ in range(args.runs):
            for name, (python, flags, code) in all_cases.items():
                samples[name].append(wall_time(python, flags, code))
    medians = {name: statistics.median(values) for name, values in samples.items()}

    print(f"Import time, median of {args.runs} runs (wall clock, whole interpreter):\n")
    print("| case | median | min | max |")
    print("|---|---|---|---|")
    for name, values in samples.items():
        print(
            f"| {name} | {medians[name] * 1000:.0f} ms | {min(values) * 1000:.0f} ms "
            f"| {max(values) * 1000:.0f} ms |"
        )
    ours = medians["opentms: import opentms.client"]
    with_models = medians["opentms: + models (first use)"]
    sdk = medians["sdk: import CyberSource"]
    print(f"\nratio import opentms.client / import CyberSource: {ours / sdk:.3f} (target <= 0.25)")
    print(f"ratio with the models loaded / import CyberSource: {with_models / sdk:.3f}")
    for name in (
        "client-only site: import opentms.client",
        "client-only site: + models (first use)",
    ):
        print(f"ratio {name} / import CyberSource: {medians[name] / sdk:.3f}")
    if args.profile:
        for name in ("opentms: + models (first use)", "sdk: import CyberSource"):
            python, flags, code = all_cases[name]
            print(f"\n-X importtime, self time by package, {name}:")
            for line in profile(python, flags, code):
                print(f"    {line}")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
