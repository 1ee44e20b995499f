"""The network-token resources of :class:`AsyncClient` and
:class:`AsyncTokenApi`: the twins of ``_token_resources``, as coroutines."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from opentms.client import _operations as ops
from opentms.client import _token_resources as sync_tokens
from opentms.client._async_resources import AsyncResource, twin_of
from opentms.client._jwe import decrypt_payment_credentials
from opentms.client._keys import PrivateKeyLike

if TYPE_CHECKING:
    from opentms.client._client import AsyncClient
    from opentms.client._models import (
        CardArtAsset,
        LifeCycleSimulationRequest,
        PaymentCredentials,
        PaymentCredentialsRequest,
        TokenizedCard,
        TokenizedCardDeleteRequest,
        TokenizedCardRequest,
        TokenizeRequest,
        TokenizeResponse,
    )

Wire = Mapping[str, Any]


@twin_of(sync_tokens.TokenizedCards)
class AsyncTokenizedCards(AsyncResource):
    async def create(
        self, request: TokenizedCardRequest | Wire, *, profile_id: str | None = None
    ) -> TokenizedCard:
        return await self._client._run(ops.post_tokenized_card(request, profile_id))

    async def get(self, tokenized_card_id: str, *, profile_id: str | None = None) -> TokenizedCard:
        return await self._client._run(ops.get_tokenized_card(tokenized_card_id, profile_id))

    async def delete(
        self,
        tokenized_card_id: str,
        request: TokenizedCardDeleteRequest | Wire | None = None,
        *,
        profile_id: str | None = None,
    ) -> None:
        operation = ops.post_tokenized_card_delete(tokenized_card_id, request, profile_id)
        await self._client._run(operation)

    async def simulate_life_cycle(
        self,
        tokenized_card_id: str,
        request: LifeCycleSimulationRequest | Wire,
        *,
        profile_id: str | None = None,
    ) -> None:
        operation = ops.post_issuer_life_cycle_simulation(tokenized_card_id, request, profile_id)
        await self._client._run(operation)

    async def card_art(
        self, instrument_identifier_id: str, token_provider: str, asset_type: str
    ) -> CardArtAsset:
        operation = ops.get_card_art_asset(instrument_identifier_id, token_provider, asset_type)
        return await self._client._run(operation)


@twin_of(sync_tokens.Tokens)
class AsyncTokens(AsyncResource):
    async def payment_credentials(
        self,
        token_id: str,
        request: PaymentCredentialsRequest | Wire | None = None,
        *,
        profile_id: str | None = None,
    ) -> str:
        operation = ops.post_token_payment_credentials(token_id, request, profile_id)
        return await self._client._run(operation)

    async def payment_credentials_v3(
        self,
        token_id: str,
        request: PaymentCredentialsRequest | Wire | None = None,
        *,
        profile_id: str | None = None,
    ) -> str:
        operation = ops.post_token_payment_credentials(token_id, request, profile_id, 3)
        return await self._client._run(operation)

    async def decrypted_payment_credentials(
        self,
        token_id: str,
        request: PaymentCredentialsRequest | Wire | None = None,
        *,
        private_key: PrivateKeyLike | None = None,
        version: int = 3,
        profile_id: str | None = None,
    ) -> PaymentCredentials:
        key = self._client._credentials_key(private_key)
        operation = ops.post_token_payment_credentials(token_id, request, profile_id, version)
        return decrypt_payment_credentials(await self._client._run(operation), key)

    async def tokenize(
        self, request: TokenizeRequest | Wire, *, profile_id: str | None = None
    ) -> TokenizeResponse:
        return await self._client._run(ops.post_tokenize(request, profile_id))


@twin_of(sync_tokens.TokenApi)
class AsyncTokenApi:
    def __init__(self, client: AsyncClient) -> None:
        self.client = client

    async def post_token_payment_credentials(
        self,
        token_id: str,
        post_payment_credentials_request: PaymentCredentialsRequest | Wire | None = None,
        profile_id: str | None = None,
    ) -> str:
        return await self.client.tokens.payment_credentials(
            token_id, post_payment_credentials_request, profile_id=profile_id
        )

    async def post_token_payment_credentials_v3(
        self,
        token_id: str,
        post_payment_credentials_request: PaymentCredentialsRequest | Wire | None = None,
        profile_id: str | None = None,
    ) -> str:
        return await self.client.tokens.payment_credentials_v3(
            token_id, post_payment_credentials_request, profile_id=profile_id
        )

    async def decrypted_payment_credentials(
        self,
        token_id: str,
        post_payment_credentials_request: PaymentCredentialsRequest | Wire | None = None,
        profile_id: str | None = None,
        *,
        private_key: PrivateKeyLike | None = None,
        version: int = 3,
    ) -> PaymentCredentials:
        return await self.client.tokens.decrypted_payment_credentials(
            token_id,
            post_payment_credentials_request,
            private_key=private_key,
            version=version,
            profile_id=profile_id,
        )
