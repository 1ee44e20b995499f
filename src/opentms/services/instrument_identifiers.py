"""Use cases of instrument identifiers: one token per card (or bank account)
and merchant."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from opentms.domain import ids
from opentms.domain.card import PAN, BankAccount
from opentms.domain.errors import (
    FieldError,
    InstrumentIdentifierInUse,
    PreconditionFailed,
    UnsupportedModification,
)
from opentms.domain.ports import Clock, UnitOfWork
from opentms.domain.resources import (
    InstrumentIdentifier,
    if_match_allows,
    merge_attributes,
)
from opentms.services.tenancy import Tenant, UnitOfWorkFactory

# The only parts of an instrument identifier a PATCH may change.
PATCHABLE = frozenset({"processingInformation", "tokenProvisioningInformation"})


class InstrumentIdentifierService:
    def __init__(self, uow: UnitOfWorkFactory, clock: Clock) -> None:
        self._uow = uow
        self._clock = clock

    def create(
        self,
        tenant: Tenant,
        instrument: PAN | BankAccount,
        attributes: Mapping[str, Any],
    ) -> tuple[InstrumentIdentifier, bool]:
        """Store a card; ``(ii, False)`` when the merchant already stored it."""
        with self._uow(tenant.keys, False) as uow:
            ii, created = store_instrument(uow, tenant, instrument, attributes, self._clock.now())
            uow.commit()
        return ii, created

    def retrieve(self, tenant: Tenant, ii_id: str) -> InstrumentIdentifier:
        with self._uow(tenant.keys, True) as uow:
            return uow.instrument_identifiers.get(ii_id)

    def update(
        self,
        tenant: Tenant,
        ii_id: str,
        patch: Mapping[str, Any],
        if_match: str | None,
        instrument_sent: bool,
    ) -> InstrumentIdentifier:
        if instrument_sent:
            raise UnsupportedModification(
                "The card or bank account number of an instrument identifier cannot "
                "be changed; create a new instrument identifier instead.",
                (FieldError("card.number"),),
            )
        changes = {key: value for key, value in patch.items() if key in PATCHABLE}
        with self._uow(tenant.keys, False) as uow:
            current = uow.instrument_identifiers.get(ii_id)
            if not if_match_allows(if_match, current.version):
                raise PreconditionFailed()
            updated = current.with_attributes(merge_attributes(current.attributes, changes))
            uow.instrument_identifiers.update(updated, current.version)
            uow.commit()
        return updated

    def delete(self, tenant: Tenant, ii_id: str) -> None:
        with self._uow(tenant.keys, False) as uow:
            uow.instrument_identifiers.get(ii_id)
            if uow.payment_instruments.count_for_instrument_identifier(ii_id):
                raise InstrumentIdentifierInUse(ii_id)
            uow.instrument_identifiers.remove(ii_id, self._clock.now())
            uow.commit()


def store_instrument(
    uow: UnitOfWork,
    tenant: Tenant,
    instrument: PAN | BankAccount,
    attributes: Mapping[str, Any],
    now: datetime,
) -> tuple[InstrumentIdentifier, bool]:
    """The merchant's instrument identifier for this card, and whether it is new."""
    if isinstance(instrument, PAN):
        fingerprint = tenant.keys.fingerprint("card", instrument.reveal())
    else:
        fingerprint = tenant.keys.fingerprint(
            "bank", f"{instrument.routing_number}:{instrument.reveal()}"
        )
    existing = uow.instrument_identifiers.find_by_fingerprint(fingerprint)
    if existing is not None:
        return existing, False
    ii = InstrumentIdentifier(
        id=ids.new_instrument_identifier_id(),
        merchant_id=tenant.merchant_id,
        fingerprint=fingerprint,
        instrument=instrument,
        attributes=dict(attributes),
        created_at=now,
    )
    if uow.instrument_identifiers.add(ii):
        return ii, True
    # Another request stored the same card between our read and our insert;
    # the unique index decided, so answer with its token.
    winner = uow.instrument_identifiers.find_by_fingerprint(fingerprint)
    if winner is None:  # pragma: no cover - the unique index guarantees a row
        raise RuntimeError("instrument identifier vanished during creation")
    return winner, False
