"""Ports of the merchants' registry: merchants, profiles and keys, and the
server's own sealed keys."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Protocol

from opentms.domain.audit import AuditEntry
from opentms.domain.merchant import (
    CredentialSummary,
    KeyKind,
    KeyRecord,
    MerchantRecord,
    MerchantStatus,
    MerchantSummary,
    Profile,
    ProfileSummary,
    ServerKeyRecord,
)


class MerchantStore(Protocol):
    def add_merchant(
        self,
        record: MerchantRecord,
        profile: Profile,
        keys: list[KeyRecord],
        now: datetime,
    ) -> None:
        """Add all or nothing; :class:`~opentms.services.merchants.AlreadyRegistered`
        when an id is taken."""

    def add_profile(self, profile: Profile, now: datetime) -> None:
        """:class:`~opentms.services.merchants.AlreadyRegistered` when the id is taken."""

    def find_merchant(self, merchant_id: str) -> MerchantRecord | None: ...

    def list_merchants(self) -> list[str]: ...

    def merchant_summaries(self) -> list[MerchantSummary]: ...

    def profile_summaries(self, merchant_id: str) -> list[ProfileSummary]: ...

    def find_profile(self, merchant_id: str, profile_id: str) -> Profile | None: ...

    def find_key(self, kind: KeyKind, key_id: str) -> KeyRecord | None: ...

    def keys_of(self, merchant_id: str, kind: KeyKind) -> list[KeyRecord]: ...

    def registry_epoch(self) -> int:
        """A number that moves whenever a merchant's credentials or keys
        change (revocation, rotation, shredding), in any process."""

    # Credential rotation (services/credentials.py) ------------------------------

    def merchant_status(self, merchant_id: str) -> MerchantStatus | None:
        """The merchant's row, shredded ones included; None if never registered."""

    def credentials_of(self, merchant_id: str) -> list[CredentialSummary]:
        """Every key of the merchant, revoked ones included, oldest first."""

    def add_keys(
        self,
        merchant_id: str,
        keys: Sequence[KeyRecord],
        now: datetime,
        audit: Sequence[AuditEntry],
    ) -> None:
        """Add ``keys`` to a registered merchant, move the registry epoch and
        append ``audit``, in one transaction.
        :class:`~opentms.services.merchants.AlreadyRegistered` when a key id is
        taken (revoked ones too), :class:`~opentms.services.merchants.
        InvalidRegistration` when the merchant is unknown or shredded."""

    def revoke_key(
        self,
        merchant_id: str,
        choose: Callable[[list[CredentialSummary]], tuple[CredentialSummary, AuditEntry]],
        now: datetime,
    ) -> CredentialSummary:
        """Revoke the key ``choose`` picks among the merchant's keys (read with
        the merchant locked, so concurrent revocations see each other), move
        the registry epoch and append its audit entry, in one transaction.
        ``choose`` raises to refuse; the revoked key is returned."""


class ServerKeyStore(Protocol):
    def find_server_key(self, name: str) -> ServerKeyRecord | None: ...

    def add_server_key(self, record: ServerKeyRecord, now: datetime) -> ServerKeyRecord:
        """Insert, or return the record another process inserted first."""
