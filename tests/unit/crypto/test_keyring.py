from __future__ import annotations

import base64
import secrets
from dataclasses import replace

import pytest

from opentms.crypto.keyring import Keyring, MerchantKeys
from opentms.crypto.keys import DataKey, FingerprintKey, MasterKey
from opentms.domain.errors import DecryptionFailed


def _forms(material: bytes) -> list[str]:
    return [
        material.hex(),
        material.hex().upper(),
        base64.b64encode(material).decode(),
        base64.urlsafe_b64encode(material).decode().rstrip("="),
        repr(material)[2:-1],
    ]


@pytest.fixture
def master() -> MasterKey:
    return MasterKey(secrets.token_bytes(32))


@pytest.fixture
def keyring(master: MasterKey) -> Keyring:
    return Keyring([master])


def test_a_keyring_needs_a_master_key() -> None:
    with pytest.raises(ValueError, match="at least one"):
        Keyring([])


def test_open_returns_working_merchant_keys(keyring: Keyring) -> None:
    wrapped = keyring.new_merchant_keys("merchant_a")
    keys = keyring.open("merchant_a", wrapped)
    assert keys.merchant_id == "merchant_a"
    sealed = keys.seal(b"4111111111111111", "instrumentIdentifier:1")
    assert keys.unseal(sealed, "instrumentIdentifier:1") == b"4111111111111111"
    assert keys.fingerprint("card", "4111111111111111") == keys.fingerprint(
        "card", "4111111111111111"
    )


def test_wrapped_keys_do_not_contain_the_key_material(keyring: Keyring) -> None:
    wrapped = keyring.new_merchant_keys("merchant_a")
    keys = keyring.open("merchant_a", wrapped)
    for blob in (wrapped.data_key, wrapped.fingerprint_key):
        assert keys.data_key.reveal() not in blob
        assert keys.fingerprint_key.reveal() not in blob
        assert blob[1:5] == keyring.master_key_id
    assert keys.data_key.reveal() != keys.fingerprint_key.reveal()


def test_every_merchant_gets_its_own_keys(keyring: Keyring) -> None:
    a = keyring.open("merchant_a", keyring.new_merchant_keys("merchant_a"))
    b = keyring.open("merchant_b", keyring.new_merchant_keys("merchant_b"))
    assert a.data_key.reveal() != b.data_key.reveal()
    assert a.fingerprint("card", "4111111111111111") != b.fingerprint("card", "4111111111111111")


def test_open_caches_per_merchant_and_wrapped_keys(keyring: Keyring) -> None:
    wrapped = keyring.new_merchant_keys("merchant_a")
    first = keyring.open("merchant_a", wrapped)
    assert keyring.open("merchant_a", wrapped) is first
    # An equal (not identical) value hits the same entry.
    assert keyring.open("merchant_a", replace(wrapped)) is first
    other = keyring.new_merchant_keys("merchant_a")
    assert keyring.open("merchant_a", other) is not first


def test_open_caches_without_unsealing_again(
    keyring: Keyring, monkeypatch: pytest.MonkeyPatch
) -> None:
    wrapped = keyring.new_merchant_keys("merchant_a")
    keyring.open("merchant_a", wrapped)
    calls: list[str] = []
    original = keyring.unseal

    def counting_unseal(sealed: bytes, context: str) -> bytes:
        calls.append(context)
        return original(sealed, context)

    monkeypatch.setattr(keyring, "unseal", counting_unseal)
    keyring.open("merchant_a", wrapped)
    assert calls == []
    keyring.open("merchant_b", keyring.new_merchant_keys("merchant_b"))
    assert len(calls) == 2


def test_wrapped_keys_open_only_for_their_merchant(keyring: Keyring) -> None:
    wrapped = keyring.new_merchant_keys("merchant_a")
    with pytest.raises(DecryptionFailed):
        keyring.open("merchant_b", wrapped)


def test_data_and_fingerprint_keys_cannot_be_swapped(keyring: Keyring) -> None:
    wrapped = keyring.new_merchant_keys("merchant_a")
    swapped = replace(wrapped, data_key=wrapped.fingerprint_key, fingerprint_key=wrapped.data_key)
    with pytest.raises(DecryptionFailed):
        keyring.open("merchant_a", swapped)


def test_another_master_key_cannot_open(keyring: Keyring) -> None:
    wrapped = keyring.new_merchant_keys("merchant_a")
    with pytest.raises(DecryptionFailed):
        Keyring([MasterKey(secrets.token_bytes(32))]).open("merchant_a", wrapped)


def test_rotation_keeps_old_merchant_keys_readable(master: MasterKey) -> None:
    old_keyring = Keyring([master])
    wrapped = old_keyring.new_merchant_keys("merchant_a")
    sealed = old_keyring.open("merchant_a", wrapped).seal(b"secret", "customer:1")
    new = MasterKey(secrets.token_bytes(32))
    rotated = Keyring([new, master])
    assert rotated.master_key_id == new.key_id
    assert rotated.open("merchant_a", wrapped).unseal(sealed, "customer:1") == b"secret"
    rewrapped = rotated.new_merchant_keys("merchant_b")
    assert rewrapped.data_key[1:5] == new.key_id
    with pytest.raises(DecryptionFailed):
        old_keyring.open("merchant_b", rewrapped)


def test_server_secrets_are_bound_to_their_context(keyring: Keyring) -> None:
    sealed = keyring.seal(b"shared secret", "shared-secret\x00key-1")
    assert keyring.unseal(sealed, "shared-secret\x00key-1") == b"shared secret"
    with pytest.raises(DecryptionFailed):
        keyring.unseal(sealed, "shared-secret\x00key-2")


def test_merchant_data_is_bound_to_the_merchant_even_under_the_same_key() -> None:
    data_key, fingerprint_key = (
        DataKey(secrets.token_bytes(32)),
        FingerprintKey(secrets.token_bytes(32)),
    )
    a = MerchantKeys("merchant_a", data_key, fingerprint_key)
    b = MerchantKeys("merchant_b", data_key, fingerprint_key)
    sealed = a.seal(b"4111111111111111", "instrumentIdentifier:1")
    with pytest.raises(DecryptionFailed):
        b.unseal(sealed, "instrumentIdentifier:1")
    with pytest.raises(DecryptionFailed):
        a.unseal(sealed, "instrumentIdentifier:2")


def test_reprs_never_show_key_material(keyring: Keyring, master: MasterKey) -> None:
    keys = keyring.open("merchant_a", keyring.new_merchant_keys("merchant_a"))
    materials = [master.reveal(), keys.data_key.reveal(), keys.fingerprint_key.reveal()]
    objects: list[object] = [keyring, keys, master, keys.data_key, keys.fingerprint_key]
    for obj in objects:
        for text in (repr(obj), str(obj), f"{obj}", f"{obj!r}", str([obj])):
            assert "**********" in text
            for material in materials:
                for form in _forms(material):
                    assert form not in text
    assert repr(keys) == "MerchantKeys('merchant_a', '**********')"
    assert repr(keyring) == "Keyring(masters=1, '**********')"
