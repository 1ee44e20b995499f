"""Card numbers as values that cannot leak: ``PAN`` masks itself everywhere but
``reveal()``, and brand detection follows the public BIN ranges."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from opentms.domain.errors import invalid_field

MIN_PAN_LENGTH = 12
MAX_PAN_LENGTH = 19


def luhn_valid(digits: str) -> bool:
    """True when ``digits`` (ASCII digits only) passes the Luhn check."""
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = ord(char) - 48
        if position % 2 == 1:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0


def luhn_check_digit(partial: str) -> str:
    """The digit that makes ``partial + digit`` pass the Luhn check."""
    for digit in "0123456789":
        if luhn_valid(partial + digit):
            return digit
    raise AssertionError("unreachable: one of ten digits always completes Luhn")


class Brand(Enum):
    """Card brands with their TMS ``card.type`` code and network token type name."""

    VISA = ("001", "Visa", "visa")
    MASTERCARD = ("002", "Mastercard", "mastercard")
    AMEX = ("003", "American Express", "americanexpress")
    DISCOVER = ("004", "Discover", "discover")
    DINERS = ("005", "Diners Club", "dinersclub")
    JCB = ("007", "JCB", "jcb")
    MAESTRO = ("042", "Maestro", "maestro")
    UNIONPAY = ("062", "China UnionPay", "unionpay")
    UNKNOWN = ("", "Unknown", "unknown")

    def __init__(self, code: str, display_name: str, token_type: str) -> None:
        self.code = code
        self.display_name = display_name
        self.token_type = token_type


def _in(prefix: str, low: int, high: int) -> bool:
    width = len(str(low))
    return low <= int(prefix[:width]) <= high


def brand_of(digits: str) -> Brand:
    """The brand of a card number (or of a BIN of at least 6 digits)."""
    if len(digits) < 6 or not digits.isdigit():
        return Brand.UNKNOWN
    if digits[0] == "4":
        return Brand.VISA
    if _in(digits, 51, 55) or _in(digits, 2221, 2720):
        return Brand.MASTERCARD
    if digits[:2] in ("34", "37"):
        return Brand.AMEX
    if digits.startswith(("6011", "65")) or _in(digits, 644, 649) or _in(digits, 622126, 622925):
        return Brand.DISCOVER
    if _in(digits, 3528, 3589):
        return Brand.JCB
    if _in(digits, 300, 305) or digits[:2] in ("36", "38", "39"):
        return Brand.DINERS
    if digits.startswith("62"):
        return Brand.UNIONPAY
    if digits[:2] == "50" or _in(digits, 56, 69):
        return Brand.MAESTRO
    return Brand.UNKNOWN


@dataclass(frozen=True, slots=True)
class PAN:
    """A primary account number. Never printed: ``str``/``repr`` show a mask.

    Build one with :meth:`parse`, which checks digits, length and Luhn; read the
    digits only through :meth:`reveal`, so that ``grep reveal()`` lists every
    place plaintext is touched.
    """

    _digits: str

    @classmethod
    def parse(cls, value: str, field: str = "card.number") -> PAN:
        # Security: messages name the field and the rule, never the value.
        if not value.isascii() or not value.isdigit():
            raise invalid_field(field, f"{field} must contain digits only.")
        if not MIN_PAN_LENGTH <= len(value) <= MAX_PAN_LENGTH:
            raise invalid_field(
                field,
                f"{field} must have between {MIN_PAN_LENGTH} and {MAX_PAN_LENGTH} digits.",
            )
        if not luhn_valid(value):
            raise invalid_field(field, f"{field} fails the Luhn check.")
        return cls(value)

    def reveal(self) -> str:
        return self._digits

    @property
    def bin(self) -> str:
        return self._digits[:8] if len(self._digits) >= 16 else self._digits[:6]

    @property
    def last4(self) -> str:
        return self._digits[-4:]

    @property
    def brand(self) -> Brand:
        return brand_of(self._digits)

    @property
    def masked(self) -> str:
        """The TMS mask: first six, ``X`` for the middle, last four."""
        return mask_number(self._digits)

    def __repr__(self) -> str:
        return f"PAN('{self.masked}')"

    __str__ = __repr__

    def __format__(self, spec: str) -> str:
        return repr(self)


def mask_number(digits: str) -> str:
    """Mask like TMS does: ``411111XXXXXX1111``; short numbers keep only the last four."""
    if len(digits) < 13:
        return "X" * (len(digits) - 4) + digits[-4:]
    return digits[:6] + "X" * (len(digits) - 10) + digits[-4:]


@dataclass(frozen=True, slots=True)
class BankAccount:
    """A bank account number and routing number, masked like a PAN."""

    _number: str
    routing_number: str

    @classmethod
    def parse(cls, number: str, routing_number: str) -> BankAccount:
        if not number.isascii() or not number.isdigit() or not 4 <= len(number) <= 17:
            raise invalid_field("bankAccount.number", "bankAccount.number must be 4 to 17 digits.")
        if (
            not routing_number.isascii()
            or not routing_number.isdigit()
            or not 4 <= len(routing_number) <= 9
        ):
            raise invalid_field(
                "bankAccount.routingNumber",
                "bankAccount.routingNumber must be 4 to 9 digits.",
            )
        return cls(number, routing_number)

    def reveal(self) -> str:
        return self._number

    @property
    def masked(self) -> str:
        return "X" * (len(self._number) - 4) + self._number[-4:]

    def __repr__(self) -> str:
        return f"BankAccount('{self.masked}')"

    __str__ = __repr__

    def __format__(self, spec: str) -> str:
        return repr(self)
