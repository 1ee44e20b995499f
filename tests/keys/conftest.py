"""Fixtures of the key tests: a SoftHSM2 token for the pkcs11 provider.

SoftHSM2 reads SOFTHSM2_CONF (where its tokens live) once per process, at the
module's first C_Initialize, and sees no token made afterwards: so the tests
share one token directory and one token, made before anything loads the
module, and each test starts from an empty token."""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

MODULE = os.environ.get("OPENTMS_TEST_PKCS11_MODULE", "/usr/lib/softhsm/libsofthsm2.so")
TOKEN_LABEL, PIN, SO_PIN = "opentms-test", "1234", "5678"


@dataclass(frozen=True)
class SoftHSM:
    module: str
    token_label: str
    pin: str
    conf: Path

    def environment(self) -> dict[str, str]:
        """The settings (and SoftHSM2's own variable) of a process that uses this token."""
        return {
            "SOFTHSM2_CONF": str(self.conf),
            "OPENTMS_KEY_PROVIDER": "pkcs11",
            "OPENTMS_PKCS11_MODULE": self.module,
            "OPENTMS_PKCS11_TOKEN_LABEL": self.token_label,
            "OPENTMS_PKCS11_PIN": self.pin,
        }


@pytest.fixture(scope="session")
def softhsm_token(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SoftHSM]:
    if importlib.util.find_spec("pkcs11") is None:
        pytest.skip("python-pkcs11 is not installed (pip install -e '.[hsm]')")
    if not Path(MODULE).exists() or shutil.which("softhsm2-util") is None:
        pytest.skip(
            f"SoftHSM2 is not installed ({MODULE}, softhsm2-util): apt-get install softhsm2 "
            "(scripts/test does when it can)"
        )
    root = tmp_path_factory.mktemp("softhsm")
    (root / "tokens").mkdir()
    conf = root / "softhsm2.conf"
    conf.write_text(
        f"directories.tokendir = {root / 'tokens'}\nobjectstore.backend = file\nlog.level = ERROR\n"
    )
    previous = os.environ.get("SOFTHSM2_CONF")
    os.environ["SOFTHSM2_CONF"] = str(conf)
    subprocess.run(
        [
            "softhsm2-util",
            "--init-token",
            "--free",
            "--label",
            TOKEN_LABEL,
            "--pin",
            PIN,
            "--so-pin",
            SO_PIN,
        ],
        check=True,
        capture_output=True,
    )
    try:
        yield SoftHSM(MODULE, TOKEN_LABEL, PIN, conf)
    finally:
        if previous is None:
            os.environ.pop("SOFTHSM2_CONF", None)
        else:
            os.environ["SOFTHSM2_CONF"] = previous


@pytest.fixture
def softhsm(softhsm_token: SoftHSM) -> SoftHSM:
    """The token, emptied of master keys."""
    import pkcs11
    from pkcs11 import Attribute, ObjectClass
    from pkcs11.exceptions import UserAlreadyLoggedIn

    token = pkcs11.lib(softhsm_token.module).get_token(token_label=softhsm_token.token_label)
    try:
        session = token.open(rw=True, user_pin=softhsm_token.pin)
    except UserAlreadyLoggedIn:
        session = token.open(rw=True)
    for key in list(session.get_objects({Attribute.CLASS: ObjectClass.SECRET_KEY})):
        key.destroy()
    session.close()
    return softhsm_token
