"""The pkcs11 provider against SoftHSM2: the master key is made in the
token, never leaves it, and seals and opens there."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from opentms.adapters.keys.providers import master_key_provider
from opentms.config import Settings
from opentms.crypto.envelope import sealed_key_id
from opentms.crypto.keyring import Keyring
from opentms.crypto.keys import MasterKey
from opentms.crypto.providers import KeyProviderError, KeyVersion, LocalKeys
from opentms.domain.errors import DecryptionFailed
from tests.keys.conftest import SoftHSM


def _provider(hsm: SoftHSM) -> object:
    from opentms.adapters.keys.pkcs11 import Pkcs11KeyProvider

    return Pkcs11KeyProvider(hsm.module, hsm.token_label, hsm.pin)


def _keyring(hsm: SoftHSM) -> Keyring:
    return Keyring(_provider(hsm), refresh_seconds=0)  # type: ignore[arg-type]


def test_an_empty_token_gets_version_1_made_inside_it(softhsm: SoftHSM) -> None:
    import pkcs11
    from pkcs11 import Attribute, ObjectClass
    from pkcs11.exceptions import AttributeSensitive

    keyring = _keyring(softhsm)
    (version,) = keyring.versions()
    assert version.version == 1
    sealed = keyring.seal(b"secret", "server-key\x00a")
    assert sealed_key_id(sealed) == version.key_id
    assert keyring.unseal(sealed, "server-key\x00a") == b"secret"

    token = pkcs11.lib(softhsm.module).get_token(token_label=softhsm.token_label)
    with token.open() as session:
        (key,) = session.get_objects({Attribute.CLASS: ObjectClass.SECRET_KEY})
        assert key[Attribute.LABEL] == "opentms-master-v1"
        assert bytes(key[Attribute.ID]) == version.key_id
        assert key[Attribute.EXTRACTABLE] is False
        assert key[Attribute.NEVER_EXTRACTABLE] is True
        assert key[Attribute.SENSITIVE] is True
        with pytest.raises(AttributeSensitive):
            key[Attribute.VALUE]


def test_a_value_sealed_in_the_hsm_opens_only_there(softhsm: SoftHSM) -> None:
    keyring = _keyring(softhsm)
    sealed = keyring.seal(b"secret", "c")
    # The same layout and key id, but no key outside the token opens it.
    outsider = Keyring(LocalKeys([(1, MasterKey.generate())]))
    with pytest.raises(DecryptionFailed):
        outsider.unseal(sealed, "c")
    with pytest.raises(DecryptionFailed):
        keyring.unseal(sealed, "other context")
    with pytest.raises(DecryptionFailed):
        keyring.unseal(sealed[:-1] + bytes([sealed[-1] ^ 1]), "c")


def test_rotate_and_retire_in_the_token(softhsm: SoftHSM) -> None:
    keyring = _keyring(softhsm)
    old = keyring.seal(b"old", "c")
    version = keyring.provider.rotate()
    assert version.version == 2
    keyring.refresh()
    assert keyring.newest == version
    assert sealed_key_id(keyring.seal(b"new", "c")) == version.key_id
    moved = keyring.reseal(old, "c")
    assert moved is not None
    first = keyring.versions()[0]
    keyring.provider.retire(first)
    # Another process's provider sees the retirement: v1 opens nothing again.
    other = _keyring(softhsm)
    assert other.versions() == (version,)
    with pytest.raises(DecryptionFailed):
        other.unseal(old, "c")
    assert other.unseal(moved, "c") == b"old"


def test_threads_share_the_process_session(softhsm: SoftHSM) -> None:
    keyring = _keyring(softhsm)
    failures: list[BaseException] = []

    def work(n: int) -> None:
        try:
            for i in range(30):
                context = f"c{n}:{i}"
                assert keyring.unseal(keyring.seal(context.encode(), context), context) == (
                    context.encode()
                )
        except BaseException as exc:
            failures.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []


def test_settings_name_the_token_and_the_pin(softhsm: SoftHSM, tmp_path: Path) -> None:
    pin_file = tmp_path / "pin"
    pin_file.write_text(softhsm.pin + "\n")
    settings = Settings(
        data_dir=tmp_path,
        key_provider="pkcs11",
        pkcs11_module=softhsm.module,
        pkcs11_token_label=softhsm.token_label,
        pkcs11_pin_file=pin_file,
    )
    keyring = Keyring(master_key_provider(settings))
    assert keyring.newest.version == 1
    with pytest.raises(KeyProviderError, match="needs the token's user PIN"):
        master_key_provider(settings.model_copy(update={"pkcs11_pin_file": None}))
    wrong = settings.model_copy(update={"pkcs11_token_label": "no-such-token"})
    with pytest.raises(KeyProviderError, match="No PKCS#11 token labelled 'no-such-token'"):
        Keyring(master_key_provider(wrong))


def test_an_unknown_version_is_refused(softhsm: SoftHSM) -> None:
    keyring = _keyring(softhsm)
    with pytest.raises(DecryptionFailed):
        keyring.provider.decrypt(KeyVersion(9, b"\x00\x00\x00\x09"), bytes(12), bytes(32), b"")
