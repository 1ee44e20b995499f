"""Currencies (ISO 4217) and amounts in minor units."""

from __future__ import annotations

import re

MAX_AMOUNT = 10**12 - 1  # 12 digits

# ISO 4217: alphabetic code, numeric code, minor units.
_ISO_4217 = """
AED 784 2  ARS 032 2  AUD 036 2  BGN 975 2  BHD 048 3  BRL 986 2  CAD 124 2  CHF 756 2
CLP 152 0  CNY 156 2  COP 170 2  CZK 203 2  DKK 208 2  EGP 818 2  EUR 978 2  GBP 826 2
HKD 344 2  HUF 348 2  IDR 360 2  ILS 376 2  INR 356 2  ISK 352 0  JOD 400 3  JPY 392 0
KES 404 2  KRW 410 0  KWD 414 3  MAD 504 2  MXN 484 2  MYR 458 2  NGN 566 2  NOK 578 2
NZD 554 2  OMR 512 3  PEN 604 2  PHP 608 2  PKR 586 2  PLN 985 2  QAR 634 2  RON 946 2
SAR 682 2  SEK 752 2  SGD 702 2  THB 764 2  TND 788 3  TRY 949 2  TWD 901 2  UAH 980 2
UGX 800 0  USD 840 2  VND 704 0  XAF 950 0  XOF 952 0  ZAR 710 2
"""
_ENTRIES = [_ISO_4217.split()[i : i + 3] for i in range(0, len(_ISO_4217.split()), 3)]
_NUMERIC = {alpha: numeric for alpha, numeric, _ in _ENTRIES}
_MINOR_UNITS = {numeric: int(units) for _, numeric, units in _ENTRIES}


def currency_numeric(code: str) -> str:
    """The ISO 4217 numeric code of an alphabetic (any case) or numeric ``code``.

    >>> currency_numeric("usd"), currency_numeric("392")
    ('840', '392')
    """
    numeric = _NUMERIC.get(code.upper(), code)
    if numeric not in _MINOR_UNITS:
        raise ValueError("Unknown ISO 4217 currency code.")
    return numeric


def amount_minor_units(amount: str, currency: str) -> int:
    """A decimal amount string in minor units of ``currency`` (alphabetic or numeric).

    >>> amount_minor_units("10.5", "USD"), amount_minor_units("1000", "JPY")
    (1050, 1000)

    ``ValueError`` for anything else, e.g. "-1", "1e3", "10.505" (USD), "1.5" (JPY).
    """
    units = _MINOR_UNITS[currency_numeric(currency)]
    match = re.fullmatch(r"([0-9]+)(?:\.([0-9]+))?", amount)
    if match is None:
        raise ValueError("The amount must be a non-negative decimal number.")
    whole, fraction = match.group(1), match.group(2) or ""
    if len(fraction) > units:
        raise ValueError("The amount has more decimals than its currency.")
    value = int(whole + fraction.ljust(units, "0"))
    if value > MAX_AMOUNT:
        raise ValueError("The amount does not fit in 12 digits.")
    return value
