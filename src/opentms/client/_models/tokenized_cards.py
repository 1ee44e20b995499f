"""Network tokens: the tokenized card, its card art and life cycle, and the
requests that create and change them."""

from typing import Any

from pydantic import Field, model_validator

from opentms.client._models.base import Address, Card, Links, TMSModel, TMSResponse


class TokenizedCardCard(TMSModel):
    """``tokenizedCard.card``: the card behind the network token."""

    number: str | None = Field(default=None, repr=False)
    expiration_month: str | None = None
    expiration_year: str | None = None
    type: str | None = None
    suffix: str | None = None
    issue_date: str | None = None
    activation_date: str | None = None
    expiration_printed: bool | None = None
    security_code_printed: bool | None = None


class CardArtAssetRef(TMSModel):
    """One card-art asset of a token: its id and ``_links.self``."""

    id: str | None = None
    links: Links | None = Field(default=None, alias="_links")


class CardArt(TMSModel):
    """``metadata.cardArt``: colours and the assets to fetch with ``card_art``."""

    foreground_color: str | None = None
    background_color: str | None = None
    label_color: str | None = None
    combined_asset: CardArtAssetRef | None = None
    brand_logo_asset: CardArtAssetRef | None = None
    issuer_logo_asset: CardArtAssetRef | None = None
    icon_asset: CardArtAssetRef | None = None


class TokenIssuer(TMSModel):
    """``metadata.issuer``: the card issuer as the token service describes it."""

    name: str | None = None
    short_description: str | None = None
    long_description: str | None = None
    email: str | None = None
    phone_number: str | None = None
    url: str | None = None
    privacy_policy_url: str | None = None
    capabilities: dict[str, bool] | None = None
    bank_applications: list[dict[str, Any]] | None = None


class TokenizedCardMetadata(TMSModel):
    """``tokenizedCard.metadata``."""

    card_art: CardArt | None = None
    issuer: TokenIssuer | None = None
    creator: str | None = None


class VerificationResults(TMSModel):
    """``verificationResults`` (Visa): security code and address checks."""

    security_code: str | None = None
    address: str | None = None


class TokenizedCard(TMSResponse):
    """A network token (``tokenizedCard``), as ``tokenized_cards.get`` answers
    it, embedded in an instrument identifier, or decrypted in payment
    credentials (where ``number`` is the clear token and ``cryptogram`` or
    ``security_code`` the one-time value). Those three never appear in ``repr()``.

    Both response envelopes are read: the flat one and ``{_links, tokenizedCard}``.
    """

    links: Links | None = Field(default=None, alias="_links")
    id: str | None = None
    object: str | None = None
    source: str | None = None
    state: str | None = None
    reason: str | None = None
    enrollment_id: str | None = None
    token_reference_id: str | None = None
    number: str | None = Field(default=None, repr=False)
    expiration_month: str | None = None
    expiration_year: str | None = None
    type: str | None = None
    cryptogram: str | None = Field(default=None, repr=False)
    security_code: str | None = Field(default=None, repr=False)
    eci: str | None = None
    requestor_id: str | None = None
    payment_account_reference: str | None = None
    application_transaction_counter: str | None = None
    card: TokenizedCardCard | None = None
    verification_results: VerificationResults | None = None
    metadata: TokenizedCardMetadata | None = None

    @model_validator(mode="before")
    @classmethod
    def _unwrap(cls, data: Any) -> Any:
        """``{"_links": ..., "tokenizedCard": {...}}`` (the newer envelope)
        becomes the flat object; fields present at the top level win."""
        if isinstance(data, dict) and isinstance(data.get("tokenizedCard"), dict):
            flat = {k: v for k, v in data.items() if k != "tokenizedCard"}
            return {**data["tokenizedCard"], **flat}
        return data

    @property
    def masked_number(self) -> str | None:
        """The token number as ``489537XXXXXX1234`` (first six, last four)."""
        number = self.number
        if number is None or len(number) < 10 or not number.isdigit():
            return number
        return number[:6] + "X" * (len(number) - 10) + number[-4:]


class Passcode(TMSModel):
    """``passcode``: the issuer's one-time passcode."""

    value: str | None = Field(default=None, repr=False)


class TokenizedCardRequest(TMSModel):
    """The body of ``tokenized_cards.create`` (PostTokenizedCardRequest).

    ```python
    TokenizedCardRequest(
        source="ONFILE",
        card=Card(number="4111111111111111", expiration_month="12", expiration_year="2031"),
    )
    ```
    """

    source: str | None = None
    account_reference_id: str | None = None
    consumer_id: str | None = None
    create_pan_instrument_identifier: bool | None = None
    card: Card | None = None
    passcode: Passcode | None = None
    bill_to: Address | None = None


class DeleteReason(TMSModel):
    """``reason`` of a tokenized-card deletion: ``FRAUD`` or ``PAYMENT_METHOD_REMOVED``."""

    code: str | None = None
    description: str | None = None


class TokenizedCardDeleteRequest(TMSModel):
    """The optional body of ``tokenized_cards.delete``."""

    reason: DeleteReason | None = None


class LifeCycleCard(TMSModel):
    """``card`` of a life-cycle simulation: the reissued card's last four and expiry."""

    last4: str | None = None
    expiration_month: str | None = None
    expiration_year: str | None = None


class CombinedAssetUpdate(TMSModel):
    """``metadata.cardArt.combinedAsset``: ``update="true"`` for new card art."""

    update: str | None = None


class LifeCycleCardArt(TMSModel):
    """``metadata.cardArt`` of a life-cycle simulation."""

    combined_asset: CombinedAssetUpdate | None = None


class LifeCycleMetadata(TMSModel):
    """``metadata`` of a life-cycle simulation: new card art."""

    card_art: LifeCycleCardArt | None = None


class LifeCycleSimulationRequest(TMSModel):
    """The body of ``tokenized_cards.simulate_life_cycle``
    (PostIssuerLifeCycleSimulationRequest): ``state`` ``ACTIVE``, ``SUSPENDED``
    or ``DELETED``, a reissued card, or new card art."""

    state: str | None = None
    card: LifeCycleCard | None = None
    metadata: LifeCycleMetadata | None = None


class CardArtContent(TMSModel):
    """One image of a card-art asset: MIME ``type``, base64 ``data``, size."""

    type: str | None = None
    data: str | None = None
    width: int | None = None
    height: int | None = None


class CardArtAsset(TMSResponse):
    """A card-art asset (``tokenized_cards.card_art``)."""

    id: str | None = None
    type: str | None = None
    provider: str | None = None
    content: list[CardArtContent] | None = None


__all__ = [
    "CardArt",
    "CardArtAsset",
    "CardArtAssetRef",
    "CardArtContent",
    "CombinedAssetUpdate",
    "DeleteReason",
    "LifeCycleCard",
    "LifeCycleCardArt",
    "LifeCycleMetadata",
    "LifeCycleSimulationRequest",
    "Passcode",
    "TokenIssuer",
    "TokenizedCard",
    "TokenizedCardCard",
    "TokenizedCardDeleteRequest",
    "TokenizedCardMetadata",
    "TokenizedCardRequest",
    "VerificationResults",
]
