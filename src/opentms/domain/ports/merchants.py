"""Ports of the merchants' registry: merchants, profiles and keys, and the
server's own sealed keys."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from opentms.domain.merchant import (
    KeyKind,
    KeyRecord,
    MerchantRecord,
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


class ServerKeyStore(Protocol):
    def find_server_key(self, name: str) -> ServerKeyRecord | None: ...

    def add_server_key(self, record: ServerKeyRecord, now: datetime) -> ServerKeyRecord:
        """Insert, or return the record another process inserted first."""
