"""Every snippet of README.md runs, top to bottom, against a fresh server.

The shell and Python snippets run in README order in one working directory
laid out as the README assumes, against an ``opentms serve`` started as the
quick start starts it (``tests/docs/conftest.py``); the documented address
``127.0.0.1:8080`` is replaced by the server's. A snippet that fails fails its
test; later snippets may depend on earlier ones (the merchant the first one
registers), so run the module as a whole. Snippets that use the official SDK
run with the conformance tests' SDK virtualenv and are marked like them. The
few that are not run are listed in ``NOT_RUN`` with the reason, and must still
be in the README word for word.
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conformance.server import opentms_executable, server_environment
from tests.conformance.test_python_sdk import SDK_REQUIREMENTS
from tests.docs.conftest import REPOSITORY, Workspace, workspace

README = REPOSITORY / "README.md"
FENCE = re.compile(r"^```(\w*)\n(.*?)^```$", re.M | re.S)

NOT_RUN = {
    "python3 -m venv .venv && .venv/bin/pip install -q . && .venv/bin/opentms serve\n": (
        "the quick start: the tests start `.venv/bin/opentms serve` the same way"
    ),
    "./scripts/test\n": "the test command itself",
    "python3 -m venv .venv-client && .venv-client/bin/pip install -q ./clients/python\n": (
        "the client-only install: tests/client/test_distribution.py builds and uses it"
    ),
    "python3 -m venv sdk && sdk/bin/pip install -q cybersource-rest-client-python==0.0.80"
    " setuptools==81.0.0\n": (
        "the SDK's virtualenv: the conformance tests build it with these pins "
        "(test_the_sdk_virtualenv_is_the_conformance_tests_one)"
    ),
}
NOT_RUN[
    "python3 -m venv suite && suite/bin/pip install -q . pytest "
    "cybersource-rest-client-python==0.0.80 setuptools==81.0.0\n"
] = (
    "the plugin's virtualenv: sdk_with_opentms (tests/docs/conftest.py) makes the same "
    "one out of the SDK's and the project's"
)
# The admin endpoints the README's pytest example needs; built on other branches than the
# plugin: until they are merged, a GET there answers 404 and the example is skipped.
POSTGRESQL_SETUP = "# a throw-away server, for example with Docker:\n"  # needs Docker or root


@dataclass(frozen=True)
class Snippet:
    line: int
    language: str
    code: str

    @property
    def id(self) -> str:
        return f"README.md:{self.line}-{self.language}"

    @property
    def needs_sdk(self) -> bool:
        return "sdk/bin/" in self.code or "import CyberSource" in self.code or self.is_test_file

    @property
    def is_test_file(self) -> bool:
        """A test file for pytest and the opentms plugin (run by pytest)."""
        return self.language == "python" and "\ndef test_" in self.code


def snippets() -> list[Snippet]:
    text = README.read_text()
    return [
        Snippet(text.count("\n", 0, match.start()) + 1, match[1], match[2])
        for match in FENCE.finditer(text)
    ]


def runnable() -> Iterator[object]:
    for snippet in snippets():
        if snippet.code in NOT_RUN or snippet.code.startswith(POSTGRESQL_SETUP):
            continue
        marks = [pytest.mark.conformance] if snippet.needs_sdk else []
        yield pytest.param(snippet, id=snippet.id, marks=marks)


@pytest.fixture(scope="module")
def readme_workspace(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Workspace]:
    with workspace(tmp_path_factory.mktemp("readme")) as ws:
        yield ws


@pytest.mark.parametrize("snippet", list(runnable()))
def test_the_snippet_runs(
    snippet: Snippet, readme_workspace: Workspace, request: pytest.FixtureRequest
) -> None:
    ws = readme_workspace
    if snippet.needs_sdk:
        ws.link_sdk(request.getfixturevalue("official_sdk_python"))
    if snippet.is_test_file:
        run_test_file(snippet, ws, request.getfixturevalue("sdk_with_opentms"))
        return
    code = ws.localise(snippet.code)
    if snippet.language == "sh":
        done = ws.run(["bash", "-euo", "pipefail", "-c", code])
    elif snippet.language == "python":
        script = ws.directory / f"readme_{snippet.line}.py"
        script.write_text(code)
        python = "sdk/bin/python" if snippet.needs_sdk else ".venv/bin/python"
        done = ws.run([python, "-W", "ignore::UserWarning", script.name])
    else:
        pytest.fail(f"{snippet.id}: a ```{snippet.language} snippet: run it here or list it")
    assert done.returncode == 0, ws.failure(snippet.id, done)
    if snippet.language == "python":
        assert done.stdout.strip(), f"{snippet.id} printed nothing"


def run_test_file(snippet: Snippet, ws: Workspace, python: Path) -> None:
    """pytest over the snippet, with the plugin starting a sandbox of its own."""
    script = ws.directory / f"test_readme_{snippet.line}.py"
    script.write_text(snippet.code)
    done = ws.run([str(python), "-m", "pytest", "-q", "-p", "no:cacheprovider", script.name])
    assert done.returncode == 0, ws.failure(snippet.id, done)
    assert re.search(r"\b2 passed\b", done.stdout), done.stdout


def test_what_is_not_run_is_still_in_the_readme() -> None:
    codes = [snippet.code for snippet in snippets()]
    for code in NOT_RUN:
        assert code in codes, f"NOT_RUN lists a snippet the README no longer has:\n{code}"
    assert any(code.startswith(POSTGRESQL_SETUP) for code in codes)


def test_the_sdk_virtualenv_is_the_conformance_tests_one() -> None:
    (command,) = [code for code in NOT_RUN if "sdk/bin/pip" in code]
    assert command.split()[-len(SDK_REQUIREMENTS) :] == list(SDK_REQUIREMENTS)


def test_the_plugins_virtualenv_pins_the_sdk_as_the_conformance_tests() -> None:
    (command,) = [code for code in NOT_RUN if "suite/bin/pip" in code]
    assert command.split()[-len(SDK_REQUIREMENTS) :] == list(SDK_REQUIREMENTS)


def test_the_bundle_table_lists_every_file_written(tmp_path: Path) -> None:
    section = README.read_text().split("## Register a merchant", 1)[1].split("\n## ", 1)[0]
    listed = re.findall(r"^\| `credentials/([^`]+)` \|", section, re.M)
    env = server_environment() | {"OPENTMS_DATA_DIR": str(tmp_path / "data")}
    subprocess.run(
        [str(opentms_executable()), "merchants", "create", "acme", "--out", "credentials"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        timeout=60,
        check=True,
    )
    written = sorted(path.name for path in (tmp_path / "credentials").iterdir())
    assert sorted(listed) == written
