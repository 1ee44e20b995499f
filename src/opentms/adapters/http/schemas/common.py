"""Shared pieces of the wire schemas: the base model (camelCase aliases,
unknown fields ignored as CyberSource does), bounded strings, and the
translation of validation errors into TMS error details."""

from __future__ import annotations

from typing import Annotated, Any, TypeVar

import orjson
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError
from pydantic.alias_generators import to_camel

from opentms.domain.errors import FieldError, InvalidFields, MissingFields


class WireModel(BaseModel):
    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        extra="ignore",
        frozen=True,
    )


Month = Annotated[str, StringConstraints(pattern=r"^(0?[1-9]|1[0-2])$")]
Year = Annotated[str, StringConstraints(pattern=r"^(19|20|21)[0-9]{2}$")]
Digits = Annotated[str, StringConstraints(pattern=r"^[0-9]*$", max_length=32)]


class Address(WireModel):
    """``billTo`` / ``shipTo``."""

    first_name: str | None = Field(None, max_length=60)
    last_name: str | None = Field(None, max_length=60)
    company: str | None = Field(None, max_length=60)
    address1: str | None = Field(None, max_length=60)
    address2: str | None = Field(None, max_length=60)
    locality: str | None = Field(None, max_length=50)
    administrative_area: str | None = Field(None, max_length=20)
    postal_code: str | None = Field(None, max_length=10)
    country: str | None = Field(None, max_length=2, min_length=2, pattern=r"^[A-Za-z]{2}$")
    email: str | None = Field(None, max_length=255)
    phone_number: str | None = Field(None, max_length=15)


class IdRef(WireModel):
    id: str | None = Field(None, max_length=32, min_length=1, pattern=r"^[0-9A-Za-z]+$")


_M = TypeVar("_M", bound=BaseModel)


def parse_json(body: bytes) -> dict[str, Any]:
    """The request body as a JSON object, or a 400 that says what is wrong."""
    if not body.strip():
        return {}
    try:
        value = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise InvalidFields(
            f"The request body is not valid JSON (line {exc.lineno}, column {exc.colno}).",
            (FieldError("body", "body"),),
        ) from None
    if not isinstance(value, dict):
        raise InvalidFields(
            "The request body must be a JSON object.", (FieldError("body", "body"),)
        )
    return value


def validate(model: type[_M], data: dict[str, Any]) -> _M:
    """``model`` from ``data``; validation errors become a TMS 400 whose
    details name every field at fault (and never echo a value)."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise to_vault_error(exc) from None


def to_vault_error(exc: ValidationError) -> InvalidFields | MissingFields:
    details: list[FieldError] = []
    problems: list[str] = []
    missing = True
    for error in exc.errors(include_url=False, include_input=False, include_context=False):
        name = _dotted(error["loc"])
        if name in {d.name for d in details}:
            continue
        details.append(FieldError(name, "body"))
        problems.append(f"{name}: {_describe(error)}")
        missing = missing and error["type"] == "missing"
    if missing:
        return MissingFields(
            "Missing required fields: " + "; ".join(problems) + ".", tuple(details)
        )
    return InvalidFields("Invalid field values: " + "; ".join(problems) + ".", tuple(details))


def _dotted(loc: tuple[int | str, ...]) -> str:
    name = ""
    for part in loc:
        if isinstance(part, int):
            name += f"[{part}]"
        elif part.startswith("function-") or part in ("str", "int", "bool"):
            continue
        else:
            name += f".{part}" if name else part
    return name or "body"


def _describe(error: Any) -> str:
    message = str(error["msg"])
    if message.startswith("Value error, "):
        message = message[len("Value error, ") :]
    return message[:1].lower() + message[1:]
