"""Use cases of tokenized cards: provisioning on demand, retrieval, deletion,
the issuer life-cycle simulation and card art."""

from __future__ import annotations

import hashlib
from dataclasses import replace
from typing import Any

from opentms.domain.card import PAN
from opentms.domain.errors import (
    Declined,
    FieldError,
    InvalidFields,
    MissingHeaders,
    NotAvailable,
    NotFound,
    invalid_field,
)
from opentms.domain.network_token import (
    ALLOWED_MOVES,
    CardDetails,
    NetworkToken,
    TokenNetwork,
    TokenState,
)
from opentms.domain.ports import Clock, UnitOfWorkFactory
from opentms.domain.webhook_events import network_token_updates
from opentms.services.instrument_identifiers import (
    II,
    CardExpiry,
    InstrumentIntake,
    publish_provisioned,
)
from opentms.services.provisioning import Provisioner
from opentms.services.tenancy import Tenant, VaultService

TOKEN = "tokenizedCard"  # noqa: S105 - a resource type, not a secret
ASSET_TYPES = {
    "card-art-combined": "combinedAsset",
    "brand-logo": "brandLogoAsset",
    "issuer-logo": "issuerLogoAsset",
    "icon-logo": "iconAsset",
    "icon": "iconAsset",
}
PROVIDER_ALIASES = {
    TokenNetwork.VISA: {"vts", "visa"},
    TokenNetwork.MASTERCARD: {"mdes", "mscof", "mastercard"},
    TokenNetwork.AMEX: {"amex", "aets", "americanexpress"},
    TokenNetwork.DISCOVER: {"dts", "discover"},
}


class NetworkTokenService(VaultService):
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
        pan: PAN,
        expiry: CardExpiry,
        source: str,
        create_instrument_identifier: bool,
    ) -> NetworkToken:
        """Provision a token for a card (POST /tms/v2/tokenized-cards)."""
        with self._writing(tenant) as uow:
            ii_id = None
            if create_instrument_identifier:
                plain = replace(
                    tenant, profile=replace(tenant.profile, network_tokens_enabled=False)
                )
                ii, created = self._intake.store(uow, plain, pan, {}, expiry)
                uow.audit.record("instrumentIdentifier.create", II, ii.id, created=created)
                ii_id = ii.id
            token = self._provisioner.provision(
                uow, tenant, pan, expiry.month, expiry.year, ii_id, source
            )
            uow.audit.record("tokenizedCard.create", TOKEN, () if token is None else token.id)
            if token is None:
                raise Declined(
                    "No token service provider serves this card brand: CARD_NOT_ALLOWED."
                )
            if token.reason is not None:
                raise Declined(
                    f"The {token.network.value} token service declined to provision: "
                    f"{token.reason.value}."
                )
            publish_provisioned(uow, token)
            uow.commit()
        return token

    def retrieve(self, tenant: Tenant, token_id: str) -> NetworkToken:
        with self._reading(tenant) as uow:
            uow.audit.record("tokenizedCard.read", TOKEN, token_id)
            return uow.network_tokens.get(token_id)

    def delete(self, tenant: Tenant, token_id: str) -> None:
        with self._writing(tenant) as uow:
            uow.audit.record("tokenizedCard.delete", TOKEN, token_id)
            token = uow.network_tokens.get(token_id)
            if token.state == TokenState.DELETED:
                raise NotAvailable()
            if token.state == TokenState.UNPROVISIONED:
                raise NotFound()
            now = self._clock.now()
            deleted = replace(token, state=TokenState.DELETED)
            uow.network_tokens.update(deleted, token.version, now)
            for event in network_token_updates(token, deleted, now):
                uow.outbox.publish(event)
            uow.commit()

    def simulate_life_cycle(
        self,
        tenant: Tenant,
        token_id: str,
        profile_id: str | None,
        state: TokenState | None,
        last4: str | None,
        expiration_month: str | None,
        expiration_year: str | None,
        update_card_art: bool,
    ) -> None:
        """What an issuer or network would do: suspend, resume or delete the
        token, replace the card's last four digits or expiry, new card art."""
        if not profile_id:
            raise MissingHeaders(
                "The issuer life-cycle simulation needs the profile-id header.",
                (FieldError("profile-id", "header"),),
            )
        with self._writing(tenant) as uow:
            uow.audit.record(
                "tokenizedCard.simulateLifeCycle",
                TOKEN,
                token_id,
                state=None if state is None else state.value,
                cardChanged=last4 is not None or bool(expiration_month or expiration_year),
                cardArt=update_card_art,
            )
            token = uow.network_tokens.get(token_id)
            updated = token
            if state is not None and state != token.state:
                if state not in ALLOWED_MOVES[token.state]:
                    raise invalid_field(
                        "state",
                        f"A {token.state.value} network token cannot become {state.value}.",
                    )
                updated = replace(updated, state=state)
            elif token.state in (TokenState.DELETED, TokenState.UNPROVISIONED):
                raise invalid_field(
                    "state", f"A {token.state.value} network token has no life cycle left."
                )
            if last4 is not None or expiration_month is not None or expiration_year is not None:
                card = token.card
                updated = replace(
                    updated,
                    card=CardDetails(
                        last4 or card.suffix,
                        expiration_month.zfill(2) if expiration_month else card.expiration_month,
                        expiration_year or card.expiration_year,
                    ),
                )
            if update_card_art:
                updated = _new_card_art(updated)
            if updated is token:
                raise InvalidFields(
                    "Nothing to simulate: send state, card.last4, card.expirationMonth/Year "
                    "or metadata.cardArt.combinedAsset.update.",
                    (FieldError("state"),),
                )
            now = self._clock.now()
            uow.network_tokens.update(updated, token.version, now)
            for event in network_token_updates(token, updated, now):
                uow.outbox.publish(event)
            uow.commit()

    def card_art(
        self, tenant: Tenant, token_or_ii_id: str, provider: str, asset_type: str
    ) -> tuple[NetworkToken, str, bytes]:
        """``(token, asset id, PNG)`` of an instrument identifier's (or a
        tokenized card's) card art."""
        if asset_type not in ASSET_TYPES:
            raise invalid_field(
                "assetType",
                "assetType must be one of " + ", ".join(sorted(ASSET_TYPES)) + ".",
                location="path",
            )
        with self._reading(tenant) as uow:
            uow.audit.record("tokenizedCard.readCardArt", TOKEN, token_or_ii_id)
            try:
                token: NetworkToken | None = uow.network_tokens.get(token_or_ii_id)
            except NotFound:
                uow.instrument_identifiers.get(token_or_ii_id)
                token = uow.network_tokens.current_for(token_or_ii_id)
        if token is None or token.state == TokenState.UNPROVISIONED:
            raise NotFound("No network token, so no card art.")
        if provider.lower() not in PROVIDER_ALIASES[token.network]:
            raise NotFound(f"The token is not a {provider} token.")
        image = self._provisioner.provider(token.network).card_art(token)
        return token, asset_id(token, ASSET_TYPES[asset_type]), image


def asset_id(token: NetworkToken, asset: str) -> str:
    seed = f"{token.id}:{asset}:{token.card_art_revision}".encode()
    return hashlib.sha256(seed).hexdigest()[:32].upper()


def _new_card_art(token: NetworkToken) -> NetworkToken:
    revision = token.card_art_revision + 1
    metadata: dict[str, Any] = dict(token.metadata)
    art = dict(metadata.get("cardArt", {}))
    art["backgroundColor"] = hashlib.sha256(f"{token.id}:{revision}".encode()).hexdigest()[:6]
    metadata["cardArt"] = art
    return replace(token, card_art_revision=revision, metadata=metadata)
