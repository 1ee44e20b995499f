"""Ports of the card networks: their token services, and the directory the
authorisation simulator reads as the network."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from types import TracebackType
from typing import Protocol

from opentms.domain.network_token import (
    CredentialKind,
    NetworkToken,
    NetworkView,
    ProvisionedToken,
    ProvisioningFailure,
    ProvisioningRequest,
    TokenNetwork,
    TokenTransaction,
)


class TokenProvider(Protocol):
    """A card network's token service (VTS, MDES, ...), real or simulated."""

    @property
    def network(self) -> TokenNetwork: ...

    def provision(
        self, request: ProvisioningRequest, taken: Callable[[str], bool]
    ) -> ProvisionedToken | ProvisioningFailure:
        """A token for the card, or why not; ``taken`` says whether a number is in use."""

    def card_art(self, token: NetworkToken) -> bytes:
        """The combined card art image (PNG) of a token."""


class NetworkDirectory(Protocol):
    """The card network's view: tokens by number across merchants."""

    def find_by_number(self, number: str) -> NetworkView | None:
        """The token with this number, locked until the unit of work ends: the
        authorisations of one token run one after the other, so its count of
        failed security codes is read and raised without a race."""

    def transaction(self, token_id: str, atc: int) -> TokenTransaction | None: ...

    def recent(
        self, token_id: str, credential: CredentialKind, count: int
    ) -> Sequence[TokenTransaction]: ...

    def mark_used(self, token_id: str, atc: int, now: datetime) -> bool:
        """Record an authorisation; False if the ATC was already used."""

    def record_code_failure(self, token_id: str) -> int:
        """Count one more wrong security code for the token (in the database,
        atomically); the new count."""


class NetworkUnitOfWork(Protocol):
    @property
    def directory(self) -> NetworkDirectory: ...

    def __enter__(self) -> NetworkUnitOfWork: ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...

    def commit(self) -> None: ...
