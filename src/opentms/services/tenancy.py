"""Who is asking: the authenticated merchant, its keys and the TMS profile."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from opentms.crypto.keyring import MerchantKeys
from opentms.domain.ports import UnitOfWork


@dataclass(frozen=True)
class Profile:
    id: str
    name: str
    network_tokens_enabled: bool


@dataclass(frozen=True)
class Tenant:
    """A merchant as the services see it: data keys plus the profile in use."""

    keys: MerchantKeys
    profile: Profile

    @property
    def merchant_id(self) -> str:
        return self.keys.merchant_id


UnitOfWorkFactory = Callable[[MerchantKeys, bool], UnitOfWork]


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)
