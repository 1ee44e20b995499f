"""``POST /tms/v2/tokenize``: several tokens in one call."""

from opentms.client._models.base import TMSModel, TMSResponse
from opentms.client._models.customers import CustomerRequest, ShippingAddressRequest
from opentms.client._models.instrument_identifiers import InstrumentIdentifierRequest
from opentms.client._models.payment_instruments import PaymentInstrumentRequest


class TokenizeProcessingInformation(TMSModel):
    """``action_list`` (``["TOKEN_CREATE"]``) and ``action_token_types``
    (``customer``, ``paymentInstrument``, ``instrumentIdentifier``,
    ``shippingAddress``, ``tokenizedCard``)."""

    action_list: list[str] | None = None
    action_token_types: list[str] | None = None


class TokenInformation(TMSModel):
    """The resources to create."""

    jti: str | None = None
    transient_token_jwt: str | None = None
    customer: CustomerRequest | None = None
    payment_instrument: PaymentInstrumentRequest | None = None
    shipping_address: ShippingAddressRequest | None = None
    instrument_identifier: InstrumentIdentifierRequest | None = None


class TokenizeRequest(TMSModel):
    """The body of ``tokens.tokenize`` (PostTokenizeRequest).

    ```python
    TokenizeRequest(
        processing_information=TokenizeProcessingInformation(
            action_list=["TOKEN_CREATE"],
            action_token_types=["customer", "paymentInstrument", "instrumentIdentifier"],
        ),
        token_information=TokenInformation(
            customer=CustomerRequest(),
            payment_instrument=PaymentInstrumentRequest(),
            instrument_identifier=InstrumentIdentifierRequest(card=Card(number="4111...")),
        ),
    )
    ```
    """

    processing_information: TokenizeProcessingInformation | None = None
    token_information: TokenInformation | None = None


class TokenizeErrorDetail(TMSModel):
    """A field at fault in a tokenize result: ``name`` and ``location``."""

    name: str | None = None
    location: str | None = None


class TokenizeError(TMSModel):
    """Why one resource of a tokenize call failed (``type``, ``message``, ``details``)."""

    type: str | None = None
    message: str | None = None
    details: list[TokenizeErrorDetail] | None = None


class TokenizeResult(TMSModel):
    """One resource's outcome: ``resource``, its own ``http_status`` and ``id``
    (or ``errors``)."""

    resource: str | None = None
    http_status: int | None = None
    id: str | None = None
    errors: list[TokenizeError] | None = None


class TokenizeResponse(TMSResponse):
    """The answer of ``tokens.tokenize``: one result per resource."""

    responses: list[TokenizeResult] | None = None

    def id_of(self, resource: str) -> str | None:
        """The id created for ``resource`` (e.g. ``"customer"``), or ``None``."""
        for result in self.responses or []:
            if result.resource == resource:
                return result.id
        return None


__all__ = [
    "TokenInformation",
    "TokenizeError",
    "TokenizeErrorDetail",
    "TokenizeProcessingInformation",
    "TokenizeRequest",
    "TokenizeResponse",
    "TokenizeResult",
]
