"""One TMS operation as data: method, path, body and how to read the answer.
Built once by ``_operations`` and run by the sync or the async client, so the
two share every byte of request building and response handling."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, Literal, TypeAlias, TypeVar, Union
from urllib.parse import quote

import httpx

from opentms.client._exceptions import InvalidResponse
from opentms.client._http11 import Reply

if TYPE_CHECKING:
    from pydantic import BaseModel

    from opentms.client._models import TMSResponse

__all__ = ["Body", "OperationRequest", "segment"]

T = TypeVar("T")
R = TypeVar("R", bound="TMSResponse")

JSON_TYPE = "application/json;charset=utf-8"
JOSE_TYPE = "application/jose;charset=utf-8"

#: A request body: a model, or a mapping already in wire (camelCase) form.
Body: TypeAlias = Union["BaseModel", Mapping[str, Any]]
#: Request message-level encryption of an operation (tms-api.md §2).
MLE = Literal["never", "optional", "mandatory"]
#: A response: httpx's, or the default transport's lighter ``Reply``.
Answer: TypeAlias = httpx.Response | Reply
Parser: TypeAlias = Callable[[bytes, Answer], T]


def as_httpx(answer: Answer) -> httpx.Response:
    """The ``httpx.Response`` of ``answer``, for the exceptions that carry one."""
    return answer if isinstance(answer, httpx.Response) else answer.to_httpx()


@dataclass(frozen=True, slots=True, kw_only=True)
class OperationRequest(Generic[T]):
    """A request to make and the parser of its (decrypted) success body.
    Built by keyword. ``profile_id=None`` means the client's default profile."""

    method: str
    path: str
    parse: Parser[T]
    body: Body | None = None
    params: dict[str, str] | None = None
    profile_id: str | None = None
    if_match: str | None = None
    mle: MLE = "never"
    accept: str = JSON_TYPE
    send_profile: bool = True


def segment(value: str) -> str:
    """A path segment: ids are percent-encoded, so none can change the path."""
    return quote(str(value), safe="")


def _default(value: Any) -> Any:
    dump = getattr(value, "model_dump", None)
    if dump is not None:
        return dump(mode="json", by_alias=True, exclude_unset=True)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def encode_body(body: Body | None) -> bytes:
    """The JSON bytes sent: a model by its wire names (set fields only); a
    mapping as it is; nothing as ``{}`` (a signed POST always has a body)."""
    if body is None:
        return b"{}"
    dump_json = getattr(body, "model_dump_json", None)
    if dump_json is not None:
        return str(dump_json(by_alias=True, exclude_unset=True)).encode()
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False, default=_default).encode()


def parse_model(model: type[R]) -> Parser[R]:
    """A parser into ``model`` that also keeps the ETag and status code."""

    def parse(content: bytes, response: Answer) -> R:
        try:
            result = model.model_validate_json(content)
        except ValueError:  # pydantic's ValidationError is a ValueError
            raise InvalidResponse(
                f"The {response.status_code} response is not a {model.__name__} "
                "(JSON object) this client can read.",
                as_httpx(response),
            ) from None
        result._etag = response.headers.get("etag")
        result._status_code = response.status_code
        return result

    return parse


def parse_nothing(_content: bytes, _response: Answer) -> None:
    return None


def parse_accepted(_content: bytes, response: Answer) -> bool:
    """``True`` for 202 (submitted), ``False`` for 204 (nothing to do)."""
    return response.status_code == 202


def parse_jwe(content: bytes, response: Answer) -> str:
    """The compact JWE of a payment-credentials answer (bare, or JSON-quoted)."""
    text = content.decode("utf-8", errors="replace").strip()
    if text.startswith('"') and text.endswith('"'):
        text = text[1:-1]
    if text.count(".") != 4:
        message = "The payment-credentials response is not a compact JWE."
        raise InvalidResponse(message, as_httpx(response))
    return text
