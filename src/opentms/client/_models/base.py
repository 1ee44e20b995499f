"""The base of every model, and the small shapes many resources share.

These modules do not use ``from __future__ import annotations``: annotations are
real objects, so pydantic never has to resolve a name when a schema is built on
first use (``defer_build``), which keeps ``import opentms.client`` fast.
"""

from collections.abc import Iterator
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr
from pydantic.alias_generators import to_camel


class TMSModel(BaseModel):
    """Base of every request and response model: snake_case attributes,
    camelCase JSON (``bill_to`` is ``billTo`` on the wire), construction by
    either name, unknown fields kept (``model_extra``), immutable.

    ```python
    card = Card(number="4111111111111111", expiration_month="12")
    card.to_wire()  # {'number': '4111111111111111', 'expirationMonth': '12'}
    ```
    """

    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        extra="allow",
        frozen=True,
        defer_build=True,
    )

    def __repr_args__(self) -> Iterator[tuple[str | None, Any]]:
        # Only what is set: TMS objects have dozens of optional fields.
        for name, value in super().__repr_args__():
            if value is not None:
                yield name, value

    def to_wire(self) -> dict[str, Any]:
        """The JSON object as sent on the wire: camelCase keys, and only the
        fields that were set (an explicit ``None`` is sent as ``null``)."""
        return self.model_dump(mode="json", by_alias=True, exclude_unset=True)


class TMSResponse(TMSModel):
    """A model the server answered with, carrying its ``etag`` (pass it as
    ``if_match`` to an update) and the HTTP ``status_code``."""

    _etag: str | None = PrivateAttr(default=None)
    _status_code: int | None = PrivateAttr(default=None)

    @property
    def etag(self) -> str | None:
        """The response's ``ETag`` header, e.g. ``'"3"'``; ``None`` when absent."""
        return self._etag

    @property
    def status_code(self) -> int | None:
        """The HTTP status the resource came with (e.g. 200 or 201)."""
        return self._status_code


class Link(TMSModel):
    """A HAL link: ``{"href": "/tms/v2/customers/..."}``."""

    href: str | None = None


Links = dict[str, Link]


class Metadata(TMSModel):
    """``metadata``: who created the token (the merchant id)."""

    creator: str | None = None


class Address(TMSModel):
    """A ``billTo`` or ``shipTo`` address."""

    first_name: str | None = None
    last_name: str | None = None
    company: str | None = None
    address1: str | None = None
    address2: str | None = None
    locality: str | None = None
    administrative_area: str | None = None
    postal_code: str | None = None
    country: str | None = None
    email: str | None = None
    phone_number: str | None = None


class IdRef(TMSModel):
    """A reference to another token: ``{"id": "..."}``."""

    id: str | None = None


class Card(TMSModel):
    """A card: the number (masked in responses), expiry, security code and
    type. The number and security code never appear in ``repr()``."""

    number: str | None = Field(default=None, repr=False)
    expiration_month: str | None = None
    expiration_year: str | None = None
    security_code: str | None = Field(default=None, repr=False)
    type: str | None = None


class Issuer(TMSModel):
    """``issuer``: the Payment Account Reference of the card."""

    payment_account_reference: str | None = None


__all__ = [
    "Address",
    "Card",
    "IdRef",
    "Issuer",
    "Link",
    "Links",
    "Metadata",
    "TMSModel",
    "TMSResponse",
]
