"""Simulated token service providers: Visa (VTS), Mastercard (MDES),
American Express (AETS) and Discover (DTS), behind one interface so that a real
connector could take a simulator's place.

Token numbers come from synthetic token BIN ranges (below), have the length of
the network's cards, pass Luhn and never equal the card number. Magic card
numbers make provisioning fail with each documented ``reason``:
:data:`MAGIC_FAILURES` (listed in ``docs/simulators.md``).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import struct
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from opentms.crypto.cryptograms import derive_token_master_key
from opentms.domain import randomness
from opentms.domain.bins import bin_details
from opentms.domain.card import PAN, luhn_check_digit
from opentms.domain.network_token import (
    NetworkToken,
    ProvisionedToken,
    ProvisioningFailure,
    ProvisioningRequest,
    TokenNetwork,
)


@dataclass(frozen=True)
class NetworkProfile:
    network: TokenNetwork
    token_bin: str  # synthetic token BIN range of the simulator
    length: int
    par_prefix: str  # EMVCo BIN controller identifier style prefix
    requestor_prefix: str
    reference_prefix: str
    magic_prefix: str  # magic card numbers: prefix + two-digit reason code + check digit


PROFILES = {
    TokenNetwork.VISA: NetworkProfile(
        TokenNetwork.VISA, "489537", 16, "V001", "400", "DNITHE", "4000000000000"
    ),
    TokenNetwork.MASTERCARD: NetworkProfile(
        TokenNetwork.MASTERCARD, "520473", 16, "5001", "501", "DM4MMC", "5100000000000"
    ),
    TokenNetwork.AMEX: NetworkProfile(
        TokenNetwork.AMEX, "371287", 15, "A001", "372", "DAMEXT", "340000000000"
    ),
    TokenNetwork.DISCOVER: NetworkProfile(
        TokenNetwork.DISCOVER, "601187", 16, "D001", "601", "DDSCVR", "6011000000000"
    ),
}

_FAILURE_CODES = {
    1: ProvisioningFailure.INVALID_REQUEST,
    2: ProvisioningFailure.CARD_VERIFICATION_FAILED,
    3: ProvisioningFailure.CARD_NOT_ELIGIBLE,
    4: ProvisioningFailure.CARD_NOT_ALLOWED,
    5: ProvisioningFailure.DECLINED,
    6: ProvisioningFailure.SERVICE_UNAVAILABLE,
    7: ProvisioningFailure.SYSTEM_ERROR,
}


def _magic(prefix: str, code: int) -> str:
    body = f"{prefix}{code:02d}"
    return body + luhn_check_digit(body)


#: Card number → the failure its provisioning simulates.
MAGIC_FAILURES: dict[str, ProvisioningFailure] = {
    _magic(profile.magic_prefix, code): reason
    for profile in PROFILES.values()
    for code, reason in _FAILURE_CODES.items()
}


class SimulatedTokenProvider:
    """One network's token service, simulated with real key derivation."""

    def __init__(self, network: TokenNetwork, issuer_master_key: bytes, index_key: bytes) -> None:
        self.network = network
        self.profile = PROFILES[network]
        self._imk = issuer_master_key
        self._index_key = index_key

    def provision(
        self, request: ProvisioningRequest, taken: Callable[[str], bool]
    ) -> ProvisionedToken | ProvisioningFailure:
        """A new token for the card, or why the network refuses one.
        ``taken(number)`` says whether a candidate number is already in use
        (as a token or as any stored card)."""
        failure = MAGIC_FAILURES.get(request.pan.reveal())
        if failure is not None:
            return failure
        number = self._new_number(request.pan, taken)
        expiry_year = request.now.year + 3
        return ProvisionedToken(
            number=number,
            expiration_month=f"{request.now.month:02d}",
            expiration_year=str(expiry_year),
            token_reference_id=self.profile.reference_prefix + _alphanumeric(26),
            enrollment_id=randomness.token_hex("enrollment id", 16),
            payment_account_reference=self.payment_account_reference(request.pan),
            requestor_id=self._requestor_id(request.merchant_id),
            master_key=derive_token_master_key(self._imk, number.reveal()),
            metadata=self._metadata(request.pan),
        )

    def card_art(self, token: NetworkToken) -> bytes:
        art = token.metadata.get("cardArt", {})
        return card_art_png(str(art.get("backgroundColor", "1a1f71")))

    def payment_account_reference(self, pan: PAN) -> str:
        """29 characters, stable for the card across all its tokens (EMVCo PAR
        shape: a 4-character BIN controller id and 25 alphanumerics)."""
        digest = hmac.new(self._index_key, b"par\x00" + pan.reveal().encode(), hashlib.sha256)
        tail = base64.b32encode(digest.digest()).decode()[:25]
        return self.profile.par_prefix + tail

    def _new_number(self, pan: PAN, taken: Callable[[str], bool]) -> PAN:
        profile = self.profile
        width = profile.length - len(profile.token_bin) - 1
        for _ in range(100):
            middle = f"{randomness.randbelow('token number', 10**width):0{width}d}"
            body = profile.token_bin + middle
            candidate = body + luhn_check_digit(body)
            if candidate != pan.reveal() and not taken(candidate):
                return PAN(candidate)
        raise RuntimeError("no free token number after 100 draws")

    def _requestor_id(self, merchant_id: str) -> str:
        digest = hmac.new(self._index_key, b"trid\x00" + merchant_id.encode(), hashlib.sha256)
        return self.profile.requestor_prefix + f"{int.from_bytes(digest.digest()[:8]) % 10**8:08d}"

    def _metadata(self, pan: PAN) -> dict[str, Any]:
        details = bin_details(pan.bin)
        seed = hashlib.sha256(f"{self.network}:{pan.bin}".encode()).digest()
        return {
            "cardArt": {
                "foregroundColor": "ffffff",
                "backgroundColor": seed[:3].hex(),
                "labelColor": "ffffff",
            },
            "issuer": {
                "name": details.issuer_name,
                "shortDescription": f"{details.issuer_name} {details.card_product}",
                "longDescription": f"{details.card_product} issued by {details.issuer_name}",
                "email": "cards@issuer.example",
                "phoneNumber": "18005550100",
                "url": "https://issuer.example",
                "privacyPolicyUrl": "https://issuer.example/privacy",
                "capabilities": {
                    "deviceBindingSupported": self.network == TokenNetwork.VISA,
                    "cardholderVerificationSupported": True,
                    "trustedBeneficiaryEnrollmentSupported": False,
                    "delegatedAuthenticationSupported": self.network == TokenNetwork.VISA,
                    "oboDeviceBindingSupported": False,
                    "tokenLcmNotificationsSupported": True,
                    "fpanLcmNotificationsSupported": True,
                },
            },
        }


def _alphanumeric(length: int) -> str:
    # Base 32 of random bytes: upper-case letters and digits 2-7, one call.
    drawn = randomness.token_bytes("token reference id", length)
    return base64.b32encode(drawn).decode()[:length]


def card_art_png(background_hex: str, width: int = 64, height: int = 40) -> bytes:
    """A small solid-colour PNG (RGB, 8 bits), the simulated card art."""
    red, green, blue = bytes.fromhex(background_hex)
    row = b"\x00" + bytes([red, green, blue]) * width

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(row * height))
        + chunk(b"IEND", b"")
    )
