"""What the Python-SDK driver's scenario modules share: the report of named
checks, request-body helpers in the official samples' style, the SDK
configuration built from a credentials bundle, a wire tap on an SDK client and
a hand-signed request for the opentms-only authorisation simulator.

Runs in the SDK's virtualenv (see ``python_sdk_driver.py``): standard library,
the SDK and its dependencies (``jwcrypto``, ``cryptography``) only.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import traceback
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from email.utils import formatdate
from pathlib import Path
from typing import Any

from CyberSource import (  # type: ignore[import-not-found]
    DefaultPaymentInstrumentBillTo,
    DefaultPaymentInstrumentCard,
    DefaultPaymentInstrumentInstrumentIdentifier,
    DefaultShippingAddressShipTo,
    PostCustomerRequest,
    PostCustomerShippingAddressRequest,
    PostInstrumentIdentifierRequest,
    PostPaymentInstrumentRequest,
    TmsEmbeddedInstrumentIdentifierCard,
    Tmsv2tokenizeTokenInformationCustomerBuyerInformation,
    Tmsv2tokenizeTokenInformationCustomerClientReferenceInformation,
    Tmsv2tokenizeTokenInformationCustomerMerchantDefinedInformation,
)
from CyberSource.rest import ApiException  # type: ignore[import-not-found]

MODES = ("http_signature", "jwt_p12", "jwt_shared_secret")
GONE = (404, 410)
DRIVER_FILES = frozenset(
    str(Path(__file__).with_name(name))
    for name in (
        "python_sdk_driver.py",
        "python_sdk_support.py",
        "python_sdk_network.py",
        "python_sdk_encryption.py",
    )
)


# -- the report ---------------------------------------------------------------


@dataclass
class Check:
    name: str
    passed: bool
    detail: str


@dataclass
class Report:
    mode: str
    completed: bool = False
    checks: list[Check] = field(default_factory=list)

    def check(self, name: str, passed: object, detail: object = "") -> bool:
        ok = bool(passed)
        self.checks.append(Check(name, ok, str(detail)[:2000]))
        return ok

    def equal(self, name: str, actual: object, expected: object) -> bool:
        return self.check(name, actual == expected, f"expected {expected!r}, got {actual!r}")

    def error(self, name: str, exc: Any, statuses: tuple[int, ...], error_type: str = "") -> bool:
        """``exc`` is an ApiException with one of ``statuses`` (and TMS ``error_type``)."""
        wanted = f"HTTP {'/'.join(map(str, statuses))}" + (f" {error_type}" if error_type else "")
        if exc is None:
            return self.check(name, False, f"expected {wanted}, the call succeeded")
        found_type = error_type_of(exc)
        ok = exc.status in statuses and (not error_type or found_type == error_type)
        detail = f"expected {wanted}, got HTTP {exc.status} {found_type!r}"
        if not ok:
            detail += f"; body {str(exc.body)[:500]}"
        return self.check(name, ok, detail)

    @contextmanager
    def step(self, name: str) -> Iterator[None]:
        """Run a group of calls; an unexpected exception becomes one failed
        check named after the group, and the driver goes on after it."""
        try:
            yield
        except Exception as exc:
            frames = [
                f for f in traceback.extract_tb(exc.__traceback__) if f.filename in DRIVER_FILES
            ]
            where = ""
            if frames:
                last = frames[-1]
                where = f" ({Path(last.filename).name} line {last.lineno}: {last.line})"
            self.check(f"{name}: no unexpected error", False, describe(exc) + where)


def error_type_of(exc: Any) -> str | None:
    try:
        return str(json.loads(exc.body)["errors"][0]["type"])
    except Exception:
        return None


def describe(exc: BaseException) -> str:
    if isinstance(exc, ApiException):
        return f"ApiException HTTP {exc.status} {exc.reason}: {str(exc.body)[:500]}"
    return f"{type(exc).__name__}: {exc}"


def failure(call: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """The ApiException ``call`` raises, or None when it succeeds."""
    try:
        call(*args, **kwargs)
    except ApiException as exc:
        return exc
    return None


def etag_of(headers: Any) -> str | None:
    value = headers.get("ETag") if headers is not None else None
    return str(value) if value is not None else None


def json_at(data: Any, *keys: str) -> Any:
    """``data[k1][k2]...`` of decoded JSON, or None as soon as a key is missing."""
    for key in keys:
        if not isinstance(data, dict):
            return None
        data = data.get(key)
    return data


def attr(obj: Any, path: str) -> Any:
    """``obj.a.b.c`` for ``path`` "a.b.c", or None as soon as a link is missing."""
    for name in path.split("."):
        obj = getattr(obj, name, None)
        if obj is None:
            return None
    return obj


# -- request bodies, as the official samples build them -----------------------


def make_pan(prefix: str = "411111", length: int = 16) -> str:
    """A random, Luhn-valid card number: fresh per run, so creates are new."""
    body = prefix + "".join(str(secrets.randbelow(10)) for _ in range(length - len(prefix) - 1))
    return with_check_digit(body)


def with_check_digit(body: str) -> str:
    """``body`` and its Luhn check digit."""
    total = 0
    for i, digit in enumerate(reversed(body)):
        n = int(digit) * (2 if i % 2 == 0 else 1)
        total += n - 9 if n > 9 else n
    return body + str((10 - total % 10) % 10)


def masked(pan: str) -> str:
    return pan[:6] + "X" * (len(pan) - 10) + pan[-4:]


def del_none(d: dict[str, Any]) -> dict[str, Any]:
    """The official samples' helper: drop None values before ``json.dumps``."""
    for key, value in list(d.items()):
        if value is None:
            del d[key]
        elif isinstance(value, dict):
            del_none(value)
    return d


def sample_body(model: Any) -> str:
    return json.dumps(del_none(model.__dict__))


def ii_body(pan: str) -> str:
    card = TmsEmbeddedInstrumentIdentifierCard(
        number=pan, expiration_month="12", expiration_year="2031"
    )
    return sample_body(PostInstrumentIdentifierRequest(card=card.__dict__))


def pi_body(ii_id: str, request_model: Any = PostPaymentInstrumentRequest) -> str:
    """A payment instrument of the card stored as instrument identifier ``ii_id``."""
    card = DefaultPaymentInstrumentCard(expiration_month="12", expiration_year="2031", type="001")
    bill_to = DefaultPaymentInstrumentBillTo(
        first_name="John",
        last_name="Doe",
        company="CyberSource",
        address1="1 Market St",
        locality="San Francisco",
        administrative_area="CA",
        postal_code="94105",
        country="US",
        email="test@example.com",
        phone_number="4158880000",
    )
    ii = DefaultPaymentInstrumentInstrumentIdentifier(id=ii_id)
    return sample_body(
        request_model(
            card=card.__dict__, bill_to=bill_to.__dict__, instrument_identifier=ii.__dict__
        )
    )


def customer_body(merchant_customer_id: str) -> str:
    """As the create-customer sample: the SDK's ``process_body`` turns the
    model's ``merchant_customer_id`` into ``merchantCustomerId`` on the wire."""
    buyer = Tmsv2tokenizeTokenInformationCustomerBuyerInformation(
        merchant_customer_id=merchant_customer_id, email="test@example.com"
    )
    reference = Tmsv2tokenizeTokenInformationCustomerClientReferenceInformation(code="TC50171_3")
    mdd = Tmsv2tokenizeTokenInformationCustomerMerchantDefinedInformation(
        name="data1", value="Your customer data"
    )
    return sample_body(
        PostCustomerRequest(
            buyer_information=buyer.__dict__,
            client_reference_information=reference.__dict__,
            merchant_defined_information=[mdd.__dict__],
        )
    )


def address_body(address1: str, default: bool | None = None) -> str:
    ship_to = DefaultShippingAddressShipTo(
        first_name="John",
        last_name="Doe",
        address1=address1,
        locality="San Francisco",
        administrative_area="CA",
        postal_code="94105",
        country="US",
        email="test@example.com",
    )
    request = PostCustomerShippingAddressRequest(default=default, ship_to=ship_to.__dict__)
    return sample_body(request)


def jose_header(compact: object) -> dict[str, Any]:
    """The protected header of a compact JWS or JWE (``{}`` if it is not one)."""
    try:
        first = str(compact).split(".", 1)[0]
        decoded = json.loads(base64.urlsafe_b64decode(first + "=" * (-len(first) % 4)))
    except Exception:
        return {}
    return decoded if isinstance(decoded, dict) else {}


def is_compact_jwe(value: object) -> bool:
    return isinstance(value, str) and value.count(".") == 4 and "enc" in jose_header(value)


# -- the SDK configuration ----------------------------------------------------


@dataclass(frozen=True)
class Merchant:
    """A merchant's SDK configuration and the bundle it was built from."""

    merchant_id: str
    default_profile_id: str
    config: dict[str, Any]
    bundle: Mapping[str, Any]
    bundle_dir: Path
    url: str

    def api(self, cls: Any) -> Any:
        return cls(self.config)

    def with_config(self, extra: Mapping[str, Any]) -> Merchant:
        return replace(self, config={**self.config, **extra})

    def bundle_path(self, section: str, key: str) -> Path:
        return self.bundle_dir / str(self.bundle[section][key])


def merchant_config(mode: str, bundle: Mapping[str, Any], bundle_dir: Path, url: str) -> Merchant:
    """The config dict of sdk-wire-captures.md §2 for the bundle written by
    ``opentms merchants create``."""
    merchant_id = str(bundle["merchantId"])
    config: dict[str, Any] = {
        "merchantid": merchant_id,
        "run_environment": url.split("://", 1)[1].rstrip("/"),
        "IntermediateHost": url.rstrip("/"),
    }
    secret = {
        "merchant_keyid": bundle["httpSignature"]["keyId"],
        "merchant_secretkey": bundle["httpSignature"]["sharedSecret"],
    }
    if mode == "http_signature":
        config |= {"authentication_type": "http_signature", **secret}
    elif mode == "jwt_p12":
        jwt = bundle["jwt"]
        config |= {
            "authentication_type": "jwt",
            "keys_directory": str(bundle_dir),
            "key_file_name": str(jwt["p12File"]).removesuffix(".p12"),
            "key_alias": jwt["keyAlias"],
            "key_password": jwt["p12Password"],
        }
    elif mode == "jwt_shared_secret":
        config |= {"authentication_type": "jwt", "jwt_key_type": "SHARED_SECRET", **secret}
    else:
        raise SystemExit(f"unknown mode {mode!r}; expected one of {MODES}")
    profile = str(bundle["defaultProfileId"])
    return Merchant(merchant_id, profile, config, bundle, bundle_dir, url.rstrip("/"))


# -- what went over the wire --------------------------------------------------


@dataclass
class Exchange:
    """One request an SDK client sent and the raw body it got back (before the
    SDK's response-MLE decryption)."""

    headers: dict[str, str]
    body: Any
    response: str | None = None


class WireTap:
    """Records every exchange of one SDK API object, by wrapping its
    ``ApiClient.request`` (observation only: arguments and results pass through)."""

    def __init__(self, api: Any) -> None:
        self.exchanges: list[Exchange] = []
        client = api.api_client
        send = client.request

        def request(method: str, url: str, **kwargs: Any) -> Any:
            exchange = Exchange(dict(kwargs.get("headers") or {}), kwargs.get("body"))
            self.exchanges.append(exchange)
            try:
                response = send(method, url, **kwargs)
            except ApiException as exc:
                exchange.response = _text(exc.body)
                raise
            exchange.response = _text(response.data)
            return response

        client.request = request

    @property
    def last(self) -> Exchange | None:
        return self.exchanges[-1] if self.exchanges else None


def _text(data: object) -> str | None:
    if isinstance(data, bytes):
        return data.decode(errors="replace")
    return None if data is None else str(data)


def json_object(text: object) -> dict[str, Any]:
    """``text`` (a str, or a dict the SDK serialised from) as a JSON object, or ``{}``."""
    if isinstance(text, dict):
        return text
    try:
        value = json.loads(str(text))
    except (TypeError, ValueError):
        return {}
    return value if isinstance(value, dict) else {}


def jwt_claims(headers: Mapping[str, str]) -> dict[str, Any]:
    """The claims of the ``Authorization: Bearer`` JWT the SDK sent (``{}`` if none)."""
    bearer = headers.get("Authorization", "").removeprefix("Bearer ")
    try:
        payload = bearer.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (IndexError, ValueError):
        return {}
    return claims if isinstance(claims, dict) else {}


# -- the authorisation simulator (not part of the SDK) ------------------------


def post_signed(m: Merchant, path: str, body: Mapping[str, Any]) -> tuple[int, dict[str, Any]]:
    """POST ``body`` to an opentms-only path, signed by hand with the bundle's
    HTTP Signature key exactly as the SDK signs (tms-api §6.3)."""
    data = json.dumps(body).encode()
    host = m.url.split("://", 1)[1]
    date = formatdate(usegmt=True)
    digest = "SHA-256=" + base64.b64encode(hashlib.sha256(data).digest()).decode()
    signing = "\n".join(
        [
            f"host: {host}",
            f"date: {date}",
            f"request-target: post {path}",
            f"digest: {digest}",
            f"v-c-merchant-id: {m.merchant_id}",
        ]
    )
    secret = base64.b64decode(m.bundle["httpSignature"]["sharedSecret"])
    mac = base64.b64encode(hmac.new(secret, signing.encode(), hashlib.sha256).digest()).decode()
    key_id = m.bundle["httpSignature"]["keyId"]
    headers = {
        "Content-Type": "application/json",
        "Host": host,
        "Date": date,
        "Digest": digest,
        "v-c-merchant-id": m.merchant_id,
        "Signature": f'keyid="{key_id}", algorithm="HmacSHA256", '
        f'headers="host date request-target digest v-c-merchant-id", signature="{mac}"',
    }
    # The URL is the test server's, given on the command line: no user input.
    request = urllib.request.Request(m.url + path, data, headers, method="POST")  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            return int(response.status), json_object(response.read().decode())
    except urllib.error.HTTPError as exc:
        return int(exc.code), json_object(exc.read().decode(errors="replace"))
