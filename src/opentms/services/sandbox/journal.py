"""The sandbox's request journal (docs/sandbox.md, "Request journal"): every
TMS request as it was answered, for a test suite to see what it sent and why
it was refused.

Everything recorded is masked here, before the store sees it: card numbers
(any Luhn-valid run of digits, and every value of a card-number field),
security codes, cryptograms and other card data (by field name), secrets
(shared secrets, keys, passwords: left out), the contents of JWEs (left
out), and body digests (a SHA-256 of a body whose card number is shown as
``411111XXXXXX1111`` would give the hidden digits back in a moment)."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from opentms.domain.card import MAX_PAN_LENGTH, MIN_PAN_LENGTH, mask_number
from opentms.domain.ports import AuthenticationVerdict, JournalEntry, JournalFilter, JournalStore
from opentms.observability import redact

log = logging.getLogger("opentms.sandbox")

# The most of one body kept, in characters of its masked JSON text.
MAX_BODY_CHARS = 16_384
# The most of any other recorded text (a signed string, a message, a query).
MAX_TEXT_CHARS = 4_096
JWE_PLACEHOLDER = "[JWE: not recorded]"
SECRET_PLACEHOLDER = "[secret: not recorded]"  # noqa: S105 - a placeholder
MASKED = "[masked]"
TRUNCATED = "…[truncated]"

# Field names (compared without regard to case) whose value is a card or
# token number: masked as TMS masks them, first six and last four digits.
CARD_NUMBER_FIELDS = frozenset({"number", "tokennumber", "accountnumber", "pan"})
# Card data and one-time values: the whole value is masked. ``value`` is an
# EMV tag's value (the tags hold the card number, track data, cryptograms) and
# a passcode's; ``digest`` is a body digest (see the module docstring).
MASKED_FIELDS = frozenset(
    {
        "securitycode",
        "cvv",
        "cvc",
        "cvv2",
        "cryptogram",
        "cavv",
        "ucafauthenticationdata",
        "xid",
        "track1",
        "track2",
        "trackdata",
        "pin",
        "value",
        "digest",
        "transienttokenjwt",
    }
)
# Secrets: left out whatever they hold.
SECRET_FIELDS = frozenset(
    {
        "sharedsecret",
        "secret",
        "secretkey",
        "password",
        "p12password",
        "p12base64",
        "privatekey",
        "privatekeypem",
        "key",
        "apikey",
        "clientsecret",
        "accesstoken",
        "admintoken",
        "authorization",
    }
)
# Message-level encryption: the JWE is left out, its contents never opened.
JWE_FIELDS = frozenset({"encryptedrequest", "encryptedresponse"})

_SENSITIVE_NAMES = sorted(CARD_NUMBER_FIELDS | MASKED_FIELDS | SECRET_FIELDS | JWE_FIELDS)
# In text that is not JSON (a form, a query, JSON that does not parse, a
# signed string): ``name: value``, ``name=value`` and ``"name": "value"``. A
# quoted value runs to its closing quote (escapes included); any other value
# (an unclosed quote too) to a space or a separator.
_NOT_YET_MASKED = r"(?!\[(?:masked|JWE|secret))"
_NAMED_VALUE = re.compile(
    r"(?i)(?<![A-Za-z0-9])((?:" + "|".join(_SENSITIVE_NAMES) + r")\"?\s*[:=]\s*)"
    r"(?:\""
    + _NOT_YET_MASKED
    + r"((?:[^\"\\]|\\.)*)\"|(\"?)"
    + _NOT_YET_MASKED
    + r"([^\"\s,&;}\]]+))"
)


def _mask_named(match: re.Match[str]) -> str:
    if match.group(2) is not None:
        return f'{match.group(1)}"{MASKED if match.group(2) else ""}"'
    return match.group(1) + match.group(3) + MASKED


# A compact JWE: five base64url segments, the first a JSON header ("eyJ").
_COMPACT_JWE = re.compile(
    r"eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*"
)
# A digest of a body (Digest header, JWT digest claim, a message quoting one).
_DIGEST = re.compile(r"(?i)(SHA-?256=)[A-Za-z0-9+/=_-]+")
_CARD_SHAPED = re.compile(r"[0-9Xx*]+")


def mask_text(text: str, limit: int = MAX_TEXT_CHARS) -> str:
    """``text`` with card numbers, named card data and secrets, JWEs and body
    digests masked, then cut to ``limit`` characters. What could be cut in
    half at the limit is masked whole first: the masking reads a little past it."""
    # PostgreSQL's text holds no NUL character.
    window = text[: limit + 64].replace("\x00", "\ufffd")
    window = _COMPACT_JWE.sub(JWE_PLACEHOLDER, window)
    window = _NAMED_VALUE.sub(_mask_named, window)
    window = _DIGEST.sub(r"\1" + MASKED, window)
    window = redact(window)
    if len(window) > limit or len(text) > limit + 64:
        return window[:limit] + TRUNCATED
    return window


def mask_json(value: Any) -> Any:
    """A JSON value with the same shape, masked: sensitive fields by name,
    card numbers and JWEs wherever they are (in keys too)."""
    if isinstance(value, dict):
        return {redact(str(key)): _mask_field(str(key), item) for key, item in value.items()}
    if isinstance(value, list):
        return [mask_json(item) for item in value]
    if isinstance(value, str):
        return _mask_string(value)
    if isinstance(value, int | float) and not isinstance(value, bool):
        text = str(value)
        masked = redact(text)
        return value if masked == text else masked
    return value


def _mask_field(name: str, value: Any) -> Any:
    key = name.lower()
    if isinstance(value, dict | list) and key not in JWE_FIELDS | SECRET_FIELDS:
        return mask_json(value)
    if value is None:
        return None
    if key in JWE_FIELDS:
        return JWE_PLACEHOLDER
    if key in SECRET_FIELDS:
        return SECRET_PLACEHOLDER
    if key in MASKED_FIELDS:
        return MASKED
    if key in CARD_NUMBER_FIELDS:
        return _mask_card_number(value)
    return mask_json(value)


def _mask_card_number(value: Any) -> str:
    """A card number as TMS shows it; what is not shaped like one, masked whole."""
    text = str(value) if isinstance(value, str | int) and not isinstance(value, bool) else ""
    if MIN_PAN_LENGTH <= len(text) <= MAX_PAN_LENGTH and _CARD_SHAPED.fullmatch(text):
        return mask_number(text)
    return MASKED


def _mask_string(value: str) -> str:
    if _COMPACT_JWE.fullmatch(value):
        return JWE_PLACEHOLDER
    return mask_text(value, limit=MAX_BODY_CHARS)


def mask_body(raw: bytes | None, content_type: str | None) -> str | None:
    """What the journal keeps of a body: None when empty; a JSON text of the
    masked JSON value; for anything else, a JSON string of the masked text
    (cut to MAX_BODY_CHARS), or a placeholder naming what was left out."""
    if not raw:
        return None
    media = (content_type or "").split(";", 1)[0].strip().lower()
    if media == "application/jose":
        return json.dumps(JWE_PLACEHOLDER)
    try:
        parsed = json.loads(raw)
    except (UnicodeDecodeError, ValueError, RecursionError):
        return json.dumps(_mask_other(raw, media))
    try:
        recorded = json.dumps(mask_json(parsed), ensure_ascii=False, separators=(",", ":"))
    except RecursionError:
        # Nested deeper than the masking can walk: kept as masked text.
        return json.dumps(_mask_other(raw, media), ensure_ascii=False)
    if len(recorded) > MAX_BODY_CHARS:
        # Already masked whole: cutting it cannot uncover anything.
        return json.dumps(recorded[:MAX_BODY_CHARS] + TRUNCATED, ensure_ascii=False)
    return recorded


def _mask_other(raw: bytes, media: str) -> str:
    """Text, masked and cut; what does not decode as UTF-8, a placeholder.
    Enough is decoded for :func:`mask_text` to see that it was cut."""
    head = raw[: 4 * (MAX_BODY_CHARS + 64)]
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError as exc:
        # A character cut in two at the end of the head is not binary data.
        if len(head) == len(raw) or exc.start < len(head) - 3:
            return f"[{media or 'binary'}: {len(raw)} bytes, not recorded]"
        text = head[: exc.start].decode("utf-8")
    return mask_text(text, limit=MAX_BODY_CHARS)


@dataclass(frozen=True)
class Exchange:
    """One TMS request and its answer, as the HTTP adapter saw them: nothing
    masked yet. ``failure`` is the reason code of a refused authentication,
    ``message`` its message and ``signed`` what the server signed or checked."""

    at: datetime
    method: str
    path: str
    query: str
    status: int
    duration_ms: float
    correlation_id: str
    merchant_id: str | None
    claimed_merchant_id: str | None
    failure: str | None
    message: str | None
    signed: str | None
    request_body: bytes | None
    request_content_type: str | None
    response_body: bytes | None
    response_content_type: str | None


def _optional(text: str | None, limit: int = MAX_TEXT_CHARS) -> str | None:
    return None if text is None else mask_text(text, limit)


def _scrubbed(exchange: Exchange, secrets: tuple[str, ...]) -> Exchange:
    """``exchange`` with every occurrence of the server's own ``secrets`` (the
    admin token) replaced, wherever a client put one."""
    texts = ("path", "query", "correlation_id", "claimed_merchant_id", "message", "signed")
    changes: dict[str, Any] = {}
    for secret in (secret for secret in secrets if secret):
        for name in texts:
            value = changes.get(name, getattr(exchange, name))
            if value is not None and secret in value:
                changes[name] = value.replace(secret, SECRET_PLACEHOLDER)
        for name in ("request_body", "response_body"):
            raw = changes.get(name, getattr(exchange, name))
            if raw is not None and secret.encode() in raw:
                changes[name] = raw.replace(secret.encode(), SECRET_PLACEHOLDER.encode())
    return replace(exchange, **changes) if changes else exchange


def journal_entry(exchange: Exchange, secrets: tuple[str, ...] = ()) -> JournalEntry:
    """The entry of ``exchange``, every text in it masked, ``secrets`` left out."""
    exchange = _scrubbed(exchange, secrets)
    verdict: AuthenticationVerdict = "none"
    if exchange.merchant_id is not None:
        verdict = "authenticated"
    elif exchange.failure is not None:
        verdict = "refused"
    claimed = None
    if verdict == "refused" and exchange.claimed_merchant_id is not None:
        claimed = mask_text(exchange.claimed_merchant_id, 64)
    return JournalEntry(
        at=exchange.at,
        merchant_id=exchange.merchant_id,
        claimed_merchant_id=claimed,
        method=exchange.method[:16],
        path=mask_text(exchange.path, 2048),
        query=mask_text(exchange.query, 2048),
        status=exchange.status,
        duration_ms=round(exchange.duration_ms, 3),
        correlation_id=mask_text(exchange.correlation_id, 128 - len(TRUNCATED)),
        verdict=verdict,
        reason=None if exchange.failure is None else exchange.failure[:64],
        message=_optional(exchange.message),
        signed_string=_optional(exchange.signed),
        request_body=mask_body(exchange.request_body, exchange.request_content_type),
        response_body=mask_body(exchange.response_body, exchange.response_content_type),
    )


class RequestJournal:
    """Records exchanges (masked) in the shared store, keeping the newest
    ``limit``; 0 (or no store) records nothing. A failed write is logged,
    never raised: the journal must not fail a request. ``secrets`` (the admin
    token) are left out wherever a client sent one."""

    def __init__(
        self, store: JournalStore | None, limit: int, secrets: tuple[str, ...] = ()
    ) -> None:
        self._store = store
        self.limit = limit if store is not None else 0
        self._secrets = secrets

    @property
    def enabled(self) -> bool:
        return self.limit > 0

    def record(self, exchange: Callable[[], Exchange]) -> None:
        """Record what ``exchange`` makes (called only when the journal is on)."""
        if self._store is None or not self.enabled:
            return
        try:
            self._store.add(journal_entry(exchange(), self._secrets), self.limit)
        except Exception as exc:  # The journal must not fail the request: logged.
            # The type only: a message could quote what was being recorded.
            log.warning("request journal: an entry was not recorded (%s)", type(exc).__name__)

    def find(self, criteria: JournalFilter) -> tuple[list[JournalEntry], int]:
        return ([], 0) if self._store is None else self._store.find(criteria)

    def get(self, entry_id: int) -> JournalEntry | None:
        return None if self._store is None else self._store.get(entry_id)

    def clear(self, merchant_id: str | None = None) -> int:
        """Drop every entry, or one merchant's; how many were dropped."""
        return 0 if self._store is None else self._store.clear(merchant_id)
