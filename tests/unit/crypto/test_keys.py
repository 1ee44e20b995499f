from __future__ import annotations

import base64

import pytest

from opentms.crypto.keys import DataKey, FingerprintKey, MasterKey, SymmetricKey

MATERIAL = bytes(range(32))


@pytest.mark.parametrize(
    "length",
    [pytest.param(0, id="empty"), pytest.param(16, id="128-bit"), pytest.param(33, id="33")],
)
def test_a_key_must_be_256_bits(length: int) -> None:
    with pytest.raises(ValueError, match="32 bytes"):
        SymmetricKey(bytes(length))


def test_key_id_known_answer() -> None:
    # HMAC-SHA256(key, "opentms key id")[:4], computed with `openssl dgst -mac HMAC`.
    assert MasterKey(MATERIAL).key_id == bytes.fromhex("32ea84e9")
    assert DataKey(bytes(range(32, 64))).key_id == bytes.fromhex("d2f1038b")


@pytest.mark.parametrize(
    "cls",
    [
        pytest.param(MasterKey, id="master"),
        pytest.param(DataKey, id="data"),
        pytest.param(FingerprintKey, id="fingerprint"),
    ],
)
def test_generated_keys_are_random_and_of_their_class(cls: type[SymmetricKey]) -> None:
    keys = [cls.generate() for _ in range(50)]
    assert all(type(key) is cls for key in keys)
    assert len({key.reveal() for key in keys}) == 50


@pytest.mark.parametrize(
    ("cls", "name"),
    [
        pytest.param(MasterKey, "MasterKey", id="master"),
        pytest.param(DataKey, "DataKey", id="data"),
        pytest.param(FingerprintKey, "FingerprintKey", id="fingerprint"),
    ],
)
def test_key_renderings_show_the_id_never_the_material(cls: type[SymmetricKey], name: str) -> None:
    key = cls(MATERIAL)
    expected = f"{name}(id=32ea84e9, '**********')"
    renderings = [repr(key), str(key), f"{key}", f"{key!r}", "%s" % key, str([key])]  # noqa: UP031
    forms = [
        MATERIAL.hex(),
        MATERIAL.hex().upper(),
        base64.b64encode(MATERIAL).decode(),
        base64.urlsafe_b64encode(MATERIAL).decode().rstrip("="),
        repr(MATERIAL)[2:-1],
    ]
    for text in renderings:
        assert expected in text
        for form in forms:
            assert form not in text
