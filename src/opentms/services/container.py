"""The services the adapters drive, in one object: what the HTTP app and the
CLI are given. :mod:`opentms.bootstrap` builds it; adapters import it from
here, never from the composition root."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from opentms.config import Settings
from opentms.domain.ports import ReadinessProbe
from opentms.services.authentication import Authenticator
from opentms.services.authorizations import AuthorizationSimulator
from opentms.services.customers import CustomerService, ShippingAddressService
from opentms.services.instrument_identifiers import InstrumentIdentifierService
from opentms.services.merchants import MerchantService
from opentms.services.network_tokens import NetworkTokenService
from opentms.services.payment_credentials import PaymentCredentialService
from opentms.services.payment_instruments import PaymentInstrumentService
from opentms.services.server_keys import ServerKeys


@dataclass(frozen=True)
class Services:
    settings: Settings
    merchants: MerchantService
    authenticator: Authenticator
    instrument_identifiers: InstrumentIdentifierService
    payment_instruments: PaymentInstrumentService
    customers: CustomerService
    shipping_addresses: ShippingAddressService
    network_tokens: NetworkTokenService
    payment_credentials: PaymentCredentialService
    authorizations: AuthorizationSimulator
    server_keys: ServerKeys
    readiness: ReadinessProbe
    # Releases what the adapters hold (the database's connections).
    on_close: Callable[[], None]

    def close(self) -> None:
        self.on_close()
