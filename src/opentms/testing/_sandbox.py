"""``Sandbox``: a real ``opentms serve`` in a subprocess, for a test suite or a
script, and its admin API (docs/sandbox.md, "The pytest plugin")."""

from __future__ import annotations

import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Self

import httpx

from opentms.testing._admin import AdminAPI, AdminRefused, SandboxStartFailed
from opentms.testing._credentials import MerchantCredentials

# `opentms serve`'s exit status when its port is taken (opentms.cli.listen).
_ADDRESS_UNAVAILABLE = 3
_START_ATTEMPTS = 3
_LOG_TAIL = 4000

SeedSource = str | os.PathLike[str] | Mapping[str, Any]


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _seed_content_type(path: Path) -> str:
    return "application/yaml" if path.suffix.lower() in (".yaml", ".yml") else "application/json"


class SandboxClock:
    """The sandbox's service clock (token expiry, life-cycle dates); request
    authentication keeps real time."""

    def __init__(self, admin: AdminAPI) -> None:
        self._admin = admin

    def now(self) -> datetime:
        """The service clock's time."""
        return datetime.fromisoformat(self._admin.clock()["now"])

    def advance(self, by: float | timedelta | str) -> datetime:
        """Move the clock forward by seconds, a ``timedelta`` or an ISO 8601
        duration (``"P30D"``); negative goes back. The new time."""
        amount = by.total_seconds() if isinstance(by, timedelta) else by
        return datetime.fromisoformat(self._admin.advance_clock(amount)["now"])

    def set(self, moment: datetime | str) -> datetime:
        """Set the clock to ``moment`` (a datetime with a zone, or ISO 8601)."""
        return datetime.fromisoformat(self._admin.set_clock(moment)["now"])

    def real_time(self) -> datetime:
        """Put the clock back to real time."""
        return datetime.fromisoformat(self._admin.reset_clock()["now"])


class Fault(dict[str, Any]):
    """A fault rule as the server answered it (``id``, ``hits``, ``remaining``
    and the rule's fields); as a context manager, it is deleted on exit."""

    def __init__(self, admin: AdminAPI, rule: Mapping[str, Any]) -> None:
        super().__init__(rule)
        self._admin = admin

    @property
    def id(self) -> str:
        return str(self["id"])

    def refresh(self) -> Fault:
        """The rule as it is now (its ``hits`` and ``remaining``)."""
        return Fault(self._admin, self._admin.fault(self.id))

    def delete(self) -> None:
        """Remove the rule; one already gone is no error."""
        try:
            self._admin.delete_fault(self.id)
        except AdminRefused as exc:
            if exc.status != 404:
                raise

    def __enter__(self) -> Fault:
        return self

    def __exit__(self, *_: object) -> None:
        self.delete()


class Sandbox:
    """A real ``opentms serve`` on a free port with a temporary data directory
    (removed when it stops) and an admin token of its own.

    ```python
    from opentms.testing import Sandbox

    with Sandbox(seed="tests/opentms-seed.yaml") as sandbox:
        merchant = sandbox.create_merchant("acme")
        config = merchant.python_sdk_configuration()   # for the official SDK
        sandbox.clock.advance(timedelta(days=30))
        sandbox.reset()
    ```

    **Parameters:**

    * **seed** *(optional)* - a seed file (YAML or JSON) or a seed document (a
      dict), applied at start (``OPENTMS_SEED_FILE``) and again by
      :meth:`reset_to_seed`.
    * **workers** - server processes (``serve --workers``).
    * **database_url** *(optional)* - a database of the caller's (PostgreSQL),
      empty: the master key is new with each sandbox, so a database another
      one wrote does not open. Default SQLite in the temporary directory.
    * **port** *(optional)* - the port; default a free one.
    * **deterministic** *(optional)* - reproducible ids (``OPENTMS_DETERMINISTIC_SEED``).
    * **startup_timeout** - seconds to wait for ``/readyz``.

    Attributes once started: ``url``, ``admin_token``, ``data_dir``, ``log_file``,
    ``admin`` (:class:`AdminAPI`) and ``clock`` (:class:`SandboxClock`).
    """

    def __init__(
        self,
        seed: SeedSource | None = None,
        *,
        workers: int = 1,
        database_url: str | None = None,
        port: int | None = None,
        deterministic: str | None = None,
        startup_timeout: float = 60.0,
    ) -> None:
        self._seed = seed
        self.workers = workers
        self.database_url = database_url
        self._port = port
        self.deterministic = deterministic
        self.startup_timeout = startup_timeout
        # Security: a token of this sandbox's own, never the caller's OPENTMS_ADMIN_TOKEN.
        self.admin_token = secrets.token_urlsafe(32)
        self._root: Path | None = None
        self._process: subprocess.Popen[bytes] | None = None
        self._admin: AdminAPI | None = None
        self.seed_file: Path | None = None
        self.url = ""

    # -- life ----------------------------------------------------------------

    @property
    def root(self) -> Path:
        """The temporary directory: ``data``, ``server.log``, ``merchants``."""
        if self._root is None:
            raise RuntimeError("The sandbox is not started: use `with Sandbox() as sandbox:`.")
        return self._root

    @property
    def admin(self) -> AdminAPI:
        """The admin API client of the running server."""
        if self._admin is None:
            raise RuntimeError("The sandbox is not started: use `with Sandbox() as sandbox:`.")
        return self._admin

    @property
    def clock(self) -> SandboxClock:
        """The service clock's helpers."""
        return SandboxClock(self.admin)

    @property
    def data_dir(self) -> Path:
        return self.root / "data"

    @property
    def log_file(self) -> Path:
        return self.root / "server.log"

    def start(self) -> Self:
        """Start the server and wait until it is ready; raises
        :class:`SandboxStartFailed` with the end of its log."""
        if self._process is not None:
            return self
        self._root = Path(tempfile.mkdtemp(prefix="opentms-sandbox-"))
        try:
            self.seed_file = self._seed_path()
            self._launch()
        except BaseException:
            self._remove_root()
            raise
        self._admin = AdminAPI(self.url, self.admin_token)
        return self

    def stop(self) -> None:
        """Stop the server and remove the temporary directory."""
        if self._process is not None:
            _stop(self._process)
            self._process = None
        if self._admin is not None:
            self._admin.close()
            self._admin = None
        self._remove_root()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"Sandbox(url={self.url!r})" if self.url else "Sandbox(not started)"

    def _remove_root(self) -> None:
        if self._root is not None:
            shutil.rmtree(self._root, ignore_errors=True)
            self._root = None

    def _seed_path(self) -> Path | None:
        if self._seed is None:
            return None
        if isinstance(self._seed, Mapping):
            path = self.root / "seed.json"
            path.write_text(json.dumps(self._seed))
            return path
        path = Path(self._seed).resolve()
        if not path.is_file():
            raise FileNotFoundError(f"The sandbox's seed file {path} does not exist.")
        return path

    def _environment(self) -> dict[str, str]:
        """The caller's environment without its OPENTMS_* settings (the sandbox
        never touches the developer's database), and the sandbox's."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("OPENTMS_")}
        env |= {"OPENTMS_DATA_DIR": str(self.data_dir), "OPENTMS_ADMIN_TOKEN": self.admin_token}
        optional = {
            "OPENTMS_DATABASE_URL": self.database_url,
            "OPENTMS_SEED_FILE": str(self.seed_file) if self.seed_file else None,
            "OPENTMS_DETERMINISTIC_SEED": self.deterministic,
        }
        env |= {name: value for name, value in optional.items() if value is not None}
        return env

    def _launch(self) -> None:
        """Run ``opentms serve`` (with this interpreter); a port taken between
        choosing it and binding it makes the server exit 3: try another."""
        attempts = 1 if self._port is not None else _START_ATTEMPTS
        for _ in range(attempts):
            port = self._port or _free_port()
            command = [sys.executable, "-m", "opentms.cli", "serve", f"--port={port}"]
            with self.log_file.open("ab") as log:
                process = subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
                    [*command, f"--workers={self.workers}"],
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    env=self._environment(),
                )
            url = f"http://127.0.0.1:{port}"
            if self._wait_ready(process, url):
                self._process, self.url = process, url
                return
            _stop(process)
            if process.returncode != _ADDRESS_UNAVAILABLE:
                break
        tail = self.log_file.read_text(errors="replace")[-_LOG_TAIL:]
        raise SandboxStartFailed(f"opentms serve did not become ready; its log ends:\n{tail}")

    def _wait_ready(self, process: subprocess.Popen[bytes], url: str) -> bool:
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            if process.poll() is not None:
                return False
            try:
                if httpx.get(f"{url}/readyz", timeout=1.0).status_code == 200:
                    return True
            except httpx.TransportError:
                pass
            time.sleep(0.05)
        return False

    # -- controls --------------------------------------------------------------

    def status(self) -> dict[str, Any]:
        """``{"mode", "generation", "clock", "deterministic"}``."""
        return self.admin.status()

    def reset(self, merchant_id: str | None = None, include_merchants: bool = False) -> Any:
        """Delete the vault data, journal and fault rules and put the clock
        back (merchants kept unless ``include_merchants``), or only
        ``merchant_id``'s vault data and journal entries."""
        return self.admin.reset(merchant_id, include_merchants)

    def reset_to_seed(self) -> None:
        """:meth:`reset`, then apply the seed again: the state the sandbox
        started in, with the merchants created since (what the pytest plugin
        does before each test)."""
        self.reset()
        if self.seed_file is not None:
            self.seed(self.seed_file)

    def seed(self, source: SeedSource) -> Any:
        """Apply a seed file (YAML or JSON) or document (a dict)."""
        if isinstance(source, Mapping):
            return self.admin.seed(json.dumps(source).encode(), "application/json")
        path = Path(source)
        return self.admin.seed(path.read_bytes(), _seed_content_type(path))

    def create_merchant(
        self, merchant_id: str, *, key_id: str | None = None, shared_secret: str | None = None
    ) -> MerchantCredentials:
        """Register a merchant; its bundle is written under ``root/merchants``."""
        bundle = self.admin.create_merchant(merchant_id, key_id, shared_secret)
        return MerchantCredentials.from_bundle(bundle, self.root / "merchants", self.url)

    def snapshot(self, name: str) -> Any:
        """Save the state under ``name``."""
        return self.admin.save_snapshot(name)

    def restore(self, name: str) -> Any:
        """Put the state back to snapshot ``name``."""
        return self.admin.restore_snapshot(name)

    def delete_snapshot(self, name: str) -> None:
        self.admin.delete_snapshot(name)

    def snapshots(self) -> list[dict[str, Any]]:
        return self.admin.snapshots()

    def journal(self, **filters: Any) -> list[dict[str, Any]]:
        """The journal's entries, newest first; filters as in the admin API
        (``merchant_id``, ``method``, ``path`` glob, ``status``, ``since``,
        ``until``, ``limit``, ``offset``)."""
        return list(self.admin.journal(**filters)["entries"])

    def journal_entry(self, entry_id: str | int) -> Any:
        return self.admin.journal_entry(entry_id)

    def clear_journal(self) -> None:
        self.admin.clear_journal()

    def fault(self, **rule: Any) -> Fault:
        """Add a fault rule (``method``, ``path``, ``merchant_id``, ``status``,
        ``reason``, ``message``, ``connection``, ``delay_ms``, ``delay_max_ms``,
        ``times``, ``probability``); use it in ``with`` to remove it after."""
        return Fault(self.admin, self.admin.add_fault(rule))

    def faults(self) -> list[Fault]:
        return [Fault(self.admin, rule) for rule in self.admin.faults()]

    def clear_faults(self) -> None:
        self.admin.clear_faults()


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
