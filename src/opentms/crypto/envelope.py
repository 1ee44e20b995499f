"""Sealing bytes at rest: AES-256-GCM with a version byte and a key id.

Layout of a sealed value (version 1)::

    0x01 | key id (4 bytes) | nonce (12 bytes) | ciphertext + tag (16 bytes)

The first five bytes and the caller's context are authenticated as AAD, so a
ciphertext cannot be moved to another row, merchant or purpose without failing
to open. Every failure raises the same :class:`DecryptionFailed`.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from opentms.crypto.keys import SymmetricKey
from opentms.domain.errors import DecryptionFailed

VERSION_1 = 1
_HEADER = 5
_NONCE = 12


def seal(key: SymmetricKey, plaintext: bytes, context: bytes) -> bytes:
    """Encrypt ``plaintext`` under ``key``, bound to ``context``.

    >>> sealed = seal(key, b"4111111111111111", b"ii:7010000000016241111")
    >>> unseal([key], sealed, b"ii:7010000000016241111")
    b'4111111111111111'
    """
    header = bytes([VERSION_1]) + key.key_id
    nonce = secrets.token_bytes(_NONCE)
    return header + nonce + AESGCM(key.reveal()).encrypt(nonce, plaintext, header + context)


def unseal(keys: Iterable[SymmetricKey], sealed: bytes, context: bytes) -> bytes:
    """Open a value sealed by :func:`seal` with whichever of ``keys`` sealed it."""
    if len(sealed) < _HEADER + _NONCE + 16 or sealed[0] != VERSION_1:
        raise DecryptionFailed()
    key_id = sealed[1:_HEADER]
    for key in keys:
        if key.key_id == key_id:
            try:
                return AESGCM(key.reveal()).decrypt(
                    sealed[_HEADER : _HEADER + _NONCE],
                    sealed[_HEADER + _NONCE :],
                    sealed[:_HEADER] + context,
                )
            except InvalidTag:
                raise DecryptionFailed() from None
    raise DecryptionFailed()


def sealed_key_id(sealed: bytes) -> bytes:
    """The key id a sealed value names (for rotation: which values are old)."""
    return sealed[1:_HEADER]


def frame(key_id: bytes, nonce: bytes, ciphertext: bytes) -> bytes:
    """A sealed value from its parts (the :func:`seal` layout), for a key
    that encrypts elsewhere (a master key provider, an HSM)."""
    return bytes([VERSION_1]) + key_id + nonce + ciphertext


def header(key_id: bytes) -> bytes:
    """The authenticated header of a value sealed under ``key_id``."""
    return bytes([VERSION_1]) + key_id


def new_nonce() -> bytes:
    return secrets.token_bytes(_NONCE)


def parts(sealed: bytes) -> tuple[bytes, bytes, bytes]:
    """A sealed value's key id, nonce and ciphertext (with its tag);
    DecryptionFailed when it cannot be one."""
    if len(sealed) < _HEADER + _NONCE + 16 or sealed[0] != VERSION_1:
        raise DecryptionFailed()
    return sealed[1:_HEADER], sealed[_HEADER : _HEADER + _NONCE], sealed[_HEADER + _NONCE :]
