"""Ports of request authentication: the merchants' registered keys, and the
record of JWTs already used."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol


class ReplayGuard(Protocol):
    def first_use(self, digest: bytes, expires_at: datetime) -> bool:
        """Record a token as used; False if it was used before."""


class CredentialDirectory(Protocol):
    """Where the authenticator finds merchants' registered keys."""

    def shared_secret(self, key_id: str) -> tuple[str, bytes] | None:
        """``(merchant id, secret bytes)`` registered under an HTTP Signature key id."""

    def jwt_certificate(self, kid: str) -> tuple[str, bytes] | None:
        """``(merchant id, PEM certificate)`` registered under a JWT ``kid``."""

    def jwt_certificates_of(self, merchant_id: str) -> list[bytes]:
        """Every JWT certificate of a merchant (for the legacy ``x5c`` format)."""
