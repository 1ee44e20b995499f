"""Simulated network token credentials: cryptograms, dynamic codes and ECIs.

Pure recipes on public EMV methods, via pyemv. A token's master key is derived from
the network's issuer master key with EMV Option A (Book 2, A1.4.1). Each credential
uses the EMV common session key (A1.3.1) of its ATC, with ``R = ATC || 00 || purpose
|| 00000000``: purpose 00 for cryptograms (EMV's usual AC value), 01 for dynamic codes,
so the two never share a key. MACs are ISO/IEC 9797-1 algorithm 3, padding method 2.

Cryptogram (Visa TAVV, Mastercard DSRP in UCAF form, Discover), our design, version 1;
20 bytes, base64 (28 characters), or the 40-character hex CyberSource also accepts::

    0   1  format: 0x10 | network code (Visa 0x11, Mastercard 0x12, Discover 0x14)
    1   1  key indicator (the issuer master key generation, 0-255)
    2   2  ATC, big-endian
    4   8  MAC
    12  4  unpredictable number (UN)
    16  1  flags: 0x01 amount and currency bound, 0x02 merchant bound, 0x04 AFT
    17  3  zero padding

MAC input, 22 bytes: format | key indicator | amount, 12 BCD digits (6) | currency,
4 BCD digits (2) | merchant reference (4) | transaction type, 00 ECOM or 01 AFT | UN |
ATC | flags. Amount and currency are zeros unless flag 0x01 is set, the merchant
reference unless 0x02 is. Unknown versions, networks or flag bits and non-zero padding
are refused, so a change to any of the 160 bits fails.

Dynamic codes (Amex DCSC, 4 digits; Visa DTVV, 3 digits): the MAC over network code (1)
| token number in BCD, padded with F | expiry YYMM (2) | ATC (2), decimalised as Visa's
CVV/dCVV (decimal nibbles in order, then the A-F nibbles minus 10). TMS returns the
code alone, so there is no UN: the window of recent ATCs limits replay.

Facts (and how sure):

* ECI and commerceIndicator, from CyberSource "Payer Authentication Values"
  (developer.cybersource.com, credentials-ref-info-payerauth): Visa, Amex and Discover
  05 authenticated (vbv, aesk, dipb), 07 not (internet); Mastercard 02 authenticated and
  06 "network token without 3-D Secure", both spa. Sure for 05/07/02 (also in gateway
  ECI tables; the TMS example pairs 05 with vbv); fairly sure for Mastercard 06 (one
  source; generic Mastercard tables give 00 for non-authenticated e-commerce).
* Cryptograms are 28 base64 or 40 hex characters (CyberSource tokenizedCard.cryptogram);
  published TAVVs are 20 bytes with zero tail bytes. Sure.
* No cryptogram for Amex; dynamic CVV for Amex and Visa SCOF; AFT for Visa only
  (CyberSource paymentCredentialType, transactionType; the service checks AFT). Sure.
* DTVV has 3 digits like a CVV2, DCSC 4 like the Amex CID (TMS example 4523).
  The networks' algorithms are not public: ours stand in for them (design).

TripleDES: the EMV derivations and the MAC call ``cryptography``'s TripleDES (from its
``decrepit`` module) directly with 24-byte keys, which raise no deprecation warning. They
compute what pyemv's ``kd.derive_icc_mk_a``, ``kd.derive_common_sk`` and ``ac.generate_ac``
compute (the tests check them against pyemv and pin known answers); pyemv itself goes
through the deprecated TripleDES name, and silencing its warnings on each call cost more
than the MAC on the payment-credentials path (profiled).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
from collections.abc import Iterable
from dataclasses import dataclass
from enum import IntFlag, StrEnum

from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
from cryptography.hazmat.primitives.ciphers import Cipher, modes

from opentms.domain.money import MAX_AMOUNT, amount_minor_units, currency_numeric
from opentms.domain.network_token import TokenNetwork as Network

__all__ = [
    "CryptogramFlag",
    "InvalidCryptogram",
    "Network",
    "ParsedCryptogram",
    "TransactionData",
    "TransactionType",
    "amount_minor_units",
    "commerce_indicator",
    "currency_numeric",
    "derive_token_master_key",
    "eci_for",
    "generate_cryptogram",
    "generate_dynamic_code",
    "merchant_reference",
    "parse_cryptogram",
    "verify_cryptogram",
    "verify_dynamic_code",
]


class InvalidCryptogram(Exception):
    """A cryptogram or dynamic code that does not verify. Opaque on purpose."""


class TransactionType(StrEnum):
    """TMS ``transactionType``: e-commerce, or account funding (Visa only)."""

    ECOM = "ECOM"
    AFT = "AFT"


class CryptogramFlag(IntFlag):
    """What a cryptogram binds, as carried in its flags byte."""

    AMOUNT = 0x01
    MERCHANT = 0x02
    AFT = 0x04


_CODES = {Network.VISA: 1, Network.MASTERCARD: 2, Network.AMEX: 3, Network.DISCOVER: 4}
_CRYPTOGRAM_NETWORKS = {0x11: Network.VISA, 0x12: Network.MASTERCARD, 0x14: Network.DISCOVER}
_DYNAMIC_DIGITS = {Network.VISA: 3, Network.AMEX: 4}
# (ECI, commerceIndicator) without and with cardholder authentication.
_ECI = {
    Network.VISA: (("07", "internet"), ("05", "vbv")),
    Network.MASTERCARD: (("06", "spa"), ("02", "spa")),
    Network.AMEX: (("07", "internet"), ("05", "aesk")),
    Network.DISCOVER: (("07", "internet"), ("05", "dipb")),
}


def merchant_reference(merchant_id: str) -> bytes:
    """The 4 bytes that bind a cryptogram to a merchant: SHA-256 of the id, truncated."""
    _require(bool(merchant_id), "The merchant id must not be empty.")
    return hashlib.sha256(merchant_id.encode()).digest()[:4]


@dataclass(frozen=True, slots=True)
class TransactionData:
    """The transaction a cryptogram may be bound to: ``amount`` in minor units (0 when
    absent), ``currency`` ISO 4217 numeric ("000" when absent), ``merchant_reference``
    from :func:`merchant_reference` (empty when absent), ``transaction_type``."""

    amount: int = 0
    currency: str = "000"
    merchant_reference: bytes = b""
    transaction_type: TransactionType = TransactionType.ECOM

    def __post_init__(self) -> None:
        _require(0 <= self.amount <= MAX_AMOUNT, "The amount must fit in 12 digits.")
        _check_digits(self.currency, "[0-9]{3}", "The currency must be an ISO 4217 number.")
        _require(len(self.merchant_reference) in (0, 4), "The merchant reference is 4 bytes.")
        TransactionType(self.transaction_type)


@dataclass(frozen=True, slots=True)
class ParsedCryptogram:
    """The fields of a cryptogram; the MAC is checked only by :func:`verify_cryptogram`."""

    network: Network
    key_indicator: int
    atc: int
    unpredictable_number: bytes
    flags: CryptogramFlag
    mac: bytes


def _require(condition: bool, message: str) -> None:
    if not condition:
        raise ValueError(message)


def _check_digits(value: str, pattern: str, message: str) -> None:
    _require(isinstance(value, str) and re.fullmatch(pattern, value) is not None, message)


def _check_inputs(key: bytes, atc: int = 0) -> None:
    _require(isinstance(key, bytes) and len(key) == 16, "A TDES key is 16 bytes.")
    _require(0 <= atc <= 0xFFFF, "The ATC must be between 0 and 65535.")


def derive_token_master_key(
    issuer_master_key: bytes, token_number: str, sequence: str = "00"
) -> bytes:
    """A token's 16-byte master key: EMV Option A from the issuer master key
    (Book 2 A1.4.1; what ``pyemv.kd.derive_icc_mk_a`` computes, see :func:`_mac`
    for why ``cryptography`` is called directly).

    >>> tmk = derive_token_master_key(imk, "4895370012345678")

    Parameters: ``issuer_master_key``, 16 bytes (double-length TDES); ``token_number``,
    12 to 19 digits; ``sequence``, the 2-digit PAN sequence number.
    """
    _check_inputs(issuer_master_key)
    _check_digits(token_number, r"[0-9]{12,19}", "The token number must be 12-19 digits.")
    _check_digits(sequence, r"[0-9]{2}", "The sequence number must be 2 digits.")
    # Y: the rightmost 16 digits of PAN || sequence, packed; then Y and its inverse.
    data_a = bytes.fromhex((token_number + sequence)[-16:].zfill(16))
    data_b = bytes(byte ^ 0xFF for byte in data_a)
    ecb = modes.ECB()  # noqa: S305 - two single blocks, as Option A specifies
    key = Cipher(_des(issuer_master_key), ecb).encryptor().update(data_a + data_b)
    return _odd_parity(key)


def _odd_parity(key: bytes) -> bytes:
    """DES keys carry odd parity in each byte's low bit (DES itself ignores it)."""
    return bytes(byte ^ (bin(byte).count("1") % 2 == 0) for byte in key)


def _des(key: bytes) -> TripleDES:
    # Single DES is TripleDES with K1 = K2 = K3; 24-byte keys raise no warning.
    return TripleDES(key * 3 if len(key) == 8 else key + key[:8])


def _mac(token_master_key: bytes, atc: int, purpose: int, data: bytes) -> bytes:
    """The EMV common session key for this ATC (Book 2 A1.3.1), then ISO/IEC
    9797-1 MAC algorithm 3 with padding method 2: what ``pyemv.kd.derive_common_sk``
    and ``pyemv.ac.generate_ac`` compute, with ``cryptography``'s TripleDES
    called directly. pyemv goes through the deprecated TripleDES name, and
    silencing its warnings on every call cost more than the MAC itself on the
    payment-credentials path (profiled: ~8 % of a request); the known-answer
    tests pin this against pyemv's results. DES ignores parity bits, so the
    session key's parity is not adjusted."""
    r = atc.to_bytes(2, "big") + bytes([0, purpose, 0, 0, 0, 0])
    left, right = bytearray(r), bytearray(r)
    left[2], right[2] = 0xF0, 0x0F
    # ECB on single 8-byte blocks is what EMV key derivation and the MAC's
    # output transformation specify; nothing longer is encrypted this way.
    ecb = modes.ECB()  # noqa: S305
    session_key = Cipher(_des(token_master_key), ecb).encryptor().update(left + right)
    k1, k2 = session_key[:8], session_key[8:]
    padded = data + b"\x80" + bytes(-(len(data) + 1) % 8)
    last = Cipher(_des(k1), modes.CBC(bytes(8))).encryptor().update(padded)[-8:]
    last = Cipher(_des(k2), ecb).decryptor().update(last)
    return Cipher(_des(k1), ecb).encryptor().update(last)


def _cryptogram_mac(
    tmk: bytes, head: bytes, atc: int, un: bytes, flags: int, data: TransactionData
) -> bytes:
    amount, currency, merchant = "0" * 12, "0000", bytes(4)
    if flags & CryptogramFlag.AMOUNT:
        amount, currency = f"{data.amount:012d}", "0" + data.currency
    if flags & CryptogramFlag.MERCHANT:
        merchant = data.merchant_reference
    aft = 1 if data.transaction_type == TransactionType.AFT else 0
    message = head + bytes.fromhex(amount + currency) + merchant + bytes([aft])
    return _mac(tmk, atc, 0, message + un + atc.to_bytes(2, "big") + bytes([flags]))


def generate_cryptogram(
    token_master_key: bytes,
    network: Network,
    atc: int,
    unpredictable_number: bytes,
    data: TransactionData,
    *,
    bound: bool,
    key_indicator: int = 0,
) -> str:
    """A 28-character base64 cryptogram (Visa TAVV, Mastercard DSRP/UCAF, Discover).

    >>> data = TransactionData(1050, "840", merchant_reference("shop"))
    >>> generate_cryptogram(tmk, Network.VISA, 7, secrets.token_bytes(4), data, bound=True)

    Parameters: ``token_master_key`` from :func:`derive_token_master_key`; ``network``
    (not Amex); ``atc``, 0-65535, never reused; ``unpredictable_number``, 4 random bytes;
    ``bound``: bind the amount and currency (when not 0) and the merchant (when given),
    else neither (the transaction type is always bound); ``key_indicator``, 0-255.
    """
    _check_inputs(token_master_key, atc)
    _require(network in _CODES and network != Network.AMEX, "No cryptogram for this network.")
    _require(len(unpredictable_number) == 4, "The unpredictable number is 4 bytes.")
    _require(0 <= key_indicator <= 0xFF, "The key indicator must be between 0 and 255.")
    flags = CryptogramFlag.AMOUNT if bound and data.amount else CryptogramFlag(0)
    flags |= CryptogramFlag.MERCHANT if bound and data.merchant_reference else 0
    flags |= CryptogramFlag.AFT if data.transaction_type == TransactionType.AFT else 0
    head = bytes([0x10 | _CODES[network], key_indicator])
    mac = _cryptogram_mac(token_master_key, head, atc, unpredictable_number, flags, data)
    raw = head + atc.to_bytes(2, "big") + mac + unpredictable_number + bytes([flags, 0, 0, 0])
    return base64.b64encode(raw).decode("ascii")


def _decode(value: str) -> bytes:
    if not isinstance(value, str):
        raise InvalidCryptogram()
    if re.fullmatch(r"[0-9A-Fa-f]{40}", value):
        raw = bytes.fromhex(value)
    else:
        try:
            raw = base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            raise InvalidCryptogram() from None
        # Security: only the canonical base64 is accepted (no second spelling of a value).
        if base64.b64encode(raw).decode("ascii") != value:
            raise InvalidCryptogram()
    if len(raw) != 20 or raw[0] not in _CRYPTOGRAM_NETWORKS:
        raise InvalidCryptogram()
    if raw[16] & ~0x07 or raw[17:] != bytes(3):
        raise InvalidCryptogram()
    return raw


def parse_cryptogram(value: str) -> ParsedCryptogram:
    """The fields of a cryptogram (base64 or hex), without checking its MAC.

    >>> parse_cryptogram(cryptogram).atc
    7

    :class:`InvalidCryptogram` for a bad encoding, length, version, flags or padding.
    """
    raw = _decode(value)
    network, atc = _CRYPTOGRAM_NETWORKS[raw[0]], int.from_bytes(raw[2:4], "big")
    return ParsedCryptogram(network, raw[1], atc, raw[12:16], CryptogramFlag(raw[16]), raw[4:12])


def verify_cryptogram(
    token_master_key: bytes, value: str, data: TransactionData
) -> ParsedCryptogram:
    """Check a cryptogram against the authorisation's ``data``; return its fields.

    >>> parsed = verify_cryptogram(tmk, cryptogram, TransactionData(1050, "840", ref))

    Compares only what the flags say was bound, raises :class:`InvalidCryptogram` on
    any mismatch. The caller checks the network and records the ATC against replays.
    """
    _check_inputs(token_master_key)
    parsed = parse_cryptogram(value)
    head = bytes([_CODES[parsed.network] | 0x10, parsed.key_indicator])
    expected = _cryptogram_mac(
        token_master_key, head, parsed.atc, parsed.unpredictable_number, parsed.flags, data
    )
    if not hmac.compare_digest(expected, parsed.mac):
        raise InvalidCryptogram()
    return parsed


def _decimalise(mac: bytes, digits: int) -> str:
    # Visa CVV/dCVV decimalisation: the decimal nibbles in order, then the others - 10.
    nibbles = mac.hex()
    decimal = [c for c in nibbles if c.isdigit()]
    decimal += [str(int(c, 16) - 10) for c in nibbles if not c.isdigit()]
    return "".join(decimal[:digits])


def generate_dynamic_code(
    token_master_key: bytes, network: Network, token_number: str, expiry_yymm: str, atc: int
) -> str:
    """A dynamic security code: Amex DCSC (4 digits) or Visa DTVV (3 digits).

    >>> generate_dynamic_code(tmk, Network.AMEX, "374245001751006", "2812", 7)

    Parameters: ``network``, Amex or Visa (else ``ValueError``); ``token_number``, 12-19
    digits; ``expiry_yymm``, the token's expiry as YYMM; ``atc``, 0-65535.
    """
    _check_inputs(token_master_key, atc)
    _require(network in _DYNAMIC_DIGITS, "Dynamic codes exist for Amex and Visa only.")
    _check_digits(token_number, r"[0-9]{12,19}", "The token number must be 12-19 digits.")
    _check_digits(expiry_yymm, r"[0-9]{2}(0[1-9]|1[0-2])", "The expiry must be YYMM.")
    digits = token_number + "F" * (len(token_number) % 2)
    message = bytes([_CODES[network]]) + bytes.fromhex(digits + expiry_yymm)
    mac = _mac(token_master_key, atc, 1, message + atc.to_bytes(2, "big"))
    return _decimalise(mac, _DYNAMIC_DIGITS[network])


def verify_dynamic_code(
    token_master_key: bytes,
    network: Network,
    token_number: str,
    expiry_yymm: str,
    code: str,
    candidate_atcs: Iterable[int],
) -> int:
    """The ATC, among ``candidate_atcs`` (most recent first), whose code is ``code``.

    >>> atc = verify_dynamic_code(tmk, Network.AMEX, token, "2812", "4523", [9, 8, 7])

    :class:`InvalidCryptogram` when none matches. Keep the window small: with 3 digits,
    each candidate is a 1 in 1000 chance of a false match.
    """
    _require(network in _DYNAMIC_DIGITS, "Dynamic codes exist for Amex and Visa only.")
    if not isinstance(code, str) or not re.fullmatch(f"[0-9]{{{_DYNAMIC_DIGITS[network]}}}", code):
        raise InvalidCryptogram()
    for atc in candidate_atcs:
        candidate = generate_dynamic_code(token_master_key, network, token_number, expiry_yymm, atc)
        if hmac.compare_digest(candidate.encode(), code.encode()):
            return atc
    raise InvalidCryptogram()


def eci_for(network: Network, authenticated: bool) -> str:
    """The ECI of a token e-commerce credential: Visa/Amex/Discover 05 authenticated,
    07 not; Mastercard 02 authenticated, 06 not (sources in the module docstring)."""
    return _ECI[network][authenticated][0]


def commerce_indicator(network: Network, authenticated: bool) -> str:
    """CyberSource ``processingInformation.commerceIndicator`` matching :func:`eci_for`."""
    return _ECI[network][authenticated][1]
