"""opentms.client: a typed Python client for the CyberSource TMS API, for
opentms or CyberSource itself (same wire contract, any base URL).

```python
from opentms.client import Client, TokenApi

client = Client.from_credentials_file("credentials/acme.json", base_url="http://127.0.0.1:8080")
jwe = TokenApi(client).post_token_payment_credentials(customer_id, {})
credentials = client.tokens.decrypted_payment_credentials(customer_id)
print(credentials.tokenized_card.masked_number, credentials.tokenized_card.eci)
```

Sync :class:`Client` and :class:`AsyncClient` (httpx), HTTP Signature and JWT
(RS256, HS256) signing, request and response message-level encryption, typed
pydantic models (snake_case in Python, camelCase on the wire), and one
exception tree rooted at :class:`OpenTMSError`.

It imports nothing else from ``opentms``. The models (pydantic) and the
in-process transport load on first use, so importing the package stays fast.
"""

import importlib as _importlib
import typing as _typing

from opentms.client._async_token_resources import (
    AsyncTokenApi,
)
from opentms.client._auth import (
    HTTPSignatureAuth,
    JWTAuth,
)
from opentms.client._client import (
    AsyncClient,
    Client,
)
from opentms.client._exceptions import (
    APIError,
    AuthenticationError,
    BadRequest,
    Conflict,
    CredentialDecryptionFailed,
    ErrorDetail,
    FailedDependency,
    Forbidden,
    InvalidResponse,
    NotAvailable,
    NotFound,
    OpenTMSError,
    PreconditionFailed,
    ServerError,
    TransportError,
    WebhookVerificationError,
)
from opentms.client._jwe import (
    decrypt_payment_credentials,
)
from opentms.client._token_resources import (
    TokenApi,
)

if _typing.TYPE_CHECKING:
    from opentms.client._models import (
        Address,
        AmountDetails,
        AuthenticatedIdentity,
        AuthorizationOptions,
        BankAccount,
        BankTransferOptions,
        BinCard,
        BinLookup,
        BuyerInformation,
        Card,
        CardArt,
        CardArtAsset,
        CardArtAssetRef,
        CardArtContent,
        ClientReferenceInformation,
        CombinedAssetUpdate,
        Customer,
        CustomerBuyerInformation,
        CustomerEmbedded,
        CustomerRequest,
        DeleteReason,
        DeviceInformation,
        EmvTag,
        IdRef,
        Initiator,
        InstrumentIdentifier,
        InstrumentIdentifierEmbedded,
        InstrumentIdentifierProcessingInformation,
        InstrumentIdentifierRequest,
        IssuedBy,
        Issuer,
        IssuerInformation,
        LifeCycleCard,
        LifeCycleCardArt,
        LifeCycleMetadata,
        LifeCycleSimulationRequest,
        Link,
        LinkedInstrumentIdentifier,
        MerchantDefinedInformation,
        MerchantDescriptor,
        MerchantInformation,
        MerchantInitiatedTransaction,
        Metadata,
        ObjectInformation,
        OrderInformation,
        Passcode,
        PaymentAccountInformation,
        PaymentCredentials,
        PaymentCredentialsProcessingInformation,
        PaymentCredentialsRequest,
        PaymentInstrument,
        PaymentInstrumentBankAccount,
        PaymentInstrumentCard,
        PaymentInstrumentEmbedded,
        PaymentInstrumentList,
        PaymentInstrumentListEmbedded,
        PaymentInstrumentProcessingInformation,
        PaymentInstrumentRequest,
        PersonalIdentification,
        PointOfSaleInformation,
        ShippingAddress,
        ShippingAddressList,
        ShippingAddressListEmbedded,
        ShippingAddressRequest,
        TMSModel,
        TMSResponse,
        TokenInformation,
        TokenIssuer,
        TokenizedCard,
        TokenizedCardCard,
        TokenizedCardDeleteRequest,
        TokenizedCardMetadata,
        TokenizedCardRequest,
        TokenizedInformation,
        TokenizeError,
        TokenizeErrorDetail,
        TokenizeProcessingInformation,
        TokenizeRequest,
        TokenizeResponse,
        TokenizeResult,
        TokenProvisioningInformation,
        VerificationResults,
    )
    from opentms.client._transports import ASGIAppTransport

from opentms.client._base_client import __version__ as __version__

__all__ = [  # noqa: RUF022 - sorted case-insensitively, as tests/test_contracts.py checks
    "Address",
    "AmountDetails",
    "APIError",
    "ASGIAppTransport",
    "AsyncClient",
    "AsyncTokenApi",
    "AuthenticatedIdentity",
    "AuthenticationError",
    "AuthorizationOptions",
    "BadRequest",
    "BankAccount",
    "BankTransferOptions",
    "BinCard",
    "BinLookup",
    "BuyerInformation",
    "Card",
    "CardArt",
    "CardArtAsset",
    "CardArtAssetRef",
    "CardArtContent",
    "Client",
    "ClientReferenceInformation",
    "CombinedAssetUpdate",
    "Conflict",
    "CredentialDecryptionFailed",
    "Customer",
    "CustomerBuyerInformation",
    "CustomerEmbedded",
    "CustomerRequest",
    "decrypt_payment_credentials",
    "DeleteReason",
    "DeviceInformation",
    "EmvTag",
    "ErrorDetail",
    "FailedDependency",
    "Forbidden",
    "HTTPSignatureAuth",
    "IdRef",
    "Initiator",
    "InstrumentIdentifier",
    "InstrumentIdentifierEmbedded",
    "InstrumentIdentifierProcessingInformation",
    "InstrumentIdentifierRequest",
    "InvalidResponse",
    "IssuedBy",
    "Issuer",
    "IssuerInformation",
    "JWTAuth",
    "LifeCycleCard",
    "LifeCycleCardArt",
    "LifeCycleMetadata",
    "LifeCycleSimulationRequest",
    "Link",
    "LinkedInstrumentIdentifier",
    "MerchantDefinedInformation",
    "MerchantDescriptor",
    "MerchantInformation",
    "MerchantInitiatedTransaction",
    "Metadata",
    "NotAvailable",
    "NotFound",
    "ObjectInformation",
    "OpenTMSError",
    "OrderInformation",
    "Passcode",
    "PaymentAccountInformation",
    "PaymentCredentials",
    "PaymentCredentialsProcessingInformation",
    "PaymentCredentialsRequest",
    "PaymentInstrument",
    "PaymentInstrumentBankAccount",
    "PaymentInstrumentCard",
    "PaymentInstrumentEmbedded",
    "PaymentInstrumentList",
    "PaymentInstrumentListEmbedded",
    "PaymentInstrumentProcessingInformation",
    "PaymentInstrumentRequest",
    "PersonalIdentification",
    "PointOfSaleInformation",
    "PreconditionFailed",
    "ServerError",
    "ShippingAddress",
    "ShippingAddressList",
    "ShippingAddressListEmbedded",
    "ShippingAddressRequest",
    "TMSModel",
    "TMSResponse",
    "TokenApi",
    "TokenInformation",
    "TokenIssuer",
    "TokenizedCard",
    "TokenizedCardCard",
    "TokenizedCardDeleteRequest",
    "TokenizedCardMetadata",
    "TokenizedCardRequest",
    "TokenizedInformation",
    "TokenizeError",
    "TokenizeErrorDetail",
    "TokenizeProcessingInformation",
    "TokenizeRequest",
    "TokenizeResponse",
    "TokenizeResult",
    "TokenProvisioningInformation",
    "TransportError",
    "VerificationResults",
    "WebhookVerificationError",
]

# Loaded on first access (PEP 562): pydantic for the models, anyio for the transport.
_LAZY = dict.fromkeys(
    [name for name in __all__ if name not in globals() and name != "ASGIAppTransport"],
    "opentms.client._models",
)
_LAZY["ASGIAppTransport"] = "opentms.client._transports"


def _public(value: object) -> None:
    # Reprs and docs show opentms.client.X, not the private module (httpx style).
    if isinstance(value, type) or callable(value):
        value.__module__ = __name__


def __getattr__(name: str) -> object:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(_importlib.import_module(module), name)
    _public(value)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


for _name in __all__:
    if _name in globals():
        _public(globals()[_name])
