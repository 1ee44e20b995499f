"""Test helpers shared by every test package: card numbers, merchants and
signed clients over the in-process ASGI app, and fresh PostgreSQL schemas."""

from __future__ import annotations

import os
import random
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs12

from opentms.bootstrap import Database
from opentms.client import HTTPSignatureAuth, JWTAuth
from opentms.domain.card import luhn_check_digit
from opentms.services.merchants import Registration

_random = random.Random(20261124)  # noqa: S311 - test data, not secrets


def make_pan(prefix: str = "411111", length: int = 16) -> str:
    """A random, Luhn-valid card number with ``prefix``."""
    body = prefix + "".join(str(_random.randrange(10)) for _ in range(length - len(prefix) - 1))
    return body + luhn_check_digit(body)


@dataclass(frozen=True)
class Merchant:
    """A registered merchant and the ways to sign as it."""

    registration: Registration

    @property
    def id(self) -> str:
        return self.registration.merchant_id

    def signature_auth(self) -> HTTPSignatureAuth:
        r = self.registration
        return HTTPSignatureAuth(r.merchant_id, r.key_id, r.shared_secret)

    def jwt_auth(self) -> JWTAuth:
        r = self.registration
        assert r.p12 is not None
        assert r.p12_password is not None
        key, _, _ = pkcs12.load_key_and_certificates(r.p12, r.p12_password.encode())
        assert isinstance(key, rsa.RSAPrivateKey)
        return JWTAuth(r.merchant_id, r.jwt_kid, private_key=key)

    def hs256_auth(self) -> JWTAuth:
        r = self.registration
        return JWTAuth(r.merchant_id, r.key_id, shared_secret=r.shared_secret)

    def auth(self, mode: str) -> httpx.Auth:
        return {
            "signature": self.signature_auth,
            "jwt": self.jwt_auth,
            "hs256": self.hs256_auth,
        }[mode]()


def postgresql_backend() -> bool:
    """Whether this run is the suite's PostgreSQL pass (OPENTMS_TEST_BACKEND)."""
    return os.environ.get("OPENTMS_TEST_BACKEND", "sqlite") == "postgresql"


@contextmanager
def fresh_postgres_schema(base_url: str, prefix: str = "opentms_test") -> Iterator[str]:
    """A fresh schema ``<prefix>_<random>`` on ``base_url``, dropped after: the
    database URL that uses it (its ``search_path``)."""
    import sqlalchemy

    schema = f"{prefix}_{uuid.uuid4().hex[:12]}"
    engine = sqlalchemy.create_engine(base_url)
    with engine.begin() as connection:
        connection.execute(sqlalchemy.text(f"CREATE SCHEMA {schema}"))
    separator = "&" if "?" in base_url else "?"
    try:
        yield f"{base_url}{separator}options=-csearch_path%3D{schema}"
    finally:
        with engine.begin() as connection:
            connection.execute(sqlalchemy.text(f"DROP SCHEMA {schema} CASCADE"))
        engine.dispose()


@contextmanager
def backend_database_url(prefix: str = "opentms_test") -> Iterator[str | None]:
    """None (SQLite in the data directory), or in the PostgreSQL pass a fresh
    schema on OPENTMS_TEST_POSTGRES_URL (dropped after): the database URL."""
    if not postgresql_backend():
        yield None
        return
    with fresh_postgres_schema(os.environ["OPENTMS_TEST_POSTGRES_URL"], prefix) as url:
        yield url


def iter_files(root: Path) -> Iterator[Path]:
    for path in root.rglob("*"):
        if path.is_file():
            yield path


def stored_bytes(database: Database) -> bytes:
    """Everything the vault has written: the SQLite files of the data
    directory, or on PostgreSQL every row of every table (as text and bytes)."""
    if database.settings.database_url is None:
        files = [path.read_bytes() for path in iter_files(database.settings.data_dir)]
        assert any(path.name == "opentms.db" for path in iter_files(database.settings.data_dir))
        return b"".join(files)
    from sqlalchemy import select

    from opentms.adapters.storage.tables import metadata

    chunks: list[bytes] = []
    with database.engine.connect() as connection:
        for table in metadata.sorted_tables:
            for row in connection.execute(select(table)):
                for value in row:
                    if isinstance(value, bytes | memoryview):
                        chunks.append(bytes(value))
                    elif value is not None:
                        chunks.append(str(value).encode())
    return b"\n".join(chunks)
