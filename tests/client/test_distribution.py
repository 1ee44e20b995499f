"""The client-only distribution, ``opentms-client`` (``clients/python``): its
wheel, built from this tree, holds exactly ``src/opentms/client`` and needs only
the client's dependencies; installed into a fresh virtual environment that has
nothing of the server, it talks to a real ``opentms serve`` and verifies the
webhook notifications the server's code signs."""

from __future__ import annotations

import email
import email.message
import importlib.metadata
import json
import re
import shutil
import subprocess
import sys
import textwrap
import venv
import zipfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

import pytest

import opentms
import opentms.client
from opentms.client._base_client import __version__ as client_version
from tests.client.server import Served
from tests.client.test_import import CLIENT_DEPENDENCIES, top_level_names
from tests.webhooks.client.signing import EVENT_ID, KEY, notification, sign

ROOT = Path(__file__).resolve().parents[2]
CLIENT_SOURCE = ROOT / "src" / "opentms" / "client"
PROJECT = ROOT / "clients" / "python"


def run(*command: str | Path) -> str:
    done = subprocess.run(
        [str(part) for part in command],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``pip wheel ./clients/python``, from a copy of the two directories it
    reads so that the build leaves nothing in the working tree."""
    tree = tmp_path_factory.mktemp("tree")
    skip = shutil.ignore_patterns("build", "*.egg-info", "__pycache__")
    shutil.copytree(PROJECT, tree / "clients" / "python", ignore=skip)
    shutil.copytree(CLIENT_SOURCE, tree / "src" / "opentms" / "client", ignore=skip)
    dist = tmp_path_factory.mktemp("dist")
    run(sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--wheel-dir", dist,
        tree / "clients" / "python")  # fmt: skip
    (built,) = dist.glob("opentms_client-*.whl")
    return built


def metadata(wheel: Path) -> email.message.Message:
    with zipfile.ZipFile(wheel) as archive:
        (name,) = (n for n in archive.namelist() if n.endswith(".dist-info/METADATA"))
        return email.message_from_bytes(archive.read(name))


def requirements(wheel: Path) -> set[str]:
    """The names of the distributions the wheel requires."""
    return {
        re.split(r"[ ;<>=!~\[(]", r, maxsplit=1)[0]
        for r in metadata(wheel).get_all("Requires-Dist", [])
    }


def test_the_wheel_holds_the_client_and_nothing_else(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
    packaged = {name for name in names if ".dist-info/" not in name}
    source = {
        "opentms/client/" + path.relative_to(CLIENT_SOURCE).as_posix()
        for path in CLIENT_SOURCE.rglob("*")
        if path.is_file() and (path.suffix == ".py" or path.name == "py.typed")
    }
    assert packaged == source
    # No opentms/__init__.py: beside the server distribution it would be the
    # server's file; alone, opentms is a namespace package.
    assert "opentms/__init__.py" not in names
    assert metadata(wheel)["Name"] == "opentms-client"
    assert metadata(wheel)["Version"] == opentms.__version__ == client_version
    assert requirements(wheel) == set(CLIENT_DEPENDENCIES)


# Run by the fresh environment's Python against the real server.
SESSION = textwrap.dedent(
    """
    import importlib.metadata, importlib.util, json, sys
    from opentms.client import Client

    bundle, url = sys.argv[1], sys.argv[2]
    with Client.from_credentials_file(bundle, base_url=url) as client:
        customer = client.customers.create({"buyerInformation": {"email": "ada@example.com"}})
        fetched = client.customers.get(customer.id)
    try:
        importlib.metadata.distribution("opentms")
        server_installed = True
    except importlib.metadata.PackageNotFoundError:
        server_installed = False
    print(json.dumps({
        "customer": fetched.id == customer.id and fetched.buyer_information.email,
        "client_file": sys.modules["opentms.client"].__file__,
        "version": importlib.metadata.version("opentms-client"),
        "server_installed": server_installed,
        "server_modules": [
            name for name in ("opentms.adapters", "opentms.services", "opentms.cli",
                              "starlette", "sqlalchemy", "alembic", "uvicorn")
            if importlib.util.find_spec(name) is not None
        ],
        "loaded": sorted(m for m in sys.modules if m.startswith("opentms")),
    }))
    """
)


def dependency_site(directory: Path, wheel: Path) -> Path:
    """A directory of links to what the wheel requires (and that requires) as
    this environment has it installed: what ``pip install`` would fetch, offline."""
    directory.mkdir()
    seen: dict[str, set[str]] = {}
    for name in requirements(wheel):
        top_level_names(name, seen)
    site_packages = Path(str(importlib.metadata.distribution("httpx").locate_file("")))
    for names in seen.values():
        for top in names:
            (directory / top).symlink_to(site_packages / top)
    assert not (directory / "opentms").exists()
    assert not (directory / "starlette").exists()
    return directory


@pytest.fixture(scope="module")
def alone(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The Python of a fresh virtual environment with the wheel installed and,
    through a ``.pth`` file, what it requires: nothing else."""
    root = tmp_path_factory.mktemp("alone")
    environment = root / "venv"
    venv.create(environment, with_pip=False)
    python = environment / "bin" / "python"
    run(sys.executable, "-m", "pip", "--python", python, "install", "--quiet", "--no-index",
        "--no-deps", wheel)  # fmt: skip
    (site_packages,) = (environment / "lib").glob("python3.*/site-packages")
    dependencies = dependency_site(root / "dependencies", wheel)
    (site_packages / "dependencies.pth").write_text(f"{dependencies}\n")
    return python


def test_installed_alone_it_talks_to_a_real_server(alone: Path, served: Served) -> None:
    # -I: neither PYTHONPATH, nor the working directory (this checkout), nor user site.
    output = run(alone, "-I", "-c", SESSION, served.bundle, served.url)
    report = json.loads(output.strip().splitlines()[-1])
    assert report["customer"] == "ada@example.com"
    assert Path(report["client_file"]).is_relative_to(alone.parents[1] / "lib")
    assert report["version"] == opentms.__version__
    assert report["server_installed"] is False
    assert report["server_modules"] == []
    assert all(m.startswith("opentms.client") or m == "opentms" for m in report["loaded"])


def test_installed_alone_it_is_typed(alone: Path, tmp_path: Path) -> None:
    """mypy, for a program of the fresh environment, reads the client's types
    (``py.typed`` in ``opentms/client``: ``opentms`` is a namespace package)."""
    program = tmp_path / "program.py"
    program.write_text(
        "from opentms.client import Client\n"
        'reveal_type(Client("http://127.0.0.1:8080").customers.get("C1").etag)\n'
    )
    mypy = Path(sys.executable).parent / "mypy"
    done = subprocess.run(
        [mypy, "--strict", "--no-incremental", "--python-executable", alone, program],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert 'Revealed type is "str | None"' in done.stdout, done.stdout


# Run by the fresh environment's Python: a receiver's check, with the client alone.
RECEIVER = textwrap.dedent(
    """
    import json, sys
    from opentms.client.webhooks import WebhookVerificationError, verify

    headers, body, key = json.loads(sys.argv[1]), sys.argv[2].encode(), sys.argv[3]
    notification = verify(headers, body, key)
    try:
        verify(headers, body + b" ", key, signature_input="body")
        refused = None
    except WebhookVerificationError as error:
        refused = error.reason
    loaded = sorted(m for m in sys.modules if m.startswith("opentms"))
    print(json.dumps({"id": notification["payload"]["data"]["id"], "refused": refused,
                      "loaded": loaded}))
    """
)


@pytest.mark.parametrize("signed", ["payload", "body"])
def test_installed_alone_it_verifies_what_the_server_signs(
    alone: Path, signed: Literal["payload", "body"]
) -> None:
    sent = sign(notification(), signed, at=datetime.now(UTC))
    output = run(
        alone, "-I", "-c", RECEIVER, json.dumps(dict(sent.headers)), sent.body.decode(), KEY
    )
    report = json.loads(output.strip().splitlines()[-1])
    assert (report["id"], report["refused"]) == (EVENT_ID, "bad_signature")
    assert all(m.startswith("opentms.client") or m == "opentms" for m in report["loaded"])
