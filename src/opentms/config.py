"""Settings, read once at start from ``OPENTMS_*`` environment variables.

``OPENTMS_DATA_DIR`` holds the embedded defaults: the SQLite database
(``opentms.db``) and the master key file (``master.key``), both created on first
start. ``OPENTMS_DATABASE_URL`` points at another database (e.g. PostgreSQL).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from opentms.observability import LogFormat


def default_data_dir() -> Path:
    """``$XDG_DATA_HOME/opentms``, else ``~/.local/share/opentms``."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "opentms"


# Settings that only a sandbox has: given in vault mode, they refuse to start.
SANDBOX_ONLY = frozenset({"admin_token", "deterministic_seed", "seed_file", "journal_limit"})
# The admin token generated at first start, in the data directory.
ADMIN_TOKEN_FILE = "admin-token"  # noqa: S105 - a file name


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="OPENTMS_", extra="ignore")

    data_dir: Path = Field(default_factory=default_data_dir)
    database_url: str | None = None
    master_key_file: Path | None = None
    # Authentication: how far a Date header or JWT iat may be from our clock.
    clock_skew_seconds: int = Field(default=900, ge=0, le=86_400)
    # Largest request body accepted, in bytes (TMS bodies are a few KB).
    max_body_bytes: int = Field(default=65_536, ge=1_024, le=16 * 1_048_576)
    # Seconds a request body may take to arrive in full once its head has
    # (a slow body is answered 408 and its connection closed).
    body_timeout_seconds: float = Field(default=30.0, gt=0, le=3_600)
    # Open connections one server process (uvicorn worker) serves at once;
    # beyond them a connection is answered 503 and closed.
    max_connections: int = Field(default=1_000, ge=1, le=1_000_000)
    log_level: str = "INFO"
    # "text": one line per record; "json": one JSON object per line.
    log_format: LogFormat = "text"

    # "sandbox" (the default): the controls of docs/sandbox.md under
    # /opentms/v1/sandbox/. "vault": none of them exist, and the settings below
    # that only a sandbox has (SANDBOX_ONLY) refuse to start.
    mode: Literal["sandbox", "vault"] = "sandbox"
    # The admin API's bearer token; when unset, one is generated at first start
    # into the data directory (ADMIN_TOKEN_FILE, 0600) and its path printed.
    admin_token: SecretStr | None = Field(default=None, min_length=16, max_length=512)
    # Reproducible ids, token numbers and generated keys (`serve --deterministic`).
    deterministic_seed: str | None = Field(default=None, min_length=1, max_length=256)
    # A seed file applied at start (`serve --seed`).
    seed_file: Path | None = None
    # Request journal entries kept (the oldest go first); 0 keeps none.
    journal_limit: int = Field(default=10_000, ge=0, le=1_000_000)

    # TMS webhooks (docs/webhooks.md).
    # Whether this process runs a dispatcher (every server process does by
    # default; they share the queue, each notification sent by one of them).
    webhook_dispatcher: bool = True
    # How often a dispatcher looks for due notifications when nothing woke it.
    webhook_poll_seconds: float = Field(default=1.0, gt=0, le=60)
    # Requests a dispatcher has in flight at once (and notifications per claim).
    webhook_workers: int = Field(default=4, ge=1, le=64)
    # Limits of one request to a receiver.
    webhook_connect_timeout_seconds: float = Field(default=5.0, gt=0, le=60)
    webhook_read_timeout_seconds: float = Field(default=10.0, gt=0, le=120)
    # What v-c-signature signs after "t.": the compact JSON of the payload
    # member ("payload", as CyberSource's plugins verify) or the whole body.
    webhook_signature_input: Literal["payload", "body"] = "payload"
    # A new signing key signs only once this many seconds have passed (the
    # old one signs meanwhile), so receivers can install it first.
    webhook_key_overlap_seconds: int = Field(default=3_600, ge=0, le=30 * 86_400)
    # Vault mode: loopback, private and link-local receivers are refused unless
    # listed here (comma-separated host names, addresses or CIDR networks).
    webhook_allowed_destinations: str = ""
    # The audit log (docs/security.md, "Audit log"): every operation on card
    # data and keys recorded in a hash chain, in the transaction of the change.
    # Unset: on in vault mode, off in a sandbox.
    audit_log: bool | None = None

    # The master key's provider (docs/security.md, "Key hierarchy"): "file"
    # (master_key_file), "env" (OPENTMS_MASTER_KEYS: v<N>:<base64>,...) or
    # "pkcs11" (an HSM: module, token label and PIN below).
    key_provider: Literal["file", "env", "pkcs11"] = "file"
    master_keys: SecretStr | None = None
    pkcs11_module: str | None = None
    pkcs11_token_label: str | None = None
    pkcs11_pin: SecretStr | None = None
    pkcs11_pin_file: Path | None = None
    # A server re-reads the master key's versions at most this often (seconds),
    # so it seals with a new version this long after `opentms keys rotate`.
    key_refresh_seconds: float = Field(default=2.0, ge=0, le=3_600)

    @model_validator(mode="after")
    def _sandbox_only(self) -> Settings:
        if self.mode == "vault":
            given = sorted(SANDBOX_ONLY & self.model_fields_set)
            if given:
                names = ", ".join(f"OPENTMS_{name.upper()}" for name in given)
                raise ValueError(
                    f"{names}: only a sandbox has this; unset it, or run with OPENTMS_MODE=sandbox."
                )
        return self

    @property
    def sandbox(self) -> bool:
        return self.mode == "sandbox"

    @property
    def audit_enabled(self) -> bool:
        """Whether operations are recorded in the audit log."""
        return self.audit_log if self.audit_log is not None else not self.sandbox

    @field_validator("database_url")
    @classmethod
    def _normalise_driver(cls, value: str | None) -> str | None:
        if value and value.startswith(("postgresql://", "postgres://")):
            return "postgresql+psycopg://" + value.split("://", 1)[1]
        return value

    @property
    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir / 'opentms.db'}"

    @property
    def resolved_master_key_file(self) -> Path:
        return self.master_key_file or self.data_dir / "master.key"

    @property
    def admin_token_file(self) -> Path:
        return self.data_dir / ADMIN_TOKEN_FILE
