"""Settings, read once at start from ``OPENTMS_*`` environment variables.

``OPENTMS_DATA_DIR`` holds the embedded defaults: the SQLite database
(``opentms.db``) and the master key file (``master.key``), both created on first
start. ``OPENTMS_DATABASE_URL`` points at another database (e.g. PostgreSQL).
"""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from opentms.observability import LogFormat


def default_data_dir() -> Path:
    """``$XDG_DATA_HOME/opentms``, else ``~/.local/share/opentms``."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "opentms"


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
