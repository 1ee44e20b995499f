"""Request authentication as CyberSource does it: HTTP Signature (HmacSHA256)
and JWT (RS256 by registered certificate, HS256 by shared secret).

A failure raises :class:`AuthenticationFailed` naming the check that failed,
so that an integrator can fix the setup; no secret is ever echoed.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from functools import partial
from typing import Any

from opentms.crypto import jws
from opentms.crypto.signing import InvalidSignature, body_digest, verify_hmac_signature
from opentms.domain.errors import AuthenticationFailed
from opentms.domain.ports import Clock, CredentialDirectory, ReplayGuard

_SIGNATURE_PARAM = re.compile(r'\s*([A-Za-z]+)\s*=\s*"([^"]*)"\s*(?:,|$)')
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})
_REQUIRED_SIGNED = ("host", "date", "request-target", "v-c-merchant-id")


@dataclass(frozen=True)
class SignedRequest:
    """What authentication looks at. ``headers`` has lower-case names;
    ``target`` is the raw path plus ``?query`` exactly as received."""

    method: str
    target: str
    headers: Mapping[str, str]
    body: bytes


@dataclass(frozen=True)
class Principal:
    """Who signed a request, and what the signature asked of the response."""

    merchant_id: str
    response_mle_kid: str | None = None
    # The credential that signed: HTTP Signature keyid, JWT kid, or "x5c" for
    # a legacy JWT that names its certificate (the audit log's actor).
    key_id: str | None = None


def _fail(reason: str, message: str, signed: str | None = None) -> AuthenticationFailed:
    return AuthenticationFailed(reason, message, signed)


class Authenticator:
    def __init__(
        self,
        directory: CredentialDirectory,
        clock: Clock,
        skew_seconds: int,
        replay_guard: ReplayGuard | None = None,
    ) -> None:
        self._directory = directory
        self._clock = clock
        self._skew = skew_seconds
        self._replay_guard = replay_guard

    def authenticate(self, request: SignedRequest) -> Principal:
        """The merchant that signed ``request``."""
        authorization = request.headers.get("authorization")
        if authorization is not None:
            scheme, _, token = authorization.partition(" ")
            if scheme.lower() != "bearer" or not token.strip():
                raise _fail(
                    "malformed_authorization",
                    "The Authorization header must be 'Bearer <JWT>'.",
                )
            # Not stripped: the token is taken exactly as sent, or refused.
            return self._jwt(request, token)
        if "signature" in request.headers:
            merchant_id = self._http_signature(request)
            key_id = _parse_signature(request.headers["signature"])["keyid"]
            return Principal(merchant_id, key_id=key_id)
        raise _fail(
            "missing_credentials",
            "Send a Signature header (HTTP Signature) or Authorization: Bearer <JWT>.",
        )

    # HTTP Signature ---------------------------------------------------------

    def _http_signature(self, request: SignedRequest) -> str:
        params = _parse_signature(request.headers["signature"])
        if params.get("algorithm") != "HmacSHA256":
            raise _fail(
                "unsupported_algorithm",
                "The Signature algorithm must be HmacSHA256.",
            )
        key_id = params["keyid"]
        signed = params["headers"].lower().split()
        # The retired parenthesised spelling names the same pseudo-header.
        covered = {"request-target" if n == "(request-target)" else n for n in signed}
        required = list(_REQUIRED_SIGNED)
        if request.method in _BODY_METHODS:
            required.append("digest")
        unsigned = [name for name in required if name not in covered]
        if unsigned:
            raise _fail(
                "unsigned_header",
                "The signature must cover these headers: " + ", ".join(unsigned) + ".",
            )
        found = self._directory.shared_secret(key_id)
        if found is None:
            raise _fail(
                "unknown_key_id",
                f"No shared secret is registered under keyid {key_id!r}.",
            )
        merchant_id, secret = found
        claimed_merchant = request.headers.get("v-c-merchant-id")
        if claimed_merchant != merchant_id:
            raise _fail(
                "merchant_mismatch",
                f"The v-c-merchant-id header does not name the merchant that owns "
                f"keyid {key_id!r}.",
            )
        self._check_date(request.headers.get("date"))
        if "digest" in covered:
            self._check_digest_header(request, signed)
        signing_string = _signing_string(request, signed)
        try:
            verify_hmac_signature(secret, signing_string, params["signature"])
        except InvalidSignature:
            raise _fail(
                "bad_signature",
                "The HTTP signature does not match. The server signed this string "
                "with the shared secret (base64-decoded) of keyid "
                f"{key_id!r}:\n{signing_string}",
                signing_string,
            ) from None
        return merchant_id

    def _check_date(self, value: str | None) -> None:
        if value is None:
            raise _fail("missing_header", "The Date header is required.")
        try:
            sent = parsedate_to_datetime(value)
        except (TypeError, ValueError, OverflowError):
            sent = None
        if sent is None or sent.tzinfo is None:
            raise _fail(
                "invalid_date",
                "The Date header must be an RFC 7231 date in GMT, e.g. "
                "'Tue, 24 Nov 2026 12:00:00 GMT'.",
            )
        self._check_time(sent.timestamp(), "Date header")

    def _check_time(self, sent: float, what: str) -> None:
        drift = self._clock.now().timestamp() - sent
        if abs(drift) > self._skew:
            raise _fail(
                "stale_date",
                f"The {what} is {abs(drift):.0f} s {'behind' if drift > 0 else 'ahead of'} "
                f"the server's clock; at most {self._skew} s is accepted.",
            )

    def _check_digest_header(self, request: SignedRequest, signed: list[str]) -> None:
        digest = request.headers.get("digest", "")
        algorithm, _, value = digest.partition("=")
        if algorithm.upper() != "SHA-256" or not value:
            raise _fail(
                "missing_digest",
                "The Digest header must be 'SHA-256=<base64 SHA-256 of the body>'.",
            )
        if value != body_digest(request.body):
            try:
                signing_string: str | None = _signing_string(request, signed)
            except AuthenticationFailed:
                signing_string = None
            raise _fail(
                "digest_mismatch",
                "The Digest header does not match the body received "
                f"({len(request.body)} bytes). Compute it over the exact bytes sent.",
                signing_string,
            )

    # JWT ---------------------------------------------------------------------

    def _jwt(self, request: SignedRequest, raw_token: str) -> Principal:
        # One parse: the header, the claims and the signed bytes all come from
        # this object, and nothing else of the token is read afterwards.
        try:
            token = jws.parse_compact(raw_token)
        except jws.MalformedToken:
            raise _fail(
                "malformed_token",
                "The bearer token is not a compact JWS: three base64url segments "
                "(no padding) of a JSON header, JSON claims and the signature.",
            ) from None
        try:
            return self._verify_jwt(request, token)
        except AuthenticationFailed as failed:
            failed.signed = _what_was_checked(token)
            raise

    def _verify_jwt(self, request: SignedRequest, token: jws.CompactJWS) -> Principal:
        header = token.header
        algorithm = header.get("alg")
        kid = header.get("kid")
        legacy = False
        if algorithm == "RS256" and isinstance(kid, str):
            found = self._directory.jwt_certificate(kid)
            if found is None:
                raise _fail(
                    "unknown_key_id",
                    f"No certificate is registered under JWT kid {kid!r}.",
                )
            merchant_id, certificate = found
            verify: Callable[[], None] = partial(jws.verify_rs256, token, certificate)
        elif algorithm == "RS256" and kid is None and isinstance(header.get("x5c"), list):
            legacy = True
            merchant_id, certificate = self._legacy_certificate(header)
            verify = partial(jws.verify_rs256, token, certificate)
        elif algorithm == "HS256" and isinstance(kid, str):
            found_secret = self._directory.shared_secret(kid)
            if found_secret is None:
                raise _fail(
                    "unknown_key_id",
                    f"No shared secret is registered under JWT kid {kid!r}.",
                )
            merchant_id, secret = found_secret
            verify = partial(jws.verify_hs256, token, secret)
        else:
            raise _fail(
                "unsupported_algorithm",
                "The JWT must be RS256 with a kid (or a legacy x5c) or HS256 with a kid.",
            )
        try:
            verify()
        except InvalidSignature:
            raise _fail(
                "bad_signature",
                "The JWT signature does not verify with the key registered for it.",
            ) from None
        claims = token.claims
        self._check_claims(request, claims, merchant_id, legacy, header)
        self._check_unused(token)
        response_kid = claims.get("v-c-response-mle-kid")
        return Principal(
            merchant_id,
            response_kid if isinstance(response_kid, str) and response_kid else None,
            key_id=kid if isinstance(kid, str) else "x5c",
        )

    def _check_unused(self, token: jws.CompactJWS) -> None:
        """A JWT is accepted once: the SDKs make a new one (new jti, new iat)
        for every request, so a second use is a replay. What is remembered is
        the signed part (header and claims), which has one spelling (base64url
        is read only in its canonical form). It is remembered for as
        long as the token's iat can pass the time check (twice the skew)."""
        if self._replay_guard is None:
            return
        now = self._clock.now().timestamp()
        expires_at = datetime.fromtimestamp(now + 2 * self._skew + 120, UTC)
        digest = hashlib.sha256(token.signing_input).digest()
        if not self._replay_guard.first_use(digest, expires_at):
            raise _fail(
                "replayed_token",
                "This JWT was already used; sign a new one for every request.",
            )

    def _legacy_certificate(self, header: Mapping[str, Any]) -> tuple[str, bytes]:
        merchant_id = header.get("v-c-merchant-id")
        x5c = header["x5c"]
        if not isinstance(merchant_id, str) or not x5c or not isinstance(x5c[0], str):
            raise _fail(
                "malformed_token",
                "A JWT without kid must carry v-c-merchant-id and x5c in its header.",
            )
        for certificate in self._directory.jwt_certificates_of(merchant_id):
            if jws.certificate_der_matches(certificate, x5c[0]):
                return merchant_id, certificate
        raise _fail(
            "unknown_certificate",
            "The x5c certificate is not registered for this merchant.",
        )

    def _check_claims(
        self,
        request: SignedRequest,
        claims: Mapping[str, Any],
        merchant_id: str,
        legacy: bool,
        header: Mapping[str, Any],
    ) -> None:
        claimed = header.get("v-c-merchant-id") if legacy else claims.get("v-c-merchant-id")
        if claimed != merchant_id:
            raise _fail(
                "merchant_mismatch",
                "The JWT's v-c-merchant-id does not name the merchant that owns its key.",
            )
        header_merchant = request.headers.get("v-c-merchant-id")
        if header_merchant is not None and header_merchant != merchant_id:
            raise _fail(
                "merchant_mismatch",
                "The v-c-merchant-id header does not match the JWT's merchant.",
            )
        self._check_issued_at(claims.get("iat"))
        expires = claims.get("exp")
        if expires is not None:
            if not isinstance(expires, int | float) or isinstance(expires, bool):
                raise _fail("malformed_token", "The JWT exp claim must be a number.")
            try:
                late = self._clock.now().timestamp() - float(expires)
            except OverflowError:
                late = math.nan
            if not math.isfinite(late):
                raise _fail("malformed_token", "The JWT exp claim is out of range.")
            if late > self._skew:
                raise _fail("expired_token", f"The JWT expired {late:.0f} s ago.")
        if not legacy:
            self._check_binding(request, claims)
        if request.method in _BODY_METHODS or request.body:
            self._check_digest_claim(request, claims)

    def _check_issued_at(self, iat: Any) -> None:
        if isinstance(iat, int | float) and not isinstance(iat, bool):
            try:
                issued_at = float(iat)
            except OverflowError:
                issued_at = math.nan
            if not math.isfinite(issued_at):
                raise _fail("malformed_token", "The JWT iat claim is out of range.")
            self._check_time(issued_at, "JWT iat")
            return
        if isinstance(iat, str):
            try:
                issued: datetime | None = parsedate_to_datetime(iat)
            except (TypeError, ValueError, OverflowError):
                issued = None
            if issued is not None and issued.tzinfo is not None:
                self._check_time(issued.timestamp(), "JWT iat")
                return
        raise _fail("malformed_token", "The JWT needs an iat claim (epoch seconds).")

    @staticmethod
    def _check_binding(request: SignedRequest, claims: Mapping[str, Any]) -> None:
        method = claims.get("request-method")
        if not isinstance(method, str) or method.upper() != request.method:
            raise _fail(
                "method_mismatch",
                f"The JWT request-method claim does not match {request.method}.",
            )
        # The path and the query exactly as sent, as the official SDKs put them
        # in the claim (Python 0.0.76 and later, Node): a token for a path with
        # no query does not authorise the same path with one.
        path = claims.get("request-resource-path")
        if path != request.target:
            raise _fail(
                "path_mismatch",
                "The JWT request-resource-path claim must be the request's path and "
                f"query exactly as sent: {request.target}",
            )

    @staticmethod
    def _check_digest_claim(request: SignedRequest, claims: Mapping[str, Any]) -> None:
        algorithm = claims.get("digestAlgorithm", claims.get("digest-algorithm", "SHA-256"))
        digest = claims.get("digest")
        if not isinstance(digest, str) or algorithm != "SHA-256":
            raise _fail(
                "missing_digest",
                "A JWT for a request with a body needs digest (base64 SHA-256 of the "
                "body) and digestAlgorithm SHA-256 claims.",
            )
        if digest != body_digest(request.body):
            raise _fail(
                "digest_mismatch",
                "The JWT digest claim does not match the body received "
                f"({len(request.body)} bytes). Compute it over the exact bytes sent.",
            )


def _signing_string(request: SignedRequest, signed: list[str]) -> str:
    """The HTTP Signature signing string of the headers named in ``signed``."""
    lines = []
    for name in signed:
        if name in ("request-target", "(request-target)"):
            lines.append(f"{name}: {request.method.lower()} {request.target}")
            continue
        value = request.headers.get(name)
        if value is None:
            raise _fail(
                "missing_header",
                f"The signature covers the {name!r} header, which was not sent.",
            )
        lines.append(f"{name}: {value}")
    return "\n".join(lines)


def _what_was_checked(token: jws.CompactJWS) -> str:
    """A JWT's header and claims as the server read them (what its signature
    covers, decoded), for a refused token's journal entry."""
    header = json.dumps(token.header, sort_keys=True, default=str)
    claims = json.dumps(token.claims, sort_keys=True, default=str)
    return f"header: {header}\nclaims: {claims}"


def _parse_signature(value: str) -> dict[str, str]:
    """The parameters of a Signature header, read strictly: the whole value is
    ``name="value"`` pairs separated by commas, each name once (a repeated
    ``keyid`` or ``signature`` would leave which one counts to the parser)."""
    params: dict[str, str] = {}
    position = 0
    while position < len(value):
        match = _SIGNATURE_PARAM.match(value, position)
        if match is None or match.end() == position:
            params = {}
            break
        name = match.group(1).lower()
        if name in params:
            raise _fail(
                "malformed_signature",
                f"The Signature header names {name} more than once.",
            )
        params[name] = match.group(2)
        position = match.end()
    missing = [
        name for name in ("keyid", "algorithm", "headers", "signature") if name not in params
    ]
    if missing:
        raise _fail(
            "malformed_signature",
            'The Signature header must be keyid="...", algorithm="HmacSHA256", '
            'headers="...", signature="..."; missing: ' + ", ".join(missing) + ".",
        )
    return params
