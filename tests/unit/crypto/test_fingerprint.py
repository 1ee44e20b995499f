from __future__ import annotations

from opentms.crypto.fingerprint import fingerprint
from opentms.crypto.keys import FingerprintKey

KEY = FingerprintKey(bytes(range(32, 64)))

# HMAC-SHA256(key 0x20..0x3f, kind || 0x00 || value), computed with
# `printf 'card\0004111111111111111' | openssl dgst -sha256 -mac HMAC -macopt hexkey:...`.
CARD_4111 = "d919fe423854c37ad31585ca96a1ee5f1daaee97361aa92cece959f64e92d72f"
BANK_4111 = "bf0d0aae5c24002d460825ad300973e648fb599b3adc68d849640daa2ef49abb"


def test_fingerprint_known_answer() -> None:
    assert fingerprint(KEY, "card", "4111111111111111").hex() == CARD_4111


def test_fingerprint_known_answer_for_another_kind() -> None:
    assert fingerprint(KEY, "bank", "4111111111111111").hex() == BANK_4111


def test_fingerprint_is_stable_and_32_bytes() -> None:
    first = fingerprint(KEY, "card", "4111111111111111")
    assert len(first) == 32
    assert fingerprint(FingerprintKey(bytes(range(32, 64))), "card", "4111111111111111") == first


def test_fingerprint_differs_per_key() -> None:
    other = FingerprintKey(bytes(range(33, 65)))
    assert fingerprint(other, "card", "4111111111111111").hex() != CARD_4111


def test_fingerprint_differs_per_value() -> None:
    assert fingerprint(KEY, "card", "4111111111111112").hex() != CARD_4111


def test_fingerprint_kind_and_value_do_not_run_together() -> None:
    # "card" + "1..." must not collide with "card1" + "...".
    assert fingerprint(KEY, "card", "14111") != fingerprint(KEY, "card1", "4111")
