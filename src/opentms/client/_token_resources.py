"""The network-token resources of the synchronous :class:`Client`: tokenized
cards, payment credentials, tokenize, and :class:`TokenApi`, the facade named
after the CyberSource SDK's ``TokenApi``.

Every method also takes ``profile_id`` (keyword): the ``profile-id`` header,
default the client's profile.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from opentms.client import _operations as ops
from opentms.client._jwe import decrypt_payment_credentials
from opentms.client._keys import PrivateKeyLike
from opentms.client._resources import SyncResource

if TYPE_CHECKING:
    from opentms.client._client import Client
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


class TokenizedCards(SyncResource):
    """``client.tokenized_cards``: network tokens (``/tms/v2/tokenized-cards``)."""

    def create(
        self, request: TokenizedCardRequest | Wire, *, profile_id: str | None = None
    ) -> TokenizedCard:
        """Provision a network token for a card. A network that declines
        raises ``Forbidden`` with ``type`` ``declined``.

        **Parameters:** **request** - a ``TokenizedCardRequest`` or its wire-form dict.
        """
        return self._client._run(ops.post_tokenized_card(request, profile_id))

    def get(self, tokenized_card_id: str, *, profile_id: str | None = None) -> TokenizedCard:
        """Retrieve a tokenized card (the token number masked)."""
        return self._client._run(ops.get_tokenized_card(tokenized_card_id, profile_id))

    def delete(
        self,
        tokenized_card_id: str,
        request: TokenizedCardDeleteRequest | Wire | None = None,
        *,
        profile_id: str | None = None,
    ) -> None:
        """Delete a network token (``POST .../delete``); its state becomes ``DELETED``.

        **Parameters:** **request** - optional reason,
        ``{"reason": {"code": "FRAUD" | "PAYMENT_METHOD_REMOVED"}}``.
        """
        self._client._run(ops.post_tokenized_card_delete(tokenized_card_id, request, profile_id))

    def simulate_life_cycle(
        self,
        tokenized_card_id: str,
        request: LifeCycleSimulationRequest | Wire,
        *,
        profile_id: str | None = None,
    ) -> None:
        """Simulate an issuer event (test environments): suspend, resume or
        delete the token, reissue the card, or change its card art. Needs a
        profile (the client's default, or ``profile_id``).

        **Parameters:** **request** - e.g. ``{"state": "SUSPENDED"}``.
        """
        self._client._run(
            ops.post_issuer_life_cycle_simulation(tokenized_card_id, request, profile_id)
        )

    def card_art(
        self, instrument_identifier_id: str, token_provider: str, asset_type: str
    ) -> CardArtAsset:
        """Retrieve a card-art image of a token (sent without ``profile-id``).

        **Parameters:**

        * **instrument_identifier_id** - the card's instrument identifier.
        * **token_provider** - ``vts``, ``mdes``, ``amex`` or ``mscof``.
        * **asset_type** - ``card-art-combined``, ``brand-logo``, ``issuer-logo``, ``icon-logo``.
        """
        return self._client._run(
            ops.get_card_art_asset(instrument_identifier_id, token_provider, asset_type)
        )


class Tokens(SyncResource):
    """``client.tokens``: payment credentials of any token (customer, payment
    instrument, instrument identifier or tokenized card) and ``tokenize``.

    ```python
    credentials = client.tokens.decrypted_payment_credentials(customer_id)
    print(credentials.tokenized_card.masked_number, credentials.tokenized_card.eci)
    ```
    """

    def payment_credentials(
        self,
        token_id: str,
        request: PaymentCredentialsRequest | Wire | None = None,
        *,
        profile_id: str | None = None,
    ) -> str:
        """The payment credentials of ``token_id`` as a compact JWE
        (``POST /tms/v2/tokens/{tokenId}/payment-credentials``), encrypted to
        the merchant's payment-credentials key. ``NotFound`` without a network token.

        **Parameters:** **request** - a ``PaymentCredentialsRequest``, its
        wire-form dict, or ``None`` for the default (token and cryptogram).
        """
        return self._client._run(ops.post_token_payment_credentials(token_id, request, profile_id))

    def payment_credentials_v3(
        self,
        token_id: str,
        request: PaymentCredentialsRequest | Wire | None = None,
        *,
        profile_id: str | None = None,
    ) -> str:
        """Like ``payment_credentials``, on ``/tms/v3``: without a network token
        the JWE carries the card itself."""
        return self._client._run(
            ops.post_token_payment_credentials(token_id, request, profile_id, 3)
        )

    def decrypted_payment_credentials(
        self,
        token_id: str,
        request: PaymentCredentialsRequest | Wire | None = None,
        *,
        private_key: PrivateKeyLike | None = None,
        version: int = 3,
        profile_id: str | None = None,
    ) -> PaymentCredentials:
        """Request the payment credentials and decrypt them in one call.

        **Parameters:**

        * **private_key** - the merchant's payment-credentials private key (a
          path, PEM text or bytes, or an ``RSAPrivateKey``); default the
          client's ``credentials_private_key`` (set by ``from_credentials_file``).
        * **version** - ``3`` (default) or ``2``, the endpoint to call.

        Raises ``CredentialDecryptionFailed`` when the key does not open them.
        """
        key = self._client._credentials_key(private_key)
        jwe = self._client._run(
            ops.post_token_payment_credentials(token_id, request, profile_id, version)
        )
        return decrypt_payment_credentials(jwe, key)

    def tokenize(
        self, request: TokenizeRequest | Wire, *, profile_id: str | None = None
    ) -> TokenizeResponse:
        """Create a customer, payment instrument, instrument identifier,
        shipping address and network token in one call (``POST /tms/v2/tokenize``).
        Each resource answers its own ``http_status`` in ``responses``. The
        body is encrypted (request MLE) whenever the client has the server's
        certificate."""
        return self._client._run(ops.post_tokenize(request, profile_id))


class TokenApi:
    """The CyberSource SDK's ``post_token_payment_credentials``, on a :class:`Client`.

    The class name ``TokenApi`` is this client's: in the official Python SDK
    0.0.80 the method lives on ``NetworkTokensApi`` (it has no ``TokenApi``
    class) and answers tuples: ``*_with_http_info`` gives ``(model, status,
    headers)``, the plain method ``(model, status, raw body)``; here it returns
    the JWE alone.

    ```python
    jwe = TokenApi(client).post_token_payment_credentials(customer_id, {})
    ```

    **Parameters:** **client** - the :class:`Client` to call with.
    """

    def __init__(self, client: Client) -> None:
        self.client = client

    def post_token_payment_credentials(
        self,
        token_id: str,
        post_payment_credentials_request: PaymentCredentialsRequest | Wire | None = None,
        profile_id: str | None = None,
    ) -> str:
        """The payment credentials of ``token_id`` as a compact JWE
        (``/tms/v2/tokens/{tokenId}/payment-credentials``), as the SDK returns them.

        **Parameters:**

        * **token_id** - a customer, payment instrument, instrument identifier or tokenized card id.
        * **post_payment_credentials_request** - a ``PaymentCredentialsRequest`` or wire-form dict.
        * **profile_id** - the ``profile-id`` header (default: the client's).
        """
        return self.client.tokens.payment_credentials(
            token_id, post_payment_credentials_request, profile_id=profile_id
        )

    def post_token_payment_credentials_v3(
        self,
        token_id: str,
        post_payment_credentials_request: PaymentCredentialsRequest | Wire | None = None,
        profile_id: str | None = None,
    ) -> str:
        """The v3 payment credentials (``/tms/v3/...``) as a compact JWE."""
        return self.client.tokens.payment_credentials_v3(
            token_id, post_payment_credentials_request, profile_id=profile_id
        )

    def decrypted_payment_credentials(
        self,
        token_id: str,
        post_payment_credentials_request: PaymentCredentialsRequest | Wire | None = None,
        profile_id: str | None = None,
        *,
        private_key: PrivateKeyLike | None = None,
        version: int = 3,
    ) -> PaymentCredentials:
        """Request and decrypt the payment credentials; see
        ``Tokens.decrypted_payment_credentials``."""
        return self.client.tokens.decrypted_payment_credentials(
            token_id,
            post_payment_credentials_request,
            private_key=private_key,
            version=version,
            profile_id=profile_id,
        )
