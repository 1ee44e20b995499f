"""Who is asking: the authenticated merchant, its keys and the TMS profile."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from opentms.crypto.keyring import MerchantKeys
from opentms.domain.merchant import Profile
from opentms.domain.ports import UnitOfWork, UnitOfWorkFactory

if TYPE_CHECKING:
    from opentms.services.sandbox.outcomes import ForcedOutcome


@dataclass(frozen=True)
class Tenant:
    """A merchant as the services see it: data keys plus the profile in use,
    and (sandbox mode only) the outcome its request forces
    (``X-Opentms-Outcome``, docs/sandbox.md)."""

    keys: MerchantKeys
    profile: Profile
    outcome: ForcedOutcome | None = None

    @property
    def merchant_id(self) -> str:
        return self.keys.merchant_id


class VaultService:
    """Base of the use cases over a merchant's vault: they open a unit of work
    for a tenant, either to read (never committed) or to write."""

    def __init__(self, uow: UnitOfWorkFactory) -> None:
        self._uow = uow

    def _reading(self, tenant: Tenant) -> UnitOfWork:
        return self._uow(tenant.keys, readonly=True)

    def _writing(self, tenant: Tenant, *, single_statement: bool = False) -> UnitOfWork:
        """``single_statement``: see :class:`UnitOfWorkFactory`."""
        return self._uow(tenant.keys, readonly=False, single_statement=single_statement)


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)
