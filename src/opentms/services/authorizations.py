"""The authorisation simulator: what the card network and the issuer check
when a merchant presents a network token with its cryptogram or code.

A network token is domain-restricted: it is valid only with the merchant it
was provisioned for, whatever the credential. A cryptogram is a 64-bit MAC
bound to its ATC, amount, merchant and transaction type; a dynamic security
code is only 3 (Visa DTVV) or 4 (Amex DCSC) digits bound to the token and its
ATC, so what bounds guessing is the policy here (:class:`CodePolicy`): few
candidate codes, each valid for a short time, and a lock-out after a few
wrong ones (docs/simulators.md).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from opentms.crypto import cryptograms
from opentms.crypto.cryptograms import InvalidCryptogram, TransactionData, TransactionType
from opentms.domain.network_token import (
    CredentialKind,
    NetworkView,
    TokenNetwork,
    TokenState,
    TokenTransaction,
    token_expired,
)
from opentms.domain.ports import Clock, NetworkUnitOfWork


@dataclass(frozen=True)
class CodePolicy:
    """How the network bounds the guessing of dynamic security codes.

    With ``recent_codes`` candidates and ``max_failures`` tries before the
    lock-out, a guesser's chance per issued credential is at most
    ``recent_codes * max_failures`` in 1,000 for a 3-digit DTVV (1.5 %) and in
    10,000 for a 4-digit DCSC (0.15 %), where the finding of issue 9 had 10
    candidates and no limit (a DTVV fell after about 50 tries).
    """

    #: Only the most recent codes of a token are candidates (newest first).
    recent_codes: int = 3
    #: A code is accepted for this long after it was issued.
    validity: timedelta = timedelta(minutes=15)
    #: Wrong codes on one token before its codes are declined
    #: (TOO_MANY_ATTEMPTS) until new payment credentials are issued for it.
    max_failures: int = 5


class Verdict(StrEnum):
    APPROVED = "APPROVED"
    DECLINED = "DECLINED"


class DeclineReason(StrEnum):
    UNKNOWN_TOKEN = "UNKNOWN_TOKEN"
    INVALID_EXPIRY = "INVALID_EXPIRY"
    TOKEN_EXPIRED = "TOKEN_EXPIRED"
    TOKEN_SUSPENDED = "TOKEN_SUSPENDED"
    TOKEN_DELETED = "TOKEN_DELETED"
    INVALID_CRYPTOGRAM = "INVALID_CRYPTOGRAM"
    INVALID_SECURITY_CODE = "INVALID_SECURITY_CODE"
    AMOUNT_MISMATCH = "AMOUNT_MISMATCH"
    MERCHANT_MISMATCH = "MERCHANT_MISMATCH"
    TRANSACTION_TYPE_MISMATCH = "TRANSACTION_TYPE_MISMATCH"
    ECI_MISMATCH = "ECI_MISMATCH"
    REPLAYED_CRYPTOGRAM = "REPLAYED_CRYPTOGRAM"
    MISSING_CREDENTIAL = "MISSING_CREDENTIAL"
    SECURITY_CODE_EXPIRED = "SECURITY_CODE_EXPIRED"
    TOO_MANY_ATTEMPTS = "TOO_MANY_ATTEMPTS"


@dataclass(frozen=True)
class Authorization:
    merchant_id: str  # the merchant presenting the token (who signed the request)
    token_number: str
    expiration_month: str
    expiration_year: str
    cryptogram: str | None
    security_code: str | None
    eci: str | None
    data: TransactionData
    # Sandbox only (X-Opentms-Outcome: authorization=REASON): declined with
    # this reason, nothing checked and nothing recorded.
    forced_decline: DeclineReason | None = None


@dataclass(frozen=True)
class Decision:
    verdict: Verdict
    reason: DeclineReason | None = None
    network: TokenNetwork | None = None
    atc: int | None = None


def _declined(
    reason: DeclineReason, view: NetworkView | None = None, atc: int | None = None
) -> Decision:
    return Decision(Verdict.DECLINED, reason, view.network if view else None, atc)


class AuthorizationSimulator:
    def __init__(
        self,
        uow: Callable[[], NetworkUnitOfWork],
        clock: Clock,
        policy: CodePolicy | None = None,
    ) -> None:
        self._uow = uow
        self._clock = clock
        self._policy = policy or CodePolicy()

    def authorize(self, request: Authorization) -> Decision:
        now = self._clock.now()
        with self._uow() as uow:
            # The token's row stays locked until this unit of work ends, so the
            # failures of concurrent authorisations are counted one by one.
            view = uow.directory.find_by_number(request.token_number)
            if request.forced_decline is not None:
                own = view is not None and view.merchant_id == request.merchant_id
                return _declined(request.forced_decline, view if own else None)
            if view is None or view.master_key is None:
                return _declined(DeclineReason.UNKNOWN_TOKEN)
            # Security: domain restriction first, so another merchant learns
            # nothing of the token's expiry, state or credentials, and its
            # tries neither use up nor lock out the owner's codes.
            if request.merchant_id != view.merchant_id:
                return _declined(DeclineReason.MERCHANT_MISMATCH, view)
            if (request.expiration_month.zfill(2), request.expiration_year) != (
                view.expiration_month,
                view.expiration_year,
            ):
                return _declined(DeclineReason.INVALID_EXPIRY, view)
            if token_expired(view.expiration_month, view.expiration_year, now):
                return _declined(DeclineReason.TOKEN_EXPIRED, view)
            if view.state == TokenState.SUSPENDED:
                return _declined(DeclineReason.TOKEN_SUSPENDED, view)
            if view.state != TokenState.ACTIVE:
                return _declined(DeclineReason.TOKEN_DELETED, view)
            if request.cryptogram is not None:
                decision = self._cryptogram(uow, view, view.master_key, request.cryptogram, request)
            elif request.security_code is not None:
                decision = self._security_code(
                    uow, view, view.master_key, request.security_code, request, now
                )
            else:
                return _declined(DeclineReason.MISSING_CREDENTIAL, view)
            if decision.verdict == Verdict.APPROVED and decision.atc is not None:
                if not uow.directory.mark_used(view.id, decision.atc, now):
                    return _declined(DeclineReason.REPLAYED_CRYPTOGRAM, view, decision.atc)
                uow.commit()
            return decision

    def _cryptogram(
        self,
        uow: NetworkUnitOfWork,
        view: NetworkView,
        key: bytes,
        cryptogram: str,
        request: Authorization,
    ) -> Decision:
        try:
            parsed = cryptograms.parse_cryptogram(cryptogram)
        except InvalidCryptogram:
            return _declined(DeclineReason.INVALID_CRYPTOGRAM, view)
        issued = uow.directory.transaction(view.id, parsed.atc)
        if (
            parsed.network != view.network
            or issued is None
            or issued.credential != CredentialKind.CRYPTOGRAM
        ):
            return _declined(DeclineReason.INVALID_CRYPTOGRAM, view, parsed.atc)
        try:
            cryptograms.verify_cryptogram(key, cryptogram, request.data)
        except InvalidCryptogram:
            return _declined(_why(key, cryptogram, request.data, issued), view, parsed.atc)
        if issued.used_at is not None:
            return _declined(DeclineReason.REPLAYED_CRYPTOGRAM, view, parsed.atc)
        if request.eci is not None and request.eci != issued.eci:
            return _declined(DeclineReason.ECI_MISMATCH, view, parsed.atc)
        return Decision(Verdict.APPROVED, None, view.network, parsed.atc)

    def _security_code(
        self,
        uow: NetworkUnitOfWork,
        view: NetworkView,
        key: bytes,
        code: str,
        request: Authorization,
        now: datetime,
    ) -> Decision:
        policy = self._policy
        # Security: at the limit no code is even compared, so a locked token
        # answers the same whatever is guessed.
        if view.failed_code_verifications >= policy.max_failures:
            return _declined(DeclineReason.TOO_MANY_ATTEMPTS, view)
        recent = _usable_first(
            uow.directory.recent(view.id, CredentialKind.SECURITY_CODE, policy.recent_codes),
            now - policy.validity,
        )
        expiry = f"{(view.expiration_year or '00')[-2:]}{view.expiration_month or '00'}"
        try:
            atc = cryptograms.verify_dynamic_code(
                key,
                view.network,
                request.token_number,
                expiry,
                code,
                [issued.atc for issued in recent],
            )
        except (InvalidCryptogram, ValueError):
            # Only a wrong code counts: a late, replayed or mis-flagged right
            # one reveals nothing a guesser could use.
            uow.directory.record_code_failure(view.id)
            uow.commit()
            return _declined(DeclineReason.INVALID_SECURITY_CODE, view)
        issued = next(item for item in recent if item.atc == atc)
        if issued.used_at is not None:
            return _declined(DeclineReason.REPLAYED_CRYPTOGRAM, view, atc)
        if issued.issued_at <= now - policy.validity:
            return _declined(DeclineReason.SECURITY_CODE_EXPIRED, view, atc)
        if request.eci is not None and request.eci != issued.eci:
            return _declined(DeclineReason.ECI_MISMATCH, view, atc)
        return Decision(Verdict.APPROVED, None, view.network, atc)


def _usable_first(
    recent: Sequence[TokenTransaction], issued_after: datetime
) -> list[TokenTransaction]:
    """The candidates, unused and unexpired ones first (each group newest
    first): two candidates may share a code (1 in 1,000 for a DTVV), and the
    one the merchant was just given must win over a spent or expired twin."""
    return sorted(
        recent, key=lambda item: item.used_at is not None or item.issued_at <= issued_after
    )


def _why(
    key: bytes, cryptogram: str, data: TransactionData, issued: TokenTransaction
) -> DeclineReason:
    """The cryptogram does not verify with this authorisation's data: if it
    verifies with the data it was issued for, say what differs."""
    original = TransactionData(
        amount=issued.amount,
        currency=issued.currency,
        merchant_reference=issued.merchant_reference,
        transaction_type=TransactionType(issued.transaction_type),
    )
    try:
        cryptograms.verify_cryptogram(key, cryptogram, original)
    except InvalidCryptogram:
        return DeclineReason.INVALID_CRYPTOGRAM
    if data.transaction_type != original.transaction_type:
        return DeclineReason.TRANSACTION_TYPE_MISMATCH
    if (data.amount, data.currency) != (original.amount, original.currency):
        return DeclineReason.AMOUNT_MISMATCH
    return DeclineReason.MERCHANT_MISMATCH
