"""Every ``examples/*.py`` explains itself in full with ``--help`` and runs,
as each usage line of its docstring says, against a fresh server with a
bundle from ``opentms merchants create``.

An example that imports the official SDK (``CyberSource``) runs with the
conformance tests' SDK virtualenv, linked in as ``sdk`` as the README has it,
and is marked like those tests. In a usage line ``ID`` stands for the customer
id an earlier run printed, and ``--base-url`` is added when the line leaves it
to its default (the documented 127.0.0.1:8080).
"""

from __future__ import annotations

import ast
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conformance.server import opentms_executable
from tests.docs.conftest import REPOSITORY, Workspace, workspace

EXAMPLES = sorted((REPOSITORY / "examples").glob("*.py"))
USAGE = re.compile(r"^\s+(\S+/bin/python) (examples/\S+\.py)(.*)$", re.M)
CUSTOMER = re.compile(r"^customer\s+([0-9A-F]{32})\b", re.M)
MASKED_TOKEN = re.compile(r"^network token\s+[0-9]{6}X{6,9}[0-9]{4}\b", re.M)


def needs_sdk(example: Path) -> bool:
    return bool(re.search(r"^(from|import) CyberSource\b", example.read_text(), re.M))


def docstring(example: Path) -> str:
    text = ast.get_docstring(ast.parse(example.read_text()))
    assert text, f"{example.name} has no docstring"
    return text


def params() -> Iterator[object]:
    assert EXAMPLES, "no examples found"
    for example in EXAMPLES:
        marks = [pytest.mark.conformance] if needs_sdk(example) else []
        yield pytest.param(example, id=example.name, marks=marks)


@pytest.fixture(scope="module")
def examples_workspace(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Workspace]:
    with workspace(tmp_path_factory.mktemp("examples")) as ws:
        create = ["merchants", "create", "acme", "--out", "credentials", "--server-url", ws.url]
        created = ws.run([".venv/bin/opentms", *create])
        assert created.returncode == 0, ws.failure("opentms merchants create", created)
        yield ws


def interpreter(example: Path, request: pytest.FixtureRequest) -> Path:
    if needs_sdk(example):
        python: Path = request.getfixturevalue("official_sdk_python")
        return python
    return opentms_executable().parent / "python"


@pytest.mark.parametrize("example", list(params()))
def test_help_gives_the_whole_description(example: Path, request: pytest.FixtureRequest) -> None:
    done = subprocess.run(
        [str(interpreter(example, request)), "-W", "ignore::UserWarning", str(example), "--help"],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert " ".join(docstring(example).split()) in " ".join(done.stdout.split()), done.stdout


@pytest.mark.parametrize("example", list(params()))
def test_every_usage_line_runs(
    example: Path, examples_workspace: Workspace, request: pytest.FixtureRequest
) -> None:
    ws = examples_workspace
    lines = [u for u in USAGE.finditer(docstring(example)) if u[2] == f"examples/{example.name}"]
    assert lines, f"{example.name}: its docstring shows no usage line"
    if needs_sdk(example):
        ws.link_sdk(interpreter(example, request))
    printed = ""
    for usage in lines:
        python, args = usage[1], ws.localise(usage[3]).split()
        assert python == ("sdk/bin/python" if needs_sdk(example) else ".venv/bin/python")
        if "--base-url" not in args:
            args += ["--base-url", ws.url]
        if "ID" in args:
            customers = CUSTOMER.findall(printed)
            assert customers, f"{usage[0].strip()}: no customer id printed before"
            args = [customers[-1] if arg == "ID" else arg for arg in args]
        done = ws.run([python, "-W", "ignore::UserWarning", usage[2], *args])
        assert done.returncode == 0, ws.failure(usage[0].strip(), done)
        assert MASKED_TOKEN.search(done.stdout), done.stdout
        printed += done.stdout
