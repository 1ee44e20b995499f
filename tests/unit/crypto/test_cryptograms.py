from __future__ import annotations

import base64
import json
import random
import warnings
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
from cryptography.hazmat.primitives.ciphers import Cipher, modes
from cryptography.utils import CryptographyDeprecationWarning
from pyemv import ac, kd

from opentms.crypto import cryptograms
from opentms.crypto.cryptograms import (
    CryptogramFlag,
    InvalidCryptogram,
    Network,
    ParsedCryptogram,
    TransactionData,
    TransactionType,
    amount_minor_units,
    commerce_indicator,
    currency_numeric,
    derive_token_master_key,
    eci_for,
    generate_cryptogram,
    generate_dynamic_code,
    merchant_reference,
    parse_cryptogram,
    verify_cryptogram,
    verify_dynamic_code,
)

VECTORS: dict[str, Any] = json.loads(
    (Path(__file__).parents[2] / "vectors" / "cryptograms.json").read_text()
)
IMK = bytes.fromhex("0123456789ABCDEFFEDCBA9876543210")
TOKENS = {Network(v["name"]): v["token_number"] for v in VECTORS["token_master_keys"][1:]}
UN = bytes.fromhex("11223344")
CRYPTOGRAM_NETWORKS = [Network.VISA, Network.MASTERCARD, Network.DISCOVER]


def tmk(network: Network) -> bytes:
    return derive_token_master_key(IMK, TOKENS[network])


def bound_data(
    amount: int = 1050, currency: str = "840", merchant: str = "merchant_a"
) -> TransactionData:
    return TransactionData(amount, currency, merchant_reference(merchant))


def case_data(case: dict[str, Any]) -> TransactionData:
    currency = currency_numeric(case["currency"]) if case["currency"] else "000"
    amount = amount_minor_units(case["amount"], currency) if case["amount"] else 0
    return TransactionData(
        amount,
        currency,
        merchant_reference(case["merchant_id"]),
        TransactionType(case["transaction_type"]),
    )


def reencode(value: str, offset: int, replacement: bytes) -> str:
    raw = bytearray(base64.b64decode(value))
    raw[offset : offset + len(replacement)] = replacement
    return base64.b64encode(bytes(raw)).decode()


# An independent implementation of the documented construction, on the TripleDES of
# `cryptography`'s decrepit module with 24-byte keys (no deprecation warning): EMV
# Option A, EMV common session key, ISO/IEC 9797-1 MAC algorithm 3 with padding 2.


def _tdes(key: bytes, block: bytes, *, decrypt: bool = False) -> bytes:
    # ECB on single blocks is how EMV defines these derivations.
    cipher = Cipher(TripleDES(key + key[:8]), modes.ECB())  # noqa: S305
    context = cipher.decryptor() if decrypt else cipher.encryptor()
    return context.update(block) + context.finalize()


def _odd_parity(key: bytes) -> bytes:
    return bytes(b ^ ((bin(b).count("1") + 1) % 2) for b in key)


def _option_a(imk: bytes, pan: str, psn: str) -> bytes:
    left = bytes.fromhex((pan + psn)[-16:].zfill(16))
    right = bytes(b ^ 0xFF for b in left)
    return _odd_parity(_tdes(imk, left) + _tdes(imk, right))


def _session_key(master_key: bytes, r: bytes) -> bytes:
    left, right = bytearray(r), bytearray(r)
    left[2], right[2] = 0xF0, 0x0F
    return _odd_parity(_tdes(master_key, bytes(left)) + _tdes(master_key, bytes(right)))


def _mac_algorithm_3(key: bytes, message: bytes) -> bytes:
    padded = message + b"\x80" + bytes(-(len(message) + 1) % 8)
    state = bytes(8)
    for i in range(0, len(padded), 8):
        block = bytes(a ^ b for a, b in zip(state, padded[i : i + 8], strict=True))
        state = _tdes(key[:8] * 2, block)
    return _tdes(key[:8] * 2, _tdes(key[8:] * 2, state, decrypt=True))


def _decimalise(mac: bytes, digits: int) -> str:
    nibbles = [int(c, 16) for c in mac.hex()]
    ordered = [n for n in nibbles if n < 10] + [n - 10 for n in nibbles if n >= 10]
    return "".join(str(n) for n in ordered[:digits])


# Known answers.


def test_independent_tdes_matches_published_emv_vectors() -> None:
    # pyemv's documented examples of EMV Option A and of the common session key.
    assert _option_a(IMK, "12345678901234567", "01").hex().upper() == (
        "73AD54688CEF2934B0979857E3C719F1"
    )
    assert _session_key(IMK, bytes.fromhex("001C000000000000")).hex().upper() == (
        "E9FB384AF807B940FEDCEA613461B0C4"
    )
    # pyemv's documented examples of ISO/IEC 9797-1 MAC algorithm 3 (EMV AC generation).
    session_key = bytes.fromhex("29B33180E567CE38EA4CBC9D753B0E61")
    data = bytes.fromhex("0123456789ABCDEF0123456789ABCDEF")
    assert _mac_algorithm_3(session_key, data).hex().upper() == "FA624250B008B59A"
    session_key = bytes.fromhex("AAAAAAAAAAAAAAAABBBBBBBBBBBBBBBB")
    data = bytes.fromhex("000000002000000000000000012400000080000124110309003804823E58000001")
    assert _mac_algorithm_3(session_key, data).hex().upper() == "3B76CF10FECD8789"


@pytest.mark.parametrize("case", VECTORS["token_master_keys"], ids=lambda c: c["name"])
def test_token_master_key_known_answer(case: dict[str, Any]) -> None:
    imk = bytes.fromhex(case["issuer_master_key"])
    derived = derive_token_master_key(imk, case["token_number"], case["sequence"])
    assert derived.hex().upper() == case["token_master_key"]
    assert _option_a(imk, case["token_number"], case["sequence"]) == derived


@pytest.mark.parametrize("case", VECTORS["cryptograms"], ids=lambda c: c["name"])
def test_cryptogram_known_answer(case: dict[str, Any]) -> None:
    network = Network(case["network"])
    data = case_data(case)
    value = generate_cryptogram(
        tmk(network),
        network,
        case["atc"],
        bytes.fromhex(case["unpredictable_number"]),
        data,
        bound=case["bound"],
        key_indicator=case["key_indicator"],
    )
    assert value == case["cryptogram"]
    assert len(value) == 28
    assert base64.b64decode(value).hex().upper() == case["cryptogram_hex"]
    assert data.merchant_reference.hex().upper() == case["merchant_reference"]
    parsed = verify_cryptogram(tmk(network), value, data)
    assert parsed == parse_cryptogram(case["cryptogram_hex"])
    assert (parsed.network, parsed.atc, parsed.key_indicator) == (
        network,
        case["atc"],
        case["key_indicator"],
    )
    assert parsed.unpredictable_number.hex().upper() == case["unpredictable_number"]


@pytest.mark.parametrize("case", VECTORS["cryptograms"], ids=lambda c: c["name"])
def test_cryptogram_matches_the_documented_layout(case: dict[str, Any]) -> None:
    network = Network(case["network"])
    data = case_data(case)
    raw = base64.b64decode(case["cryptogram"])
    code = {Network.VISA: 0x11, Network.MASTERCARD: 0x12, Network.DISCOVER: 0x14}[network]
    flags = 0
    if case["bound"] and data.amount:
        flags |= 0x01
    if case["bound"]:
        flags |= 0x02
    if data.transaction_type is TransactionType.AFT:
        flags |= 0x04
    amount = f"{data.amount:012d}0{data.currency}" if flags & 1 else "0" * 16
    merchant = data.merchant_reference if flags & 2 else bytes(4)
    un, atc = bytes.fromhex(case["unpredictable_number"]), case["atc"].to_bytes(2, "big")
    message = bytes([code, case["key_indicator"]]) + bytes.fromhex(amount) + merchant
    aft = 1 if data.transaction_type is TransactionType.AFT else 0
    message += bytes([aft]) + un + atc + bytes([flags])
    assert len(message) == 22
    master_key = _option_a(IMK, case["token_number"], "00")
    mac = _mac_algorithm_3(_session_key(master_key, atc + bytes(6)), message)
    expected = bytes([code, case["key_indicator"]]) + atc + mac + un + bytes([flags, 0, 0, 0])
    assert raw == expected


@pytest.mark.parametrize(
    "case", VECTORS["dynamic_codes"], ids=lambda c: f"{c['network']}-{c['atc']}"
)
def test_dynamic_code_known_answer(case: dict[str, Any]) -> None:
    network = Network(case["network"])
    token = case["token_number"]
    code = generate_dynamic_code(tmk(network), network, token, case["expiry_yymm"], case["atc"])
    assert code == case["code"]
    assert len(code) == {Network.VISA: 3, Network.AMEX: 4}[network]
    digits = token + "F" * (len(token) % 2) + case["expiry_yymm"]
    atc = case["atc"].to_bytes(2, "big")
    message = bytes([{Network.VISA: 1, Network.AMEX: 3}[network]]) + bytes.fromhex(digits) + atc
    session_key = _session_key(_option_a(IMK, token, "00"), atc + bytes([0, 1, 0, 0, 0, 0]))
    assert _decimalise(_mac_algorithm_3(session_key, message), len(code)) == code


def test_merchant_reference_is_the_start_of_sha256() -> None:
    # SHA-256("merchant_a") = 5f98fc11...
    assert merchant_reference("merchant_a") == bytes.fromhex("5F98FC11")
    assert merchant_reference("merchant_a") != merchant_reference("merchant_b")
    with pytest.raises(ValueError, match="merchant id"):
        merchant_reference("")


# Round trips and refusals.


@pytest.mark.parametrize("network", CRYPTOGRAM_NETWORKS)
@pytest.mark.parametrize("transaction_type", list(TransactionType))
@pytest.mark.parametrize("bound", [True, False], ids=["bound", "unbound"])
def test_cryptogram_round_trip(
    network: Network, transaction_type: TransactionType, bound: bool
) -> None:
    data = TransactionData(1050, "840", merchant_reference("m"), transaction_type)
    value = generate_cryptogram(tmk(network), network, 42, UN, data, bound=bound)
    parsed = verify_cryptogram(tmk(network), value, data)
    expected_flags = CryptogramFlag(0)
    if bound:
        expected_flags |= CryptogramFlag.AMOUNT | CryptogramFlag.MERCHANT
    if transaction_type is TransactionType.AFT:
        expected_flags |= CryptogramFlag.AFT
    assert parsed == ParsedCryptogram(network, 0, 42, UN, expected_flags, parsed.mac)
    assert value != generate_cryptogram(tmk(network), network, 43, UN, data, bound=bound)


@pytest.mark.parametrize("network", CRYPTOGRAM_NETWORKS)
def test_every_single_bit_flip_is_refused(network: Network) -> None:
    data = bound_data()
    raw = base64.b64decode(generate_cryptogram(tmk(network), network, 7, UN, data, bound=True))
    for bit in range(len(raw) * 8):
        flipped = bytearray(raw)
        flipped[bit // 8] ^= 0x80 >> (bit % 8)
        for encoded in (base64.b64encode(flipped).decode(), bytes(flipped).hex()):
            with pytest.raises(InvalidCryptogram):
                verify_cryptogram(tmk(network), encoded, data)


@pytest.mark.parametrize(
    "changed",
    [
        pytest.param(bound_data(amount=1051), id="amount"),
        pytest.param(bound_data(amount=0), id="amount-absent"),
        pytest.param(bound_data(currency="978"), id="currency"),
        pytest.param(bound_data(merchant="merchant_b"), id="merchant"),
        pytest.param(TransactionData(1050, "840"), id="merchant-absent"),
        pytest.param(
            TransactionData(1050, "840", merchant_reference("merchant_a"), TransactionType.AFT),
            id="transaction-type",
        ),
    ],
)
@pytest.mark.parametrize("network", CRYPTOGRAM_NETWORKS)
def test_changed_transaction_data_is_refused(network: Network, changed: TransactionData) -> None:
    value = generate_cryptogram(tmk(network), network, 7, UN, bound_data(), bound=True)
    with pytest.raises(InvalidCryptogram):
        verify_cryptogram(tmk(network), value, changed)


@pytest.mark.parametrize(
    ("offset", "replacement"),
    [
        pytest.param(0, b"\x12", id="network-byte-visa-to-mastercard"),
        pytest.param(1, b"\x01", id="key-indicator"),
        pytest.param(2, b"\x00\x08", id="atc"),
        pytest.param(12, b"\x11\x22\x33\x45", id="unpredictable-number"),
        pytest.param(16, b"\x01", id="flags-drop-merchant"),
        pytest.param(16, b"\x00", id="flags-unbound"),
    ],
)
def test_changed_cryptogram_field_is_refused(offset: int, replacement: bytes) -> None:
    value = generate_cryptogram(tmk(Network.VISA), Network.VISA, 7, UN, bound_data(), bound=True)
    changed = reencode(value, offset, replacement)
    parse_cryptogram(changed)
    with pytest.raises(InvalidCryptogram):
        verify_cryptogram(tmk(Network.VISA), changed, bound_data())


def test_cryptogram_of_another_token_is_refused() -> None:
    value = generate_cryptogram(tmk(Network.VISA), Network.VISA, 7, UN, bound_data(), bound=True)
    other = derive_token_master_key(IMK, "4895370000000023")
    with pytest.raises(InvalidCryptogram):
        verify_cryptogram(other, value, bound_data())


@pytest.mark.parametrize("network", CRYPTOGRAM_NETWORKS)
@pytest.mark.parametrize(
    "authorisation",
    [
        pytest.param(TransactionData(), id="nothing"),
        pytest.param(bound_data(amount=999999999999, currency="392"), id="other-amount"),
        pytest.param(bound_data(merchant="merchant_z"), id="other-merchant"),
    ],
)
def test_unbound_cryptogram_verifies_with_any_amount_and_merchant(
    network: Network, authorisation: TransactionData
) -> None:
    value = generate_cryptogram(tmk(network), network, 9, UN, bound_data(), bound=False)
    assert verify_cryptogram(tmk(network), value, authorisation).flags == CryptogramFlag(0)


def test_unbound_cryptogram_still_binds_the_transaction_type() -> None:
    aft = TransactionData(transaction_type=TransactionType.AFT)
    value = generate_cryptogram(tmk(Network.VISA), Network.VISA, 9, UN, aft, bound=False)
    assert verify_cryptogram(tmk(Network.VISA), value, aft).flags == CryptogramFlag.AFT
    with pytest.raises(InvalidCryptogram):
        verify_cryptogram(tmk(Network.VISA), value, TransactionData())


def test_bound_cryptogram_binds_only_what_was_given() -> None:
    merchant_only = TransactionData(merchant_reference=merchant_reference("merchant_a"))
    value = generate_cryptogram(tmk(Network.VISA), Network.VISA, 9, UN, merchant_only, bound=True)
    parsed = verify_cryptogram(tmk(Network.VISA), value, bound_data(amount=777))
    assert parsed.flags == CryptogramFlag.MERCHANT
    with pytest.raises(InvalidCryptogram):
        verify_cryptogram(tmk(Network.VISA), value, bound_data(merchant="merchant_b"))

    amount_only = TransactionData(1050, "840")
    value = generate_cryptogram(tmk(Network.VISA), Network.VISA, 9, UN, amount_only, bound=True)
    parsed = verify_cryptogram(tmk(Network.VISA), value, bound_data(merchant="merchant_b"))
    assert parsed.flags == CryptogramFlag.AMOUNT


@pytest.mark.parametrize(
    "value",
    [
        pytest.param("", id="empty"),
        pytest.param("not base64!", id="not-base64"),
        pytest.param("EQEAAeKfZpjc5t/UESIzRAMAAAA", id="missing-padding"),
        pytest.param("EQEAAeKfZpjc5t/UESIzRAMAAAB=", id="non-canonical"),
        pytest.param(" EQEAAeKfZpjc5t/UESIzRAMAAAA=", id="whitespace"),
        pytest.param("EQEAAeKfZpjc5t/UESIzRAMAAA==", id="19-bytes"),
        pytest.param(base64.b64encode(b"\x11" + bytes(20)).decode(), id="21-bytes"),
        pytest.param(base64.b64encode(b"\x13" + bytes(19)).decode(), id="amex-format"),
        pytest.param(base64.b64encode(b"\x21" + bytes(19)).decode(), id="version-2"),
        pytest.param(base64.b64encode(bytes(20)).decode(), id="zeros"),
        pytest.param(
            base64.b64encode(b"\x11" + bytes(15) + b"\x08" + bytes(3)).decode(), id="flag"
        ),
        pytest.param(base64.b64encode(b"\x11" + bytes(18) + b"\x01").decode(), id="padding"),
        pytest.param("11" + "00" * 18 + "0G", id="bad-hex"),
        pytest.param("ÉQEAAeKfZpjc5t/UESIzRAMAAAA=", id="non-ascii"),
    ],
)
def test_parse_refuses_malformed_values(value: str) -> None:
    with pytest.raises(InvalidCryptogram):
        parse_cryptogram(value)
    with pytest.raises(InvalidCryptogram):
        verify_cryptogram(tmk(Network.VISA), value, bound_data())


def test_parse_refuses_non_strings() -> None:
    with pytest.raises(InvalidCryptogram):
        parse_cryptogram(b"EQEAAeKfZpjc5t/UESIzRAMAAAA=")  # type: ignore[arg-type]


def test_parse_accepts_hex_in_either_case() -> None:
    case = VECTORS["cryptograms"][0]
    assert parse_cryptogram(case["cryptogram_hex"].lower()) == parse_cryptogram(case["cryptogram"])


def test_amex_cryptogram_is_refused() -> None:
    with pytest.raises(ValueError, match="No cryptogram"):
        generate_cryptogram(tmk(Network.AMEX), Network.AMEX, 1, UN, bound_data(), bound=True)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        pytest.param({"token_master_key": bytes(24)}, "16 bytes", id="24-byte-key"),
        pytest.param({"token_master_key": bytes(8)}, "16 bytes", id="8-byte-key"),
        pytest.param({"atc": -1}, "ATC", id="negative-atc"),
        pytest.param({"atc": 0x10000}, "ATC", id="atc-too-large"),
        pytest.param({"unpredictable_number": b"\x00" * 3}, "unpredictable", id="short-un"),
        pytest.param({"unpredictable_number": b"\x00" * 5}, "unpredictable", id="long-un"),
        pytest.param({"key_indicator": 256}, "key indicator", id="key-indicator"),
    ],
)
def test_generate_cryptogram_rejects_bad_arguments(kwargs: dict[str, Any], message: str) -> None:
    arguments: dict[str, Any] = {
        "token_master_key": tmk(Network.VISA),
        "network": Network.VISA,
        "atc": 1,
        "unpredictable_number": UN,
        "data": bound_data(),
        "bound": True,
        "key_indicator": 0,
    } | kwargs
    with pytest.raises(ValueError, match=message):
        generate_cryptogram(**arguments)


def test_verify_rejects_a_bad_key() -> None:
    value = generate_cryptogram(tmk(Network.VISA), Network.VISA, 1, UN, bound_data(), bound=True)
    with pytest.raises(ValueError, match="16 bytes"):
        verify_cryptogram(bytes(15), value, bound_data())


@pytest.mark.parametrize(
    ("token_number", "sequence", "key"),
    [
        pytest.param("48953700000", "00", IMK, id="11-digits"),
        pytest.param("48953700000000000015", "00", IMK, id="20-digits"),
        pytest.param("4895 3700 0000 0015", "00", IMK, id="spaces"),
        pytest.param("4895370000000015", "0", IMK, id="short-sequence"),
        pytest.param("4895370000000015", "00", IMK[:8], id="single-length-key"),
    ],
)
def test_derive_token_master_key_rejects_bad_arguments(
    token_number: str, sequence: str, key: bytes
) -> None:
    with pytest.raises(ValueError, match=r"token number|sequence|16 bytes"):
        derive_token_master_key(key, token_number, sequence)


# Dynamic security codes.


@pytest.mark.parametrize(("network", "digits"), [(Network.AMEX, 4), (Network.VISA, 3)])
def test_dynamic_code_verifies_within_the_window(network: Network, digits: int) -> None:
    token = TOKENS[network]
    codes = {
        atc: generate_dynamic_code(tmk(network), network, token, "2812", atc) for atc in range(20)
    }
    assert all(len(code) == digits and code.isdigit() for code in codes.values())
    for atc in (10, 11, 12):
        window = [12, 11, 10]
        assert verify_dynamic_code(tmk(network), network, token, "2812", codes[atc], window) == atc


@pytest.mark.parametrize("network", [Network.AMEX, Network.VISA])
def test_dynamic_code_fails_outside_the_window(network: Network) -> None:
    token = TOKENS[network]
    code = generate_dynamic_code(tmk(network), network, token, "2812", 5)
    window = [12, 11, 10]
    assert all(
        generate_dynamic_code(tmk(network), network, token, "2812", atc) != code for atc in window
    )
    with pytest.raises(InvalidCryptogram):
        verify_dynamic_code(tmk(network), network, token, "2812", code, window)
    with pytest.raises(InvalidCryptogram):
        verify_dynamic_code(tmk(network), network, token, "2812", code, [])


def test_dynamic_code_is_bound_to_token_expiry_and_key() -> None:
    network, token = Network.AMEX, TOKENS[Network.AMEX]
    code = generate_dynamic_code(tmk(network), network, token, "2812", 1)
    assert code == "4157"
    for other in (
        generate_dynamic_code(tmk(network), network, token, "2811", 1),
        generate_dynamic_code(tmk(network), network, "379999000000022", "2812", 1),
        generate_dynamic_code(derive_token_master_key(IMK, token, "01"), network, token, "2812", 1),
    ):
        assert other != code
    with pytest.raises(InvalidCryptogram):
        verify_dynamic_code(tmk(network), network, token, "2811", code, [1])


@pytest.mark.parametrize("code", ["415", "41570", "415a", "", " 4157", "\uff14\uff11\uff15\uff17"])
def test_dynamic_code_of_the_wrong_shape_is_refused(code: str) -> None:
    network, token = Network.AMEX, TOKENS[Network.AMEX]
    with pytest.raises(InvalidCryptogram):
        verify_dynamic_code(tmk(network), network, token, "2812", code, [1])


@pytest.mark.parametrize("network", [Network.MASTERCARD, Network.DISCOVER])
def test_dynamic_code_is_only_for_amex_and_visa(network: Network) -> None:
    with pytest.raises(ValueError, match="Amex and Visa"):
        generate_dynamic_code(tmk(network), network, TOKENS[network], "2812", 1)
    with pytest.raises(ValueError, match="Amex and Visa"):
        verify_dynamic_code(tmk(network), network, TOKENS[network], "2812", "123", [1])


@pytest.mark.parametrize(
    ("expiry", "atc"),
    [("2800", 1), ("2813", 1), ("281", 1), ("YYMM", 1), ("2812", -1), ("2812", 65536)],
)
def test_dynamic_code_rejects_bad_arguments(expiry: str, atc: int) -> None:
    with pytest.raises(ValueError, match=r"expiry|ATC"):
        generate_dynamic_code(tmk(Network.VISA), Network.VISA, TOKENS[Network.VISA], expiry, atc)


# ECI and commerce indicator.


@pytest.mark.parametrize(
    ("network", "authenticated", "eci", "indicator"),
    [
        (Network.VISA, False, "07", "internet"),
        (Network.VISA, True, "05", "vbv"),
        (Network.MASTERCARD, False, "06", "spa"),
        (Network.MASTERCARD, True, "02", "spa"),
        (Network.AMEX, False, "07", "internet"),
        (Network.AMEX, True, "05", "aesk"),
        (Network.DISCOVER, False, "07", "internet"),
        (Network.DISCOVER, True, "05", "dipb"),
    ],
)
def test_eci_and_commerce_indicator(
    network: Network, authenticated: bool, eci: str, indicator: str
) -> None:
    assert eci_for(network, authenticated) == eci
    assert commerce_indicator(network, authenticated) == indicator


def test_network_values_are_the_tms_type_names() -> None:
    assert [n.value for n in Network] == ["visa", "mastercard", "americanexpress", "discover"]


# Currencies, amounts and transaction data.


@pytest.mark.parametrize(
    ("code", "numeric"),
    [
        ("USD", "840"),
        ("usd", "840"),
        ("EUR", "978"),
        ("GBP", "826"),
        ("JPY", "392"),
        ("CAD", "124"),
        ("AUD", "036"),
        ("INR", "356"),
        ("CHF", "756"),
        ("SEK", "752"),
        ("NZD", "554"),
        ("SGD", "702"),
        ("HKD", "344"),
        ("MXN", "484"),
        ("BRL", "986"),
        ("CNY", "156"),
        ("NOK", "578"),
        ("DKK", "208"),
        ("PLN", "985"),
        ("ZAR", "710"),
        ("KRW", "410"),
        ("KWD", "414"),
        ("840", "840"),
        ("036", "036"),
    ],
)
def test_currency_numeric(code: str, numeric: str) -> None:
    assert currency_numeric(code) == numeric


@pytest.mark.parametrize(
    "code", ["", "US", "USDX", "XXX", "999", "36", "\uff18\uff14\uff10", "U$D"]
)
def test_currency_numeric_rejects_unknown_codes(code: str) -> None:
    with pytest.raises(ValueError, match="Unknown"):
        currency_numeric(code)


@pytest.mark.parametrize(
    ("amount", "currency", "minor"),
    [
        ("10.50", "USD", 1050),
        ("10.5", "USD", 1050),
        ("10", "USD", 1000),
        ("0", "USD", 0),
        ("0.00", "840", 0),
        ("007.01", "EUR", 701),
        ("100", "JPY", 100),
        ("1.234", "KWD", 1234),
        ("9999999999.99", "USD", 999999999999),
        ("999999999999", "JPY", 999999999999),
    ],
)
def test_amount_minor_units(amount: str, currency: str, minor: int) -> None:
    assert amount_minor_units(amount, currency) == minor


@pytest.mark.parametrize(
    ("amount", "currency"),
    [
        ("10.505", "USD"),
        ("100.5", "JPY"),
        ("100.0", "JPY"),
        ("1.2345", "KWD"),
        ("-1", "USD"),
        ("+1", "USD"),
        ("1e3", "USD"),
        ("1.", "USD"),
        (".5", "USD"),
        (" 1", "USD"),
        ("1,00", "EUR"),
        ("", "USD"),
        ("NaN", "USD"),
        ("\u0661\u0660", "USD"),
        ("10000000000.00", "USD"),
        ("1000000000000", "JPY"),
    ],
)
def test_amount_minor_units_rejects(amount: str, currency: str) -> None:
    with pytest.raises(ValueError, match="amount"):
        amount_minor_units(amount, currency)


def test_amount_minor_units_rejects_unknown_currency() -> None:
    with pytest.raises(ValueError, match="Unknown"):
        amount_minor_units("1.00", "XXX")


@pytest.mark.parametrize(
    "kwargs",
    [
        pytest.param({"amount": -1}, id="negative-amount"),
        pytest.param({"amount": 10**12}, id="amount-too-large"),
        pytest.param({"currency": "84"}, id="short-currency"),
        pytest.param({"currency": "USD"}, id="alpha-currency"),
        pytest.param({"merchant_reference": b"\x00" * 3}, id="short-merchant"),
        pytest.param({"transaction_type": "MOTO"}, id="transaction-type"),
    ],
)
def test_transaction_data_rejects(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 - each case has its own message
        TransactionData(**kwargs)


def test_transaction_data_defaults_are_absent_values() -> None:
    data = TransactionData()
    assert (data.amount, data.currency, data.merchant_reference) == (0, "000", b"")
    assert data.transaction_type is TransactionType.ECOM


# Our TripleDES calls against pyemv, the library they stand in for (pyemv goes
# through cryptography's deprecated TripleDES name, hence the silenced warnings).


def _quietly(function: Any, *args: Any) -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CryptographyDeprecationWarning)
        return function(*args)


@pytest.mark.parametrize("seed", range(20))
def test_derivations_and_mac_match_pyemv(seed: int) -> None:
    chooser = random.Random(seed)  # noqa: S311 - test data
    imk = bytes(chooser.randrange(256) for _ in range(16))
    token_number = "".join(str(chooser.randrange(10)) for _ in range(16))
    atc = chooser.randrange(0x10000)
    data = bytes(chooser.randrange(256) for _ in range(chooser.randrange(1, 40)))
    tmk = derive_token_master_key(imk, token_number)
    assert tmk == _quietly(kd.derive_icc_mk_a, imk, token_number, "00")
    r = atc.to_bytes(2, "big") + bytes(6)
    session_key = _quietly(kd.derive_common_sk, tmk, r)
    assert cryptograms._mac(tmk, atc, 0, data) == _quietly(ac.generate_ac, session_key, data)


def test_the_recipes_raise_no_deprecation_warning() -> None:
    # pytest turns warnings into errors: these would fail if any were raised.
    tmk = derive_token_master_key(IMK, "4895370012345678")
    generate_cryptogram(tmk, Network.VISA, 1, bytes(4), TransactionData(), bound=False)
