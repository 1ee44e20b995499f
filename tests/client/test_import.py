"""``opentms.client`` stands alone: it imports nothing else from ``opentms``,
works with only its own dependencies installed (httpx, pydantic,
cryptography, jwcrypto and theirs), and imports fast (heavy modules lazily)."""

from __future__ import annotations

import importlib.metadata
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import opentms.client

SRC = Path(opentms.client.__file__).resolve().parents[2]
CLIENT_DEPENDENCIES = ["httpx", "pydantic", "cryptography", "jwcrypto"]

# Exercises the whole package: every public name, request signing, a call
# through a mock transport, model parsing, JWE encryption and decryption.
EXERCISE = textwrap.dedent(
    """
    import base64, json, sys
    import httpx
    import opentms.client as c
    from cryptography.hazmat.primitives.asymmetric import rsa
    from opentms.client._jwe import encrypt_compact

    for name in c.__all__:
        getattr(c, name)
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)

    def handler(request):
        assert request.headers["signature"].startswith('keyid="k"')
        if request.url.path.endswith("payment-credentials"):
            body = {"tokenizedCard": {"number": "4895370000001234", "eci": "07"}}
            jwe = encrypt_compact(key.public_key(), "kid", json.dumps(body).encode())
            return httpx.Response(201, text=jwe)
        return httpx.Response(200, json={"id": "C1", "_links": {"self": {"href": "/x"}}},
                              headers={"etag": '"1"'})

    secret = base64.b64encode(b"s" * 32).decode()
    client = c.Client("http://tms.example", auth=c.HTTPSignatureAuth("m", "k", secret),
                      transport=httpx.MockTransport(handler), credentials_private_key=key)
    customer = client.customers.get("C1")
    assert (customer.id, customer.etag) == ("C1", '"1"'), customer
    credentials = client.tokens.decrypted_payment_credentials("C1")
    assert credentials.tokenized_card.masked_number == "489537XXXXXX1234"
    loaded = sorted(m for m in sys.modules if m.startswith("opentms"))
    print(json.dumps(loaded))
    """
)

# Refuses every opentms module but the package root and the client.
BLOCKER = textwrap.dedent(
    """
    import importlib.abc, sys

    class Blocker(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name.startswith("opentms.") and not name.startswith("opentms.client"):
                raise ImportError(f"opentms.client must not import {name}")
            return None

    sys.meta_path.insert(0, Blocker())
    """
)


def run(code: str, *args: str) -> str:
    done = subprocess.run(
        [sys.executable, *args, "-c", code],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_the_client_imports_nothing_else_from_opentms() -> None:
    loaded = run(BLOCKER + EXERCISE).strip().splitlines()[-1]
    modules = set(re.findall(r'"([^"]+)"', loaded))
    assert modules
    assert all(m == "opentms" or m.startswith("opentms.client") for m in modules), modules


def test_the_blocker_does_block() -> None:
    done = subprocess.run(
        [sys.executable, "-c", BLOCKER + "import opentms.domain"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode != 0
    assert "must not import opentms.domain" in done.stderr


def test_importing_the_client_loads_no_heavy_module() -> None:
    code = (
        "import sys, opentms.client\n"
        "heavy = ['pydantic', 'cryptography', 'jwcrypto', 'anyio', 'opentms.client._models']\n"
        "print([m for m in heavy if m in sys.modules])"
    )
    assert run(code).strip() == "[]"


def top_level_names(distribution: str, seen: dict[str, set[str]]) -> None:
    key = distribution.lower().replace("_", "-")
    if key in seen:
        return
    try:
        dist = importlib.metadata.distribution(distribution)
    except importlib.metadata.PackageNotFoundError:
        return  # a requirement whose marker excludes this Python
    names = set()
    for file in dist.files or []:
        top = file.parts[0]
        if not top.endswith((".dist-info", ".data")) and top not in ("..", "__pycache__"):
            names.add(top)
    seen[key] = names
    for requirement in dist.requires or []:
        if ";" in requirement and "extra" in requirement.split(";", 1)[1]:
            continue
        top_level_names(re.split(r"[ ;<>=!~\[(]", requirement, maxsplit=1)[0], seen)


def test_the_client_works_with_only_its_own_dependencies(tmp_path: Path) -> None:
    """A site with only httpx, pydantic, cryptography, jwcrypto (and their own
    requirements) and ``opentms/__init__.py`` + ``opentms/client``: no server."""
    site = tmp_path / "site"
    site.mkdir()
    seen: dict[str, set[str]] = {}
    for name in CLIENT_DEPENDENCIES:
        top_level_names(name, seen)
    site_packages = Path(str(importlib.metadata.distribution("httpx").locate_file("")))
    for names in seen.values():
        for top in names:
            (site / top).symlink_to(site_packages / top)
    package = site / "opentms"
    package.mkdir()
    (package / "__init__.py").write_bytes((SRC / "opentms" / "__init__.py").read_bytes())
    (package / "client").symlink_to(SRC / "opentms" / "client")
    assert not (site / "starlette").exists()
    assert not (site / "sqlalchemy").exists()
    # -S: no site-packages (nor the editable install); -I: no PYTHONPATH, no cwd.
    prelude = f"import sys; sys.path.insert(0, {str(site)!r})\n"
    check = "assert 'starlette' not in sys.modules and 'sqlalchemy' not in sys.modules\n"
    output = run(prelude + BLOCKER + EXERCISE + check, "-S", "-I")
    assert "opentms.client._models" in output
