from __future__ import annotations

import secrets
from collections.abc import Callable

import pytest

from opentms.crypto.envelope import VERSION_1, seal, sealed_key_id, unseal
from opentms.crypto.keys import DataKey
from opentms.domain.errors import DecryptionFailed

KEY = DataKey(bytes(range(32)))
NONCE = bytes(range(0xA0, 0xAC))
PLAINTEXT = b"4111111111111111"
CONTEXT = b"ii:7010000000016241111"

# seal(KEY, PLAINTEXT, CONTEXT) with NONCE: 0x01 | key id 32ea84e9 | nonce |
# AES-256-GCM(ciphertext || tag) with AAD = 0x01 | key id | CONTEXT. Computed
# once outside opentms (the AES-GCM primitive directly, key id with openssl).
VECTOR = bytes.fromhex(
    "01"
    "32ea84e9"
    "a0a1a2a3a4a5a6a7a8a9aaab"
    "d2294d1c74fa338e5354b6e2364bf1ef"
    "ea5034d8362b73477cd1740c999f242f"
)


@pytest.fixture
def fixed_nonce(monkeypatch: pytest.MonkeyPatch) -> None:
    def token_bytes(n: int | None = None) -> bytes:
        assert n == 12
        return NONCE

    monkeypatch.setattr("opentms.crypto.envelope.secrets.token_bytes", token_bytes)


@pytest.mark.usefixtures("fixed_nonce")
def test_seal_known_answer() -> None:
    assert seal(KEY, PLAINTEXT, CONTEXT).hex() == VECTOR.hex()


def test_unseal_known_answer() -> None:
    assert unseal([KEY], VECTOR, CONTEXT) == PLAINTEXT


@pytest.mark.parametrize(
    "plaintext",
    [
        pytest.param(b"", id="empty"),
        pytest.param(b"x", id="one-byte"),
        pytest.param(PLAINTEXT, id="pan"),
        pytest.param(bytes(range(256)) * 8, id="2048-bytes"),
    ],
)
def test_sealed_layout(plaintext: bytes) -> None:
    sealed = seal(KEY, plaintext, CONTEXT)
    assert sealed[0] == VERSION_1 == 1
    assert sealed[1:5] == KEY.key_id
    assert sealed_key_id(sealed) == KEY.key_id
    assert len(sealed) == 1 + 4 + 12 + len(plaintext) + 16
    if len(plaintext) >= 8:
        assert plaintext not in sealed
    assert unseal([KEY], sealed, CONTEXT) == plaintext


def test_every_seal_uses_a_fresh_nonce() -> None:
    nonces = {seal(KEY, PLAINTEXT, CONTEXT)[5:17] for _ in range(200)}
    assert len(nonces) == 200


def test_tampering_with_any_byte_fails() -> None:
    sealed = seal(KEY, PLAINTEXT, CONTEXT)
    for position in range(len(sealed)):
        for flip in (0x01, 0x80):
            tampered = bytearray(sealed)
            tampered[position] ^= flip
            with pytest.raises(DecryptionFailed):
                unseal([KEY], bytes(tampered), CONTEXT)


@pytest.mark.parametrize(
    "cut",
    [
        pytest.param(lambda s: s[:-1], id="last-byte-dropped"),
        pytest.param(lambda s: s[:33], id="header-nonce-and-16-bytes"),
        pytest.param(lambda s: s[:17], id="header-and-nonce"),
        pytest.param(lambda _: b"", id="empty"),
        pytest.param(lambda s: s + b"\x00", id="byte-appended"),
    ],
)
def test_truncated_or_extended_values_fail(cut: Callable[[bytes], bytes]) -> None:
    sealed = seal(KEY, PLAINTEXT, CONTEXT)
    with pytest.raises(DecryptionFailed):
        unseal([KEY], cut(sealed), CONTEXT)


@pytest.mark.parametrize(
    "context",
    [
        pytest.param(b"ii:7010000000016241112", id="other-row"),
        pytest.param(b"", id="empty"),
        pytest.param(CONTEXT + b"\x00", id="suffix"),
        pytest.param(CONTEXT[:-1], id="prefix"),
    ],
)
def test_wrong_context_fails(context: bytes) -> None:
    sealed = seal(KEY, PLAINTEXT, CONTEXT)
    with pytest.raises(DecryptionFailed):
        unseal([KEY], sealed, context)


def test_unknown_key_id_fails() -> None:
    sealed = seal(KEY, PLAINTEXT, CONTEXT)
    with pytest.raises(DecryptionFailed):
        unseal(
            [DataKey(secrets.token_bytes(32)), DataKey(secrets.token_bytes(32))], sealed, CONTEXT
        )
    with pytest.raises(DecryptionFailed):
        unseal([], sealed, CONTEXT)


def test_other_version_byte_fails_even_with_a_valid_tag_layout() -> None:
    sealed = bytearray(seal(KEY, PLAINTEXT, CONTEXT))
    sealed[0] = 2
    with pytest.raises(DecryptionFailed):
        unseal([KEY], bytes(sealed), CONTEXT)


def test_rotation_opens_old_values_with_the_new_key_first() -> None:
    old, new = DataKey(secrets.token_bytes(32)), DataKey(secrets.token_bytes(32))
    sealed_old = seal(old, PLAINTEXT, CONTEXT)
    sealed_new = seal(new, PLAINTEXT, CONTEXT)
    assert sealed_key_id(sealed_old) == old.key_id
    assert unseal([new, old], sealed_old, CONTEXT) == PLAINTEXT
    assert unseal([new, old], sealed_new, CONTEXT) == PLAINTEXT
    with pytest.raises(DecryptionFailed):
        unseal([old], sealed_new, CONTEXT)
    with pytest.raises(DecryptionFailed):
        unseal([new], sealed_old, CONTEXT)


def test_failure_is_opaque() -> None:
    sealed = bytearray(seal(KEY, PLAINTEXT, CONTEXT))
    sealed[-1] ^= 1
    with pytest.raises(DecryptionFailed) as caught:
        unseal([KEY], bytes(sealed), CONTEXT)
    text = str(caught.value)
    assert text == "Stored data could not be decrypted."
    assert KEY.key_id.hex() not in text
    assert caught.value.__cause__ is None
    assert caught.value.__suppress_context__
