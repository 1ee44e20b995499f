"""From validated wire models to the services' inputs."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from opentms.adapters.http.schemas.instrument_identifiers import (
    STORED_FIELDS as II_FIELDS,
)
from opentms.adapters.http.schemas.instrument_identifiers import BankAccountIn, CardIn
from opentms.adapters.http.schemas.payment_instruments import InlineInstrumentIdentifier, PICard
from opentms.domain.card import PAN, BankAccount
from opentms.domain.errors import FieldError, MissingFields
from opentms.services.instrument_identifiers import CardExpiry
from opentms.services.payment_instruments import InstrumentIdentifierRef


def stored(model: BaseModel, fields: frozenset[str]) -> dict[str, Any]:
    """The fields of a create request that become stored attributes."""
    return model.model_dump(mode="json", by_alias=True, exclude_none=True, include=set(fields))


def patched(model: BaseModel, fields: frozenset[str]) -> dict[str, Any]:
    """The fields a PATCH sent (explicit ``null`` included: it removes)."""
    return model.model_dump(mode="json", by_alias=True, exclude_unset=True, include=set(fields))


def instrument_of(
    card: CardIn | None, bank_account: BankAccountIn | None, prefix: str = ""
) -> PAN | BankAccount | None:
    if card is not None and card.number is not None:
        return PAN.parse(card.number, f"{prefix}card.number")
    if bank_account is not None and bank_account.number is not None:
        if bank_account.routing_number is None:
            raise MissingFields(
                "A bank account needs a routing number.",
                (FieldError(f"{prefix}bankAccount.routingNumber"),),
            )
        return BankAccount.parse(bank_account.number, bank_account.routing_number)
    return None


def require_instrument(
    card: CardIn | None, bank_account: BankAccountIn | None
) -> PAN | BankAccount:
    instrument = instrument_of(card, bank_account)
    if instrument is None:
        raise MissingFields(
            "Send card.number (or bankAccount.number and routingNumber).",
            (FieldError("card.number"),),
        )
    return instrument


def expiry_of(card: CardIn | None) -> CardExpiry:
    if card is None:
        return CardExpiry()
    return CardExpiry(card.expiration_month, card.expiration_year)


def instrument_identifier_ref(
    inline: InlineInstrumentIdentifier | None, card: PICard | None = None
) -> InstrumentIdentifierRef | None:
    """The card a payment instrument names; its expiry (for the network token)
    from ``instrumentIdentifier.card``, else from the payment instrument's card."""
    if inline is None:
        return None
    instrument = instrument_of(inline.card, inline.bank_account, "instrumentIdentifier.")
    if inline.id is None and instrument is None:
        return None
    return InstrumentIdentifierRef(
        id=inline.id,
        instrument=instrument,
        attributes=stored(inline, II_FIELDS) if instrument is not None else None,
        expiry=_expiry(inline.card, card),
    )


def _expiry(ii_card: CardIn | None, pi_card: PICard | None) -> CardExpiry:
    expiry = expiry_of(ii_card)
    if expiry.month is None and pi_card is not None:
        return CardExpiry(pi_card.expiration_month, pi_card.expiration_year)
    return expiry
