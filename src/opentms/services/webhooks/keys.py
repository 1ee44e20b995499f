"""The signing keys of ``/kms/egress/v2/keys-sym`` (docs/webhooks.md,
"Signature"): a merchant's new key is shown once, in the answer that creates
it, and stored sealed. While a merchant has a key, a new one starts to sign
only after the overlap (``webhook_key_overlap_seconds``), so receivers can
install it before it is used; until then the older key signs."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from opentms.domain.errors import invalid_field
from opentms.domain.ports import Clock, SigningKey, SigningKeys

DEFAULT_LIFETIME_DAYS = 365
MAX_LIFETIME_DAYS = 3650


@dataclass(frozen=True)
class CreatedKey:
    """A new key and when it was made, starts to sign and expires."""

    key: SigningKey
    created_at: datetime
    signs_from: datetime
    expires_at: datetime


class WebhookKeyService:
    def __init__(self, keys: SigningKeys, clock: Clock, overlap: timedelta) -> None:
        self._keys = keys
        self._clock = clock
        self._overlap = overlap

    def create(
        self,
        merchant_id: str,
        organization_id: str | None,
        lifetime_days: int | None,
        client_reference_code: str | None = None,
    ) -> CreatedKey:
        """``organization_id``: absent, or the merchant (else a 400)."""
        if organization_id is not None and organization_id != merchant_id:
            raise invalid_field(
                "keyInformation.organizationId",
                "organizationId is the authenticated merchant's id.",
            )
        days = DEFAULT_LIFETIME_DAYS if lifetime_days is None else lifetime_days
        if not 1 <= days <= MAX_LIFETIME_DAYS:
            raise invalid_field(
                "keyInformation.expiryDuration",
                f"expiryDuration is a number of days from 1 to {MAX_LIFETIME_DAYS}.",
            )
        now = self._clock.now()
        had_one = self._keys.current(merchant_id, now) is not None
        key, expires_at = self._keys.create(
            merchant_id, now, self._overlap, timedelta(days=days), client_reference_code
        )
        return CreatedKey(key, now, now + self._overlap if had_one else now, expires_at)
