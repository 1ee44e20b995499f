"""The simulated networks' secrets: the index that finds tokens and cards by
number across merchants, and the sealing of each token's master key."""

from __future__ import annotations

import hashlib
import hmac

from opentms.crypto.keyring import Keyring


class NetworkSecrets:
    def __init__(self, keyring: Keyring, index_key: bytes) -> None:
        if len(index_key) != 32:
            raise ValueError("The network index key must be 32 bytes.")
        self._keyring = keyring
        self._index_key = index_key

    def index(self, number: str) -> bytes:
        """HMAC-SHA256 of a card or token number: equal numbers, equal index,
        whatever the merchant; unrelated without the key."""
        return hmac.new(self._index_key, b"number\x00" + number.encode(), hashlib.sha256).digest()

    def seal_token_key(self, token_id: str, key: bytes) -> bytes:
        return self._keyring.seal(key, f"token-key\x00{token_id}")

    def open_token_key(self, token_id: str, sealed: bytes) -> bytes:
        return self._keyring.unseal(sealed, f"token-key\x00{token_id}")

    def __repr__(self) -> str:
        return "NetworkSecrets('**********')"
