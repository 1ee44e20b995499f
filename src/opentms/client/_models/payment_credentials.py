"""Payment credentials: what to ask for, and the decrypted answer."""

from pydantic import Field

from opentms.client._models.base import Address, Card, Issuer, Links, TMSModel, TMSResponse
from opentms.client._models.instrument_identifiers import AuthorizationOptions
from opentms.client._models.payment_instruments import MerchantInformation
from opentms.client._models.tokenized_cards import TokenizedCard


class AmountDetails(TMSModel):
    """The amount the cryptogram is bound to: ``total_amount`` (e.g. ``"10.00"``)
    and ``currency`` (ISO 4217, ``"USD"`` or ``"840"``)."""

    total_amount: str | None = None
    currency: str | None = None


class OrderInformation(TMSModel):
    """``orderInformation``: the amount and billing address of the order."""

    amount_details: AmountDetails | None = None
    bill_to: Address | None = None


class DeviceInformation(TMSModel):
    """``deviceInformation``: the shopper's device and browser."""

    platform_type: str | None = None
    ip_address: str | None = None
    http_accept_content: str | None = None
    http_browser_language: str | None = None
    http_browser_java_enabled: bool | None = None
    http_browser_java_script_enabled: bool | None = None
    http_browser_color_depth: str | None = None
    http_browser_screen_height: str | None = None
    http_browser_screen_width: str | None = None
    http_browser_time_difference: str | None = None
    user_agent_browser_value: str | None = None


class AuthenticatedIdentity(TMSModel):
    """A passkey authentication (``provider="VISA_PAYMENT_PASSKEY"``), which can
    lift the ECI to 05; all values Base64URL."""

    id: str | None = None
    provider: str | None = None
    data: str | None = Field(default=None, repr=False)
    relying_party_id: str | None = None
    user_authentication_method: str | None = None


class PaymentCredentialsRequest(TMSModel):
    """The body of a payment-credentials call (PostPaymentCredentialsRequest).
    Every field is optional: ``{}`` asks for the token with a cryptogram (or an
    Amex dynamic security code).

    ```python
    PaymentCredentialsRequest(
        payment_credential_type="CRYPTOGRAM",
        order_information=OrderInformation(
            amount_details=AmountDetails(total_amount="10.00", currency="USD")
        ),
    )
    ```

    ``payment_credential_type``: ``NETWORK_TOKEN``, ``CRYPTOGRAM`` or ``SECURITY_CODE``;
    ``transaction_type``: ``ECOM`` (default) or ``AFT``.
    """

    payment_credential_type: str | None = None
    transaction_type: str | None = None
    client_correlation_id: str | None = None
    order_information: OrderInformation | None = None
    merchant_information: MerchantInformation | None = None
    device_information: DeviceInformation | None = None
    authenticated_identities: list[AuthenticatedIdentity] | None = None


class PaymentCredentialsProcessingInformation(TMSModel):
    """``processingInformation``: ``commerce_indicator`` (``internet``, ``vbv``, ``spa``)."""

    commerce_indicator: str | None = None
    authorization_options: AuthorizationOptions | None = None


class PaymentCredentials(TMSResponse):
    """Decrypted payment credentials. ``tokenized_card`` carries the clear
    network token (``number``), its expiry, the ``cryptogram`` or
    ``security_code`` and the ``eci``; ``card`` is the masked card (or, from v3
    without a network token, the card itself)."""

    links: Links | None = Field(default=None, alias="_links")
    tokenized_card: TokenizedCard | None = None
    card: Card | None = None
    issuer: Issuer | None = None
    processing_information: PaymentCredentialsProcessingInformation | None = None


__all__ = [
    "AmountDetails",
    "AuthenticatedIdentity",
    "DeviceInformation",
    "OrderInformation",
    "PaymentCredentials",
    "PaymentCredentialsProcessingInformation",
    "PaymentCredentialsRequest",
]
