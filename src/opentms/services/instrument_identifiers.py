"""Use cases of instrument identifiers: one token per card (or bank account)
and merchant, with the network token provisioned for it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from opentms.domain import ids
from opentms.domain.card import PAN, BankAccount
from opentms.domain.errors import (
    FieldError,
    InstrumentIdentifierInUse,
    UnsupportedModification,
    invalid_field,
)
from opentms.domain.network_token import MAX_ATC, NetworkToken, TokenState
from opentms.domain.ports import Clock, UnitOfWork, UnitOfWorkFactory
from opentms.domain.resources import (
    InstrumentIdentifier,
    check_if_match,
    merge_attributes,
)
from opentms.domain.webhook_events import (
    TokenChange,
    network_token_event,
    provisioned,
    resource_event,
)
from opentms.domain.webhooks import EventType, LifeCycleReason
from opentms.services.provisioning import Provisioner
from opentms.services.tenancy import Tenant, VaultService

# The audit log's name of the resource (its ids are recorded hashed).
II = "instrumentIdentifier"
# The only parts of an instrument identifier a PATCH may change.
PATCHABLE = frozenset({"processingInformation", "tokenProvisioningInformation"})


@dataclass(frozen=True)
class CardExpiry:
    """The expiry sent with a card: passed to the network, never stored on the II."""

    month: str | None = None
    year: str | None = None


@dataclass(frozen=True)
class InstrumentIdentifierView:
    instrument_identifier: InstrumentIdentifier
    token: NetworkToken | None


def ii_view(uow: UnitOfWork, ii: InstrumentIdentifier) -> InstrumentIdentifierView:
    return InstrumentIdentifierView(ii, uow.network_tokens.current_for(ii.id))


def publish_provisioned(uow: UnitOfWork, token: NetworkToken | None) -> None:
    """``tms.networktoken.provisioned`` for a token a network provisioned
    (nothing for a refusal)."""
    event = provisioned(token, token.created_at) if token is not None else None
    if event is not None:
        uow.outbox.publish(event)


def delete_card(uow: UnitOfWork, ii: InstrumentIdentifier, now: datetime) -> None:
    """Remove an instrument identifier and delete its live network tokens,
    publishing the events of both (docs/webhooks.md)."""
    uow.instrument_identifiers.remove(ii.id, now)
    uow.outbox.publish(resource_event(ii, TokenChange.DELETED, now))
    for token in uow.network_tokens.delete_for(ii.id, now):
        uow.outbox.publish(
            network_token_event(
                token, EventType.NETWORK_TOKEN_UPDATED, LifeCycleReason.TOKEN_STATUS_UPDATED, now
            )
        )


class InstrumentIntake:
    """Takes a card into the vault: stores it once per merchant (a card stored
    before answers its instrument identifier), provisioning its network token
    when the profile asks for it. Used inside the callers' units of work."""

    def __init__(self, provisioner: Provisioner, clock: Clock) -> None:
        self._provisioner = provisioner
        self._clock = clock

    def store(
        self,
        uow: UnitOfWork,
        tenant: Tenant,
        instrument: PAN | BankAccount,
        attributes: Mapping[str, Any],
        expiry: CardExpiry,
    ) -> tuple[InstrumentIdentifier, bool]:
        """The merchant's instrument identifier for this card, and whether it is new."""
        ii, created, _ = self.store_with_token(uow, tenant, instrument, attributes, expiry)
        return ii, created

    def store_with_token(
        self,
        uow: UnitOfWork,
        tenant: Tenant,
        instrument: PAN | BankAccount,
        attributes: Mapping[str, Any],
        expiry: CardExpiry,
        *,
        publish: bool = True,
    ) -> tuple[InstrumentIdentifier, bool, NetworkToken | None]:
        """As :meth:`store`, with the token provisioned for a new card (if any).
        A new card publishes ``tms.token.created`` and, when a network
        provisioned its token, ``tms.networktoken.provisioned``; ``publish``
        False (a sandbox seed) publishes nothing."""
        if isinstance(instrument, PAN):
            fingerprint = tenant.keys.fingerprint("card", instrument.reveal())
        else:
            fingerprint = tenant.keys.fingerprint(
                "bank", f"{instrument.routing_number}:{instrument.reveal()}"
            )
        existing = uow.instrument_identifiers.find_by_fingerprint(fingerprint)
        if existing is not None:
            return existing, False, None
        ii = InstrumentIdentifier(
            id=ids.new_instrument_identifier_id(),
            merchant_id=tenant.merchant_id,
            fingerprint=fingerprint,
            instrument=instrument,
            attributes=dict(attributes),
            created_at=self._clock.now(),
        )
        if not uow.instrument_identifiers.add(ii):
            # Another request stored the same card between our read and our
            # insert; the unique index decided, so answer with its token.
            winner = uow.instrument_identifiers.find_by_fingerprint(fingerprint)
            if winner is None:  # pragma: no cover - the unique index guarantees a row
                raise RuntimeError("instrument identifier vanished during creation")
            return winner, False, None
        if publish:
            uow.outbox.publish(resource_event(ii, TokenChange.CREATED, ii.created_at))
        token = None
        if isinstance(instrument, PAN) and tenant.profile.network_tokens_enabled:
            token = self._provisioner.provision(
                uow, tenant, instrument, expiry.month, expiry.year, ii.id
            )
            if publish:
                publish_provisioned(uow, token)
        return ii, True, token


class InstrumentIdentifierService(VaultService):
    def __init__(
        self,
        uow: UnitOfWorkFactory,
        intake: InstrumentIntake,
        provisioner: Provisioner,
        clock: Clock,
    ) -> None:
        super().__init__(uow)
        self._intake = intake
        self._provisioner = provisioner
        self._clock = clock

    def create(
        self,
        tenant: Tenant,
        instrument: PAN | BankAccount,
        attributes: Mapping[str, Any],
        expiry: CardExpiry,
    ) -> tuple[InstrumentIdentifierView, bool]:
        """Store a card; ``created`` is False when the merchant already stored it."""
        with self._writing(tenant) as uow:
            ii, created, token = self._intake.store_with_token(
                uow, tenant, instrument, attributes, expiry
            )
            # A new card's token is the one just provisioned (or none at all).
            view = InstrumentIdentifierView(ii, token) if created else ii_view(uow, ii)
            uow.audit.record("instrumentIdentifier.create", II, ii.id, created=created)
            uow.commit()
        return view, created

    def retrieve(self, tenant: Tenant, ii_id: str) -> InstrumentIdentifierView:
        with self._reading(tenant) as uow:
            uow.audit.record("instrumentIdentifier.read", II, ii_id)
            return ii_view(uow, uow.instrument_identifiers.get(ii_id))

    def update(
        self,
        tenant: Tenant,
        ii_id: str,
        patch: Mapping[str, Any],
        if_match: str | None,
        instrument_sent: bool,
    ) -> InstrumentIdentifierView:
        if instrument_sent:
            raise UnsupportedModification(
                "The card or bank account number of an instrument identifier cannot "
                "be changed; create a new instrument identifier instead.",
                (FieldError("card.number"),),
            )
        changes = {key: value for key, value in patch.items() if key in PATCHABLE}
        with self._writing(tenant) as uow:
            uow.audit.record("instrumentIdentifier.update", II, ii_id)
            current = uow.instrument_identifiers.get(ii_id)
            check_if_match(if_match, current.version)
            updated = current.with_attributes(merge_attributes(current.attributes, changes))
            uow.instrument_identifiers.update(updated, current.version)
            uow.outbox.publish(resource_event(updated, TokenChange.UPDATED, self._clock.now()))
            view = ii_view(uow, updated)
            uow.commit()
        return view

    def delete(self, tenant: Tenant, ii_id: str) -> None:
        with self._writing(tenant) as uow:
            uow.audit.record("instrumentIdentifier.delete", II, ii_id)
            ii = uow.instrument_identifiers.get(ii_id)
            if uow.payment_instruments.count_for_instrument_identifier(ii_id):
                raise InstrumentIdentifierInUse(ii_id)
            delete_card(uow, ii, self._clock.now())
            uow.commit()

    def enroll(self, tenant: Tenant, ii_id: str, expiry: CardExpiry) -> bool:
        """Ask the network for a token; False when the card already has a live
        one (TMS answers 204), True when a provisioning was submitted (202)."""
        with self._writing(tenant) as uow:
            uow.audit.record("instrumentIdentifier.enroll", II, ii_id)
            ii = uow.instrument_identifiers.get(ii_id)
            if not isinstance(ii.instrument, PAN):
                raise invalid_field("type", "Only cards can be enrolled for a network token.")
            current = uow.network_tokens.current_for(ii_id)
            live = current is not None and current.state in (
                TokenState.ACTIVE,
                TokenState.SUSPENDED,
            )
            if live and current is not None and current.atc < MAX_ATC:
                return False
            token = self._provisioner.provision(
                uow, tenant, ii.instrument, expiry.month, expiry.year, ii_id
            )
            publish_provisioned(uow, token)
            uow.commit()
        return True
