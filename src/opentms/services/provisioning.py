"""Asking a network's token service for a token, and recording the answer."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

from opentms.domain import ids
from opentms.domain.card import PAN
from opentms.domain.network_token import (
    CardDetails,
    NetworkToken,
    ProvisioningFailure,
    ProvisioningRequest,
    TokenNetwork,
    TokenState,
)
from opentms.domain.ports import Clock, TokenProvider, UnitOfWork
from opentms.services.tenancy import Tenant


class Provisioner:
    def __init__(self, providers: Mapping[TokenNetwork, TokenProvider], clock: Clock) -> None:
        self._providers = providers
        self._clock = clock

    def provider(self, network: TokenNetwork) -> TokenProvider:
        return self._providers[network]

    def supports(self, pan: PAN) -> bool:
        network = TokenNetwork.for_brand(pan.brand)
        return network is not None and network in self._providers

    def provision(
        self,
        uow: UnitOfWork,
        tenant: Tenant,
        pan: PAN,
        expiration_month: str | None,
        expiration_year: str | None,
        ii_id: str | None,
        source: str = "ONFILE",
    ) -> NetworkToken | None:
        """Provision a token for ``pan`` and store it; None when no network
        serves the card's brand. A refusal is stored too, as an UNPROVISIONED
        token carrying the network's ``reason``."""
        now = self._clock.now()
        network = TokenNetwork.for_brand(pan.brand)
        if network is None or network not in self._providers:
            return None
        card = CardDetails(pan.last4, _month(expiration_month), expiration_year)
        base = NetworkToken(
            id=ids.new_token_id(),
            merchant_id=tenant.merchant_id,
            instrument_identifier_id=ii_id,
            network=network,
            state=TokenState.UNPROVISIONED,
            source=source,
            card=card,
            created_at=now,
        )
        forced = tenant.outcome.provisioning if tenant.outcome else None
        # A forced failure (sandbox only) is the network's answer, as a magic
        # card's is: the network is not asked.
        result = forced or self._providers[network].provision(
            ProvisioningRequest(
                pan, card.expiration_month, expiration_year, tenant.merchant_id, now
            ),
            uow.network_tokens.number_taken,
        )
        if isinstance(result, ProvisioningFailure):
            token = replace(base, reason=result)
        else:
            token = replace(
                base,
                state=TokenState.ACTIVE,
                number=result.number,
                expiration_month=result.expiration_month,
                expiration_year=result.expiration_year,
                token_reference_id=result.token_reference_id,
                enrollment_id=result.enrollment_id,
                payment_account_reference=result.payment_account_reference,
                requestor_id=result.requestor_id,
                master_key=result.master_key,
                metadata=result.metadata,
            )
        uow.network_tokens.add(token)
        return token


def _month(value: str | None) -> str | None:
    return value.zfill(2) if value else value
