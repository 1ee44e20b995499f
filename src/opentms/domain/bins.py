"""BIN details for ``retrieveBinDetails``: brand-level facts for every main
brand, refined for a few widely published test BINs.

The issuer entries are illustrative sandbox data, not an authoritative BIN
database; the brand, card type code and lengths follow the public BIN ranges.
"""

from __future__ import annotations

from dataclasses import dataclass

from opentms.domain.card import Brand, brand_of


@dataclass(frozen=True)
class BinDetails:
    brand: Brand
    max_length: int
    funding_source: str  # CREDIT | DEBIT | PREPAID | CHARGE
    card_product: str
    issuer_name: str
    issuer_country: str
    currency: str


_BRAND_DEFAULTS: dict[Brand, tuple[int, str, str]] = {
    Brand.VISA: (16, "CREDIT", "Visa Classic"),
    Brand.MASTERCARD: (16, "CREDIT", "Standard Mastercard"),
    Brand.AMEX: (15, "CHARGE", "American Express Green"),
    Brand.DISCOVER: (16, "CREDIT", "Discover It"),
    Brand.DINERS: (14, "CREDIT", "Diners Club International"),
    Brand.JCB: (16, "CREDIT", "JCB Standard"),
    Brand.MAESTRO: (19, "DEBIT", "Maestro"),
    Brand.UNIONPAY: (19, "DEBIT", "UnionPay Classic"),
    Brand.UNKNOWN: (19, "CREDIT", "Unknown"),
}

# Published test BINs → (funding source, product, issuer, country, currency).
_KNOWN: dict[str, tuple[str, str, str, str, str]] = {
    "411111": ("CREDIT", "Visa Classic", "opentms Test Bank", "US", "USD"),
    "400000": ("CREDIT", "Visa Classic", "opentms Test Bank", "US", "USD"),
    "462294": ("DEBIT", "Visa Classic", "opentms Test Bank UK", "GB", "GBP"),
    "424242": ("CREDIT", "Visa Classic", "opentms Test Bank", "US", "USD"),
    "555555": ("CREDIT", "Standard Mastercard", "opentms Test Bank", "US", "USD"),
    "222242": ("CREDIT", "World Mastercard", "opentms Test Bank", "US", "USD"),
    "510510": ("DEBIT", "Debit Mastercard", "opentms Test Bank", "US", "USD"),
    "378282": ("CHARGE", "American Express Green", "American Express", "US", "USD"),
    "371449": ("CHARGE", "American Express Gold", "American Express", "US", "USD"),
    "601111": ("CREDIT", "Discover It", "Discover Bank", "US", "USD"),
}


def bin_details(number: str) -> BinDetails:
    """BIN details for a card number (only its first digits are looked at)."""
    brand = brand_of(number)
    max_length, funding, product = _BRAND_DEFAULTS[brand]
    issuer, country, currency = "Unknown", "US", "USD"
    known = _KNOWN.get(number[:6])
    if known is not None:
        funding, product, issuer, country, currency = known
    return BinDetails(brand, max_length, funding, product, issuer, country, currency)
