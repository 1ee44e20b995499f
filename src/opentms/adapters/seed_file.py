"""Seed files (docs/sandbox.md "Seed files"), YAML or JSON, parsed strictly
into a :class:`~opentms.services.sandbox.seed.SeedDocument`.

Every error is a 400 (:func:`~opentms.services.sandbox.seed.seed_problem`) naming
the field path and its line. YAML is composed (not loaded) with PyYAML's safe
loader, so that every node keeps its line; anchors and aliases, tags other
than the plain scalars and duplicate keys are refused. JSON is parsed with
orjson (strict JSON), and its lines are read from the same document composed
as YAML (JSON is YAML's flow style) when PyYAML can.

The TMS parts of an entry (a customer's ``buyerInformation``, a payment
instrument's ``card`` and ``billTo``...) are validated by the very wire models
of the TMS API, and, unlike the API (which ignores unknown fields as
CyberSource does), a field those models do not know is an error here.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, Literal, TypeVar

import orjson
import yaml
from pydantic import BaseModel, ValidationError

from opentms.adapters.http.routes.inputs import expiry_of, instrument_identifier_ref, stored
from opentms.adapters.http.schemas.customers import STORED_FIELDS as CUSTOMER_FIELDS
from opentms.adapters.http.schemas.customers import CustomerCreate, ShippingAddressCreate
from opentms.adapters.http.schemas.instrument_identifiers import STORED_FIELDS as II_FIELDS
from opentms.adapters.http.schemas.instrument_identifiers import InstrumentIdentifierCreate
from opentms.adapters.http.schemas.payment_instruments import STORED_FIELDS as PI_FIELDS
from opentms.adapters.http.schemas.payment_instruments import PaymentInstrumentCreate
from opentms.adapters.networks.simulated import MAGIC_FAILURES
from opentms.domain import ids
from opentms.domain.card import PAN, luhn_valid
from opentms.domain.errors import InvalidFields, InvalidRequest
from opentms.domain.network_token import TokenNetwork, TokenState
from opentms.services.merchants import MERCHANT_ID
from opentms.services.sandbox.seed import (
    SEEDABLE_STATES,
    SeedCard,
    SeedCustomer,
    SeedDocument,
    SeedMerchant,
    SeedPaymentInstrument,
    SeedProfile,
    SeedShippingAddress,
    Where,
    seed_problem,
)

SeedFormat = Literal["yaml", "json"]
VERSION = 1
# Entries a list may hold; the body limit of POST /seed bounds it further.
MAX_ITEMS = 10_000
_KEY_ID = re.compile(r"[\x21-\x7e]{1,128}")
_M = TypeVar("_M", bound=BaseModel)
_Lines = dict[str, int]


def load_seed_file(path: Path) -> SeedDocument:
    """The seed file at ``path``: JSON when it ends in ``.json``, else YAML;
    PEM paths in it are relative to its directory."""
    try:
        content = path.read_bytes()
    except OSError as exc:
        raise seed_problem(Where(str(path)), f"cannot read the file ({exc.strerror}).") from None
    seed_format: SeedFormat = "json" if path.suffix.lower() == ".json" else "yaml"
    return parse_seed(content, seed_format, path.parent)


def parse_seed(content: bytes, seed_format: SeedFormat, base_dir: Path | None) -> SeedDocument:
    """Parse a seed document. ``base_dir`` is where PEM paths are read from;
    None (a document sent over HTTP) takes inline PEM only."""
    try:
        value, lines = _read(content, seed_format)
        return _Parser(lines, base_dir).document(value)
    except RecursionError:
        raise seed_problem(Where("document"), "the document is nested too deeply.") from None


# Reading: values and the line of every field path --------------------------------------


def _read(content: bytes, seed_format: SeedFormat) -> tuple[Any, _Lines]:
    if seed_format == "json":
        try:
            value = orjson.loads(content)
        except orjson.JSONDecodeError as exc:
            raise seed_problem(
                Where("document", exc.lineno), f"not valid JSON (column {exc.colno})."
            ) from None
        lines: _Lines = {}
        try:
            node = yaml.compose(content, Loader=yaml.SafeLoader)
        except yaml.YAMLError:
            node = None  # Valid JSON PyYAML cannot read (tabs): no lines then.
        if node is not None:
            _node_lines(node, "", lines, set())
        return value, lines
    try:
        text = content.decode("utf-8")
    except UnicodeDecodeError:
        raise seed_problem(Where("document"), "a YAML seed file must be UTF-8.") from None
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        line = exc.problem_mark.line + 1 if exc.problem_mark else None
        raise seed_problem(Where("document", line), f"not valid YAML: {exc.problem}.") from None
    except yaml.YAMLError as exc:
        raise seed_problem(Where("document"), f"not valid YAML: {exc}.") from None
    if node is None:
        raise seed_problem(Where("document", 1), "the document is empty.")
    lines = {}
    _node_lines(node, "", lines, set())
    return _construct(node, ""), lines


def _node_lines(node: yaml.Node, path: str, lines: _Lines, seen: set[int]) -> None:
    """Record the line of every field path below ``node``; refuse aliases
    (a node met twice) and duplicate keys."""
    if id(node) in seen:
        raise seed_problem(
            Where(path or "document", node.start_mark.line + 1),
            "anchors and aliases are not supported in seed files.",
        )
    seen.add(id(node))
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                raise seed_problem(
                    Where(path or "document", key_node.start_mark.line + 1),
                    "a key must be a string.",
                )
            child = f"{path}.{key_node.value}" if path else str(key_node.value)
            if child in lines:
                raise seed_problem(
                    Where(child, key_node.start_mark.line + 1),
                    f"defined twice (first on line {lines[child]}).",
                )
            lines[child] = key_node.start_mark.line + 1
            _node_lines(value_node, child, lines, seen)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            child = f"{path}[{index}]"
            lines[child] = item.start_mark.line + 1
            _node_lines(item, child, lines, seen)


_PLAIN_TAGS = {
    "tag:yaml.org,2002:str",
    "tag:yaml.org,2002:int",
    "tag:yaml.org,2002:bool",
    "tag:yaml.org,2002:null",
    "tag:yaml.org,2002:float",
}


def _construct(node: yaml.Node, path: str) -> Any:
    """The value of a composed node: mappings, sequences and plain scalars."""
    where = Where(path or "document", node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        if node.tag != "tag:yaml.org,2002:map":
            raise seed_problem(where, f"the tag {node.tag} is not supported.")
        result: dict[str, Any] = {}
        for key_node, value_node in node.value:
            key = _construct(key_node, path)
            if not isinstance(key, str):
                raise seed_problem(where, "a key must be a string.")
            result[key] = _construct(value_node, f"{path}.{key}" if path else key)
        return result
    if isinstance(node, yaml.SequenceNode):
        if node.tag != "tag:yaml.org,2002:seq":
            raise seed_problem(where, f"the tag {node.tag} is not supported.")
        return [_construct(item, f"{path}[{i}]") for i, item in enumerate(node.value)]
    if node.tag not in _PLAIN_TAGS:
        raise seed_problem(
            where, "only strings, numbers, booleans and null are allowed (quote the value)."
        )
    try:
        return yaml.SafeLoader("").construct_object(node, deep=True)
    except (yaml.YAMLError, ValueError, OverflowError):
        raise seed_problem(where, "not a valid value.") from None


# Parsing: the schema ------------------------------------------------------------------


class _Parser:
    def __init__(self, lines: _Lines, base_dir: Path | None) -> None:
        self._lines = lines
        self._base_dir = base_dir
        # Ids defined so far, across the document: (kind, id) -> path.
        self._defined: dict[tuple[str, str], str] = {}

    def where(self, path: str, entry: Mapping[str, Any] | None = None) -> Where:
        fields = {}
        for key in entry or {}:
            line = self._lines.get(f"{path}.{key}")
            if line is not None:
                fields[key] = line
        return Where(path, self._lines.get(path), fields)

    def problem(self, path: str, message: str) -> InvalidFields:
        return seed_problem(self._nearest(path), message)

    def document(self, value: Any) -> SeedDocument:
        top = self.mapping(value, "document", {"version", "merchants"}, required={"merchants"})
        if "version" in top and (type(top["version"]) is not int or top["version"] != VERSION):
            raise self.problem("version", f"version must be {VERSION}.")
        merchants = self.items(top["merchants"], "merchants")
        if not merchants:
            raise self.problem("merchants", "list at least one merchant.")
        return SeedDocument(
            tuple(self.merchant(item, f"merchants[{i}]") for i, item in enumerate(merchants))
        )

    # Shapes

    def mapping(
        self,
        value: Any,
        path: str,
        allowed: set[str],
        required: set[str] | frozenset[str] = frozenset(),
    ) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise self.problem(path, "must be a mapping (key: value).")
        for key in value:
            if key not in allowed:
                known = ", ".join(sorted(allowed))
                raise self.problem(self.child(path, key), f"unknown field (known: {known}).")
        for key in sorted(required - set(value)):
            raise self.problem(path, f"{key} is required.")
        return value

    @staticmethod
    def child(path: str, key: str) -> str:
        return key if path == "document" else f"{path}.{key}"

    def items(self, value: Any, path: str) -> list[Any]:
        if not isinstance(value, list):
            raise self.problem(path, "must be a list.")
        if len(value) > MAX_ITEMS:
            raise self.problem(path, f"at most {MAX_ITEMS} entries.")
        return value

    def string(self, value: Any, path: str, limit: int = 256) -> str:
        if not isinstance(value, str) or not value:
            raise self.problem(path, "must be a non-empty string.")
        if len(value) > limit:
            raise self.problem(path, f"at most {limit} characters.")
        return value

    def boolean(self, value: Any, path: str) -> bool:
        if not isinstance(value, bool):
            raise self.problem(path, "must be true or false.")
        return value

    def define(self, kind: str, value: str, path: str) -> None:
        """``value`` is a ``kind`` id defined once in the whole document."""
        first = self._defined.get((kind, value.upper()))
        if first is not None:
            line = self._lines.get(first)
            at = f"{first} (line {line})" if line else first
            raise self.problem(path, f"{value} is defined twice (first at {at}).")
        self._defined[(kind, value.upper())] = path

    # Merchants

    def merchant(self, value: Any, path: str) -> SeedMerchant:
        entry = self.mapping(
            value,
            path,
            {
                "merchantId",
                "keyId",
                "sharedSecret",
                "jwtCertificate",
                "paymentCredentialsPublicKey",
                "defaultProfileId",
                "profiles",
                "instrumentIdentifiers",
                "paymentInstruments",
                "customers",
            },
            required={"merchantId", "keyId", "sharedSecret"},
        )
        merchant_id = self.string(entry["merchantId"], f"{path}.merchantId", 64)
        if not MERCHANT_ID.fullmatch(merchant_id):
            raise self.problem(
                f"{path}.merchantId", "a merchant id is 1 to 64 letters, digits, '_' or '-'."
            )
        self.define("merchant", merchant_id, f"{path}.merchantId")
        key_id = self.string(entry["keyId"], f"{path}.keyId", 128)
        if not _KEY_ID.fullmatch(key_id):
            raise self.problem(f"{path}.keyId", "a key id is 1 to 128 printable ASCII characters.")
        self.define("key", key_id, f"{path}.keyId")
        secret = self.string(entry["sharedSecret"], f"{path}.sharedSecret", 1024)
        try:
            decoded = base64.b64decode(secret, validate=True)
        except (binascii.Error, ValueError):
            raise self.problem(f"{path}.sharedSecret", "must be base64.") from None
        if len(decoded) < 32:
            raise self.problem(f"{path}.sharedSecret", "must decode to at least 32 bytes.")
        default_profile = None
        if "defaultProfileId" in entry:
            default_profile = self.profile_id(entry["defaultProfileId"], f"{path}.defaultProfileId")
        profiles = tuple(
            self.profile(item, f"{path}.profiles[{i}]")
            for i, item in enumerate(self.items(entry.get("profiles", []), f"{path}.profiles"))
        )
        scope = _MerchantScope(merchant_id, default_profile, {p.id: p for p in profiles})
        return SeedMerchant(
            merchant_id=merchant_id,
            key_id=key_id,
            shared_secret=secret,
            where=self.where(path, entry),
            jwt_certificate_pem=self.pem(entry, "jwtCertificate", path, b"CERTIFICATE"),
            credentials_public_key_pem=self.pem(
                entry, "paymentCredentialsPublicKey", path, b"PUBLIC KEY"
            ),
            default_profile_id=default_profile,
            profiles=profiles,
            instrument_identifiers=self.each(
                entry, "instrumentIdentifiers", path, lambda v, p: self.card_entry(v, p, scope)
            ),
            payment_instruments=self.each(
                entry,
                "paymentInstruments",
                path,
                lambda v, p: self.payment_instrument(v, p, scope),
            ),
            customers=self.each(entry, "customers", path, lambda v, p: self.customer(v, p, scope)),
        )

    def each(
        self,
        entry: Mapping[str, Any],
        key: str,
        path: str,
        parse: Callable[[Any, str], _T],
    ) -> tuple[_T, ...]:
        listed = self.items(entry.get(key, []), f"{path}.{key}")
        return tuple(parse(item, f"{path}.{key}[{i}]") for i, item in enumerate(listed))

    def pem(self, entry: Mapping[str, Any], key: str, path: str, label: bytes) -> bytes | None:
        """A PEM given inline, or the path of a file holding it."""
        if key not in entry:
            return None
        field = f"{path}.{key}"
        value = self.string(entry[key], field, 65_536)
        if "-----BEGIN" in value:
            pem = value.encode()
        elif self._base_dir is None:
            raise self.problem(
                field, "give the PEM inline: a document sent over HTTP cannot name files."
            )
        else:
            try:
                pem = (self._base_dir / value).read_bytes()
            except OSError as exc:
                raise self.problem(field, f"cannot read {value} ({exc.strerror}).") from None
        if b"-----BEGIN " + label not in pem and not (
            label == b"PUBLIC KEY" and b"-----BEGIN CERTIFICATE" in pem
        ):
            raise self.problem(field, f"must be a PEM {label.decode().lower()}.")
        return pem

    def profile_id(self, value: Any, path: str) -> str:
        text = self.string(value, path, 36)
        if not ids.is_profile_id(text):
            raise self.problem(path, "a profile id is a UUID (8-4-4-4-12 hexadecimal digits).")
        return text.upper()

    def profile(self, value: Any, path: str) -> SeedProfile:
        entry = self.mapping(
            value, path, {"profileId", "name", "networkTokens"}, required={"profileId"}
        )
        profile_id = self.profile_id(entry["profileId"], f"{path}.profileId")
        self.define("profile", profile_id, f"{path}.profileId")
        return SeedProfile(
            id=profile_id,
            name=self.string(entry.get("name", "profile"), f"{path}.name", 64),
            network_tokens=self.boolean(entry.get("networkTokens", True), f"{path}.networkTokens"),
            where=self.where(path, entry),
        )

    # The vault

    def token_id(self, entry: Mapping[str, Any], path: str, scope: _MerchantScope) -> str:
        """The entry's fixed ``id``, or one derived from its place in the file."""
        if "id" not in entry:
            return ids.derived_token_id(f"opentms seed\x00{scope.merchant_id}\x00{path}")
        value = self.string(entry["id"], f"{path}.id", 32)
        if not ids.is_token_id(value):
            raise self.problem(f"{path}.id", "an id is 32 upper-case hexadecimal characters.")
        self.define("token", value, f"{path}.id")
        return value

    def model(self, model: type[_M], body: dict[str, Any], path: str) -> _M:
        """``body`` validated by the API's wire model, no unknown field allowed."""
        try:
            parsed = model.model_validate(body)
        except ValidationError as exc:
            errors = exc.errors(include_url=False, include_input=False, include_context=False)
            first = errors[0]
            field = path + "".join(
                f"[{part}]" if isinstance(part, int) else f".{part}" for part in first["loc"]
            )
            more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
            message = str(first["msg"]).removeprefix("Value error, ")
            raise seed_problem(self._nearest(field), f"{message}{more}.") from None
        dumped = parsed.model_dump(mode="json", by_alias=True, exclude_unset=True)
        unknown = _unknown_field(body, dumped, path)
        if unknown is not None:
            raise self.problem(unknown, "unknown field.")
        return parsed

    def _nearest(self, field: str) -> Where:
        """``field`` with the line of itself or of its nearest enclosing field."""
        probe = field
        while probe not in self._lines:
            shorter = re.sub(r"(\.[^.\[]*|\[\d+\])$", "", probe)
            if shorter == probe:
                # A top-level field that is missing: the document's first line.
                return Where(field, 1 if self._lines else None)
            probe = shorter
        return Where(field, self._lines[probe])

    def card(
        self,
        pan_text: str | None,
        path: str,
        number_path: str,
        entry: Mapping[str, Any],
        scope: _MerchantScope,
        **fields: Any,
    ) -> SeedCard:
        if pan_text is None:
            raise self.problem(number_path, "a card number is required.")
        pan = self.pan(pan_text, number_path)
        token_state = None
        if "networkToken" in entry:
            token_state = self.token_state(entry["networkToken"], f"{path}.networkToken")
        profile_id = None
        if "profileId" in entry:
            profile_id = self.profile_id(entry["profileId"], f"{path}.profileId")
            if profile_id not in scope.profiles and profile_id != scope.default_profile_id:
                raise self.problem(
                    f"{path}.profileId", "list the profile under the merchant's profiles first."
                )
        if token_state is not None:
            self.check_token(pan, f"{path}.networkToken", scope, profile_id)
        card = SeedCard(
            pan=pan,
            where=self.where(path, entry),
            token_state=token_state,
            profile_id=profile_id,
            **fields,
        )
        self.check_repeat(card, scope)
        return card

    def check_repeat(self, card: SeedCard, scope: _MerchantScope) -> None:
        """A card listed again for one merchant is the same instrument
        identifier: it must not ask for another id, token state or profile."""
        first = scope.cards.setdefault(card.pan.reveal(), card)
        if first is card:
            return
        at = str(first.where)
        if card.id is not None and first.id is not None and card.id != first.id:
            raise seed_problem(card.where_id, f"this card has another id at {at}.")
        states = {state for state in (card.token_state, first.token_state) if state}
        if len(states) > 1:
            raise seed_problem(
                card.where.at("networkToken"),
                f"this card's network token has another state at {at}.",
            )
        if states and card.profile_id != first.profile_id:
            raise seed_problem(
                card.where.at("profileId"), f"this card is stored under another profile at {at}."
            )

    def pan(self, value: str, path: str) -> PAN:
        try:
            return PAN.parse(value, path)
        except InvalidRequest as exc:
            # The message names the field and the rule, never the digits.
            raise self.problem(path, exc.message.removeprefix(path).strip()) from None

    def token_state(self, value: Any, path: str) -> TokenState:
        entry = self.mapping(value, path, {"state"}, required={"state"})
        names = " or ".join(state.value for state in SEEDABLE_STATES)
        state = entry["state"]
        if not isinstance(state, str) or state.upper() not in {s.value for s in SEEDABLE_STATES}:
            raise self.problem(f"{path}.state", f"must be {names}.")
        return TokenState(state.upper())

    def check_token(
        self, pan: PAN, path: str, scope: _MerchantScope, profile_id: str | None
    ) -> None:
        """A state needs a token: a brand a network serves, a card the
        simulator does not refuse, and a profile that provisions tokens."""
        if TokenNetwork.for_brand(pan.brand) is None:
            raise self.problem(path, "no network serves this card's brand: it gets no token.")
        if pan.reveal() in MAGIC_FAILURES:
            reason = MAGIC_FAILURES[pan.reveal()].value
            raise self.problem(
                path, f"this magic card's network refuses a token ({reason}): it has no state."
            )
        profile = scope.profiles.get(profile_id or "")
        if profile is not None and not profile.network_tokens:
            raise self.problem(path, f"profile {profile.id} provisions no network tokens.")

    def card_entry(self, value: Any, path: str, scope: _MerchantScope) -> SeedCard:
        """An ``instrumentIdentifiers`` entry."""
        body, entry = self.split(value, path, {"id", "networkToken", "profileId"})
        model = self.model(InstrumentIdentifierCreate, body, path)
        if model.bank_account is not None:
            raise self.problem(f"{path}.bankAccount", "seed files take cards only.")
        ii_id = None
        if "id" in entry:
            ii_id = self.ii_id(entry["id"], f"{path}.id")
        number = model.card.number if model.card else None
        return self.card(
            number,
            path,
            f"{path}.card.number",
            entry,
            scope,
            expiry=expiry_of(model.card),
            attributes=stored(model, II_FIELDS),
            id=ii_id,
        )

    def ii_id(self, value: Any, path: str) -> str:
        text = self.string(value, path, 32)
        if not ids.is_instrument_identifier_id(text) or luhn_valid(text):
            raise self.problem(
                path,
                "an instrument identifier id is 12 to 32 digits that fail the Luhn check "
                "(an id must not look like a card number).",
            )
        self.define("instrument identifier", text, path)
        return text

    def split(
        self, value: Any, path: str, seed_keys: set[str]
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        """An entry's TMS body, and the whole entry (seed keys included)."""
        if not isinstance(value, dict):
            raise self.problem(path, "must be a mapping (key: value).")
        body = {k: v for k, v in value.items() if k not in seed_keys}
        return body, value

    def payment_instrument(
        self, value: Any, path: str, scope: _MerchantScope
    ) -> SeedPaymentInstrument:
        body, entry = self.split(value, path, {"id", "networkToken", "profileId"})
        pi_id = self.token_id(entry, path, scope)
        model = self.model(PaymentInstrumentCreate, body, path)
        if model.bank_account is not None:
            raise self.problem(f"{path}.bankAccount", "seed files take cards only.")
        inline = model.instrument_identifier
        try:
            ref = instrument_identifier_ref(inline, model.card)
        except InvalidRequest as exc:
            name = exc.details[0].name if exc.details else "instrumentIdentifier"
            message = exc.message.removeprefix(name).strip()
            raise self.problem(f"{path}.{name}", message) from None
        if ref is None:
            raise self.problem(
                f"{path}.instrumentIdentifier",
                "give instrumentIdentifier.card.number (or instrumentIdentifier.id).",
            )
        attributes, where, default = (
            stored(model, PI_FIELDS),
            self.where(path, entry),
            bool(model.default),
        )
        ii_path = f"{path}.instrumentIdentifier"
        if ref.instrument is None:
            if "networkToken" in entry or "profileId" in entry:
                raise self.problem(
                    f"{path}.networkToken",
                    "networkToken and profileId go with a card, not an instrumentIdentifier.id.",
                )
            assert ref.id is not None  # noqa: S101 - instrument_identifier_ref's promise
            return SeedPaymentInstrument(
                pi_id, attributes, where, instrument_identifier_id=ref.id, default=default
            )
        if not isinstance(ref.instrument, PAN):
            raise self.problem(f"{ii_path}.bankAccount", "seed files take cards only.")
        fixed = self.ii_id(ref.id, f"{ii_path}.id") if ref.id is not None else None
        card = self.card(
            ref.instrument.reveal(),
            path,
            f"{ii_path}.card.number",
            entry,
            scope,
            expiry=ref.expiry,
            attributes=ref.attributes or {},
            id=fixed,
            id_where=Where(f"{ii_path}.id", self._lines.get(f"{ii_path}.id")),
        )
        return SeedPaymentInstrument(pi_id, attributes, where, card=card, default=default)

    def customer(self, value: Any, path: str, scope: _MerchantScope) -> SeedCustomer:
        seed_keys = {"id", "shippingAddresses", "paymentInstruments"}
        body, entry = self.split(value, path, seed_keys)
        for relation in ("defaultPaymentInstrument", "defaultShippingAddress"):
            if relation in body:
                raise self.problem(
                    f"{path}.{relation}",
                    "mark the payment instrument or address default: true instead.",
                )
        customer_id = self.token_id(entry, path, scope)
        model = self.model(CustomerCreate, body, path)
        return SeedCustomer(
            id=customer_id,
            attributes=stored(model, CUSTOMER_FIELDS),
            where=self.where(path, entry),
            shipping_addresses=self.each(
                entry, "shippingAddresses", path, lambda v, p: self.address(v, p, scope)
            ),
            payment_instruments=self.each(
                entry,
                "paymentInstruments",
                path,
                lambda v, p: self.payment_instrument(v, p, scope),
            ),
        )

    def address(self, value: Any, path: str, scope: _MerchantScope) -> SeedShippingAddress:
        body, entry = self.split(value, path, {"id"})
        address_id = self.token_id(entry, path, scope)
        model = self.model(ShippingAddressCreate, body, path)
        return SeedShippingAddress(
            id=address_id,
            attributes=stored(model, frozenset({"ship_to"})),
            where=self.where(path, entry),
            default=bool(model.default),
        )


_T = TypeVar("_T")


class _MerchantScope:
    """What the entries of one merchant are checked against."""

    def __init__(
        self, merchant_id: str, default_profile_id: str | None, profiles: Mapping[str, SeedProfile]
    ) -> None:
        self.merchant_id = merchant_id
        self.default_profile_id = default_profile_id
        self.profiles = profiles
        # The first entry of each card number, to check the repeats against.
        self.cards: dict[str, SeedCard] = {}


def _unknown_field(data: Any, dumped: Any, path: str) -> str | None:
    """The first field path of ``data`` that validating it kept nothing of
    (a field the wire model does not know), compared without case."""
    if isinstance(data, dict) and isinstance(dumped, dict):
        known = {str(key).lower(): value for key, value in dumped.items()}
        for key, value in data.items():
            child = f"{path}.{key}"
            if key.lower() not in known:
                return child
            found = _unknown_field(value, known[key.lower()], child)
            if found is not None:
                return found
    elif isinstance(data, list) and isinstance(dumped, list):
        for index, (item, kept) in enumerate(zip(data, dumped, strict=False)):
            found = _unknown_field(item, kept, f"{path}[{index}]")
            if found is not None:
                return found
    return None


def seed_format_of(content_type: str | None) -> SeedFormat | None:
    """The format a request's Content-Type names, None for any other."""
    media = (content_type or "").split(";", 1)[0].strip().lower()
    if media in ("application/json", ""):
        return "json"
    if media in ("application/yaml", "application/x-yaml", "text/yaml", "text/x-yaml"):
        return "yaml"
    return None


__all__: Sequence[str] = ["load_seed_file", "parse_seed", "seed_format_of"]
