"""The results tables of bench/README.md, from bench/server/results/*.json.

    .venv/bin/python -m bench.server.report

Every benchmark calls this when it finishes. Only the block between
``<!-- server-bench:results:start -->`` and ``<!-- server-bench:results:end -->``
is rewritten (inside the server section, ``<!-- server-bench:start -->`` ...
``<!-- server-bench:end -->``, which is created when missing); the rest of
bench/README.md belongs to its other authors.
"""

from __future__ import annotations

import json
import statistics
from collections.abc import Callable
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results"
README = Path(__file__).resolve().parents[1] / "README.md"
SECTION = ("<!-- server-bench:start -->", "<!-- server-bench:end -->")
BLOCK = ("<!-- server-bench:results:start -->", "<!-- server-bench:results:end -->")
Result = dict[str, Any]
X = "\N{MULTIPLICATION SIGN}"


def _load(name: str) -> Result | None:
    path = RESULTS / f"{name}.json"
    return json.loads(path.read_text()) if path.exists() else None


def _when(result: Result) -> str:
    return f"{result['date']}, commit {result['commit']}"


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'s' if n != 1 else ''}"


def _verdict(met: bool) -> str:
    return "**met**" if met else "**missed**"


def _workers(config: Result) -> str:
    return str(config["workers"])


# Payment credentials per second, with the best worker count (issue 5).
CREDENTIAL_TARGETS = {"sqlite": 1_500, "postgresql": 1_000}


def _best(configs: list[Result], kind: str, key: str = "rate") -> Result:
    return max((c for c in configs if c["database"] == kind), key=lambda c: c[key])


def credentials_table(result: Result) -> list[str]:
    wrk = result["wrk"]
    lines = [
        f"**1. Payment credentials** (Visa customer token, CRYPTOGRAM; wrk -t{wrk['threads']} "
        f"-c{wrk['connections']}, {wrk['seconds']} s per run, median of "
        f"{len(result['configs'][0]['runs'])} runs; {_when(result)})",
        "",
        "| database | workers | requests/s | p50 ms | p99 ms | opentms CPU ms/credential "
        "| PostgreSQL CPU ms/credential | busiest process share | target |",
        "|---|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    for c in result["configs"]:
        best = c is _best(result["configs"], c["database"])
        target = CREDENTIAL_TARGETS[c["database"]]
        verdict = f"≥ {target:,}/s: {_verdict(c['rate'] >= target)}" if best else ""
        share = statistics.median(run["busiest_process_share"] for run in c["runs"])
        lines.append(
            f"| {c['database']} | {_workers(c)} | {c['rate']:,.0f} | {c['p50_ms']:.1f} "
            f"| {c['p99_ms']:.1f} | {c['server_cpu_ms']:.3f} | {c['postgres_cpu_ms']:.3f} "
            f"| {share:.0%} | {verdict} |"
        )
    return lines


def fixed_rate_table(result: Result) -> list[str]:
    load = result["load"]
    lines = [
        f"**2. Latency at a fixed rate** (payment credentials, {load['rate']} requests/s open "
        f"loop, {load['requests']:,} requests per run on {load['connections']} keep-alive "
        f"connections, median of {len(result['configs'][0]['runs'])} runs; {_when(result)})",
        "",
        "| database | workers | achieved requests/s | p50 ms | p99 ms | max ms "
        "| target p99 ≤ 15 ms |",
        "|---|---|---:|---:|---:|---:|---|",
    ]
    for c in result["configs"]:
        lines.append(
            f"| {c['database']} | {_workers(c)} | {c['rate']:.0f} | {c['p50_ms']:.2f} "
            f"| {c['p99_ms']:.2f} | {c['max_ms']:.1f} | {_verdict(c['p99_ms'] <= 15)} |"
        )
    return lines


def _identifier_configs(result: Result) -> list[tuple[int, str]]:
    """(workers, suffix of its figures) for each opentms configuration measured."""
    return [(n, "" if n == 1 else f"_{n}w") for n in result.get("workers", [1])]


def _best_identifier_ratio(result: Result) -> tuple[float, int]:
    return max((result[f"ratio{suffix}"], n) for n, suffix in _identifier_configs(result))


def identifiers_table(result: Result) -> list[str]:
    wrk = result["wrk"]
    lines = [
        f"**3. Instrument identifier creation**, a new card each time, against localstripe "
        f"creating card tokens in the same run (wrk -t{wrk['threads']} -c{wrk['connections']}, "
        f"{wrk['seconds']} s per run after a 2 s warm-up, every server fresh each run, median "
        f"of {len(result['runs'])} runs; {_when(result)})",
        "",
        f"| server | requests/s | p50 ms | p99 ms | {X} localstripe |",
        "|---|---:|---:|---:|---:|",
    ]
    for n, suffix in _identifier_configs(result):
        lines.append(
            f"| opentms (SQLite, {_plural(n, 'worker')}) | {result[f'opentms_rate{suffix}']:,.0f} "
            f"| {result[f'opentms_p50_ms{suffix}']:.1f} | {result[f'opentms_p99_ms{suffix}']:.1f} "
            f"| {result[f'ratio{suffix}']:.1f} |"
        )
    ratio, workers = _best_identifier_ratio(result)
    return [
        *lines,
        f"| localstripe (1 process) | {result['localstripe_rate']:,.0f} "
        f"| {result['localstripe_p50_ms']:.1f} | {result['localstripe_p99_ms']:.1f} | |",
        "",
        f"opentms / localstripe = **{ratio:.1f} {X}** with {_plural(workers, 'worker')} "
        f"(median of the per-run ratios); target ≥ 10 {X}: {_verdict(ratio >= 10)}.",
    ]


def floor_table(result: Result) -> list[str]:
    lines = [
        f"**4. Cryptographic floor**: {result['floor_ms'] * 1000:.0f} µs CPU per credential "
        f"(digest + HMAC signature check + cryptogram + JWE, in process, median of "
        f"{len(result['runs'])} runs; {_when(result)}), against the server's CPU per "
        "credential in benchmark 1:",
        "",
        f"| database | workers | opentms CPU µs/credential | {X} floor | with PostgreSQL's CPU "
        f"| target ≤ 5 {X} |",
        "|---|---|---:|---:|---:|---|",
    ]
    for c in result["comparisons"]:
        lines.append(
            f"| {c['database']} | {_workers(c)} | {c['server_cpu_ms'] * 1000:.0f} "
            f"| {c['ratio']:.1f} {X} | {c['ratio_with_database']:.1f} {X} "
            f"| {_verdict(c['ratio'] <= 5)} |"
        )
    return lines


def vault_table(result: Result) -> list[str]:
    load = result["load"]
    lines = [
        f"**5. The vault at scale** ({result['database']}; {load['requests']:,} retrievals of "
        f"random stored IIs and {load['requests']:,} creations per run at {load['rate']}/s, "
        f"1 worker, median of {load['runs']} runs; {_when(result)})",
        "",
        "| IIs stored | fill time s | bytes/II (II + network-token tables, indexes) "
        "| database bytes/II | retrieve p50 ms | retrieve p99 ms | create p50 ms "
        "| create p99 ms |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for s in result["sizes"]:
        lines.append(
            f"| {s['count']:,} | {s['fill_seconds']:.0f} | {s['bytes_per_ii']:,.0f} "
            f"| {s['database_bytes_per_ii']:,.0f} | {s['retrieve_p50_ms']:.2f} "
            f"| {s['retrieve_p99_ms']:.2f} | {s['create_p50_ms']:.2f} | {s['create_p99_ms']:.2f} |"
        )
    p50, p99 = result["retrieve_p50_ms_ratio"], result["retrieve_p99_ms_ratio"]
    lines += [
        "",
        f"Retrieve latency large / small: p50 {p50:.2f} {X}, p99 {p99:.2f} {X}; target ≤ 1.5 {X}: "
        f"{_verdict(p50 <= 1.5 and p99 <= 1.5)}. Create large / small: p50 "
        f"{result['create_p50_ms_ratio']:.2f} {X}, p99 {result['create_p99_ms_ratio']:.2f} {X}.",
    ]
    return lines


def _machine(m: Result) -> str:
    return (
        f"{m['cores']} cores ({m['cpu']}, KVM), {m['memory']} RAM; Python "
        f"{m['python']}, SQLite {m['sqlite']}, PostgreSQL {m['postgresql']} "
        f"(same host), {m['wrk']}"
    )


def _main_machine() -> Result | None:
    for name in ("credentials", "fixed_rate", "identifiers", "floor", "vault-sqlite"):
        result = _load(name)
        if result is not None:
            machine: Result = result["machine"]
            return machine
    return None


def machine_line() -> list[str]:
    main = _main_machine()
    return [] if main is None else [f"Machine: {_machine(main)}."]


TABLES: list[tuple[str, Callable[[Result], list[str]]]] = [
    ("credentials", credentials_table),
    ("fixed_rate", fixed_rate_table),
    ("identifiers", identifiers_table),
    ("floor", floor_table),
    ("vault-sqlite", vault_table),
    ("vault-postgresql", vault_table),
]


def _foreign(result: Result) -> list[float]:
    runs = [run for c in result.get("configs", []) for run in c["runs"]]
    runs += result.get("runs", []) if isinstance(result.get("runs"), list) else []
    runs += [run for size in result.get("sizes", []) for run in size["runs"]]
    return [run["foreign_load"] for run in runs if isinstance(run, dict) and "foreign_load" in run]


def summary() -> list[str]:
    """One line per target, with the figure it is judged on."""
    rows = []
    credentials, fixed, identifiers = (
        _load("credentials"),
        _load("fixed_rate"),
        _load("identifiers"),
    )
    floor = _load("floor")
    if credentials:
        measured = {c["database"] for c in credentials["configs"]}
        for kind, target in CREDENTIAL_TARGETS.items():
            if kind not in measured:
                continue
            best = _best(credentials["configs"], kind)
            rows.append(
                f"| payment credentials, {kind} | ≥ {target:,}/s (best worker count) "
                f"| {best['rate']:,.0f}/s ({_plural(best['workers'], 'worker')}) "
                f"| {_verdict(best['rate'] >= target)} |"
            )
    if fixed:
        worst = max(c["p99_ms"] for c in fixed["configs"])
        rows.append(
            f"| latency at 200 requests/s | p99 ≤ 15 ms | p99 ≤ {worst:.1f} ms in every "
            f"configuration | {_verdict(worst <= 15)} |"
        )
    if identifiers:
        ratio, workers = _best_identifier_ratio(identifiers)
        rows.append(
            f"| II creation against localstripe | ≥ 10 {X} | {ratio:.1f} {X} "
            f"({_plural(workers, 'worker')}) | {_verdict(ratio >= 10)} |"
        )
    if floor and floor["comparisons"]:
        best_ratio = min(c["ratio"] for c in floor["comparisons"])
        rows.append(
            f"| server CPU per credential | ≤ 5 {X} the floor "
            f"| {best_ratio:.1f} {X} at best | {_verdict(best_ratio <= 5)} |"
        )
    for vault in filter(None, (_load("vault-sqlite"), _load("vault-postgresql"))):
        worst = max(vault["retrieve_p50_ms_ratio"], vault["retrieve_p99_ms_ratio"])
        large, small = (size["count"] for size in reversed(vault["sizes"]))
        rows.append(
            f"| retrieve at {large:,} IIs against {small:,}, {vault['database']} | ≤ 1.5 {X} "
            f"| {worst:.2f} {X} (worse of p50, p99) | {_verdict(worst <= 1.5)} |"
        )
    if not rows:
        return []
    return ["| benchmark | target | figure | |", "|---|---|---|---|", *rows]


def results_block() -> str:
    lines = [BLOCK[0], *machine_line()]
    loads = [share for name, _ in TABLES if (r := _load(name)) for share in _foreign(r)]
    if loads:
        lines += [
            "",
            f"Largest foreign load during a measured run: {max(loads):.1%} of the machine "
            f"({len(loads)} runs).",
        ]
    lines += ["", *summary()]
    main = _main_machine()
    for name, table in TABLES:
        result = _load(name)
        if result is not None:
            lines += ["", *table(result)]
            if result["machine"] != main:
                lines += ["", f"(Measured on another machine: {_machine(result['machine'])}.)"]
    return "\n".join([*lines, BLOCK[1]])


def update_readme() -> None:
    text = README.read_text() if README.exists() else "# Benchmarks\n"
    if SECTION[0] not in text:
        text = text.rstrip("\n") + f"\n\n{SECTION[0]}\n## Server\n\n{BLOCK[0]}\n{BLOCK[1]}\n"
        text += f"{SECTION[1]}\n"
    head, _, rest = text.partition(BLOCK[0])
    _, _, tail = rest.partition(BLOCK[1])
    README.write_text(head + results_block() + tail)


if __name__ == "__main__":
    update_readme()
