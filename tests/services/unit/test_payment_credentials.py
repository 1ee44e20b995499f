"""PaymentCredentialService over the fakes: the token a token id leads to,
the credential each network and request type gets, the ATC, and refusals."""

from __future__ import annotations

from dataclasses import replace

import pytest

from opentms.bootstrap import Services
from opentms.crypto.cryptograms import TransactionType
from opentms.domain.card import PAN, BankAccount
from opentms.domain.errors import Declined, Forbidden, InvalidFields, NotAvailable, NotFound
from opentms.domain.network_token import MAX_ATC, CredentialKind, TokenNetwork, TokenState
from opentms.services.instrument_identifiers import CardExpiry
from opentms.services.payment_credentials import (
    CardCredentials,
    CredentialLinks,
    CredentialsRequest,
    CredentialType,
    NetworkTokenCredentials,
)
from opentms.services.payment_instruments import InstrumentIdentifierRef
from opentms.services.tenancy import Tenant
from tests.services.fakes import FakePorts
from tests.support import make_pan

EXPIRY = CardExpiry("12", "2031")
PREFIXES = {
    TokenNetwork.VISA: "411111",
    TokenNetwork.MASTERCARD: "555555",
    TokenNetwork.AMEX: "378282",
    TokenNetwork.DISCOVER: "601111",
}


def store(services: Services, tenant: Tenant, network: TokenNetwork = TokenNetwork.VISA) -> str:
    prefix = PREFIXES[network]
    pan = PAN.parse(make_pan(prefix, 15 if network == TokenNetwork.AMEX else 16))
    view, _ = services.instrument_identifiers.create(tenant, pan, {}, EXPIRY)
    return view.instrument_identifier.id


def issue(
    services: Services, tenant: Tenant, token_id: str, **request: object
) -> NetworkTokenCredentials:
    result = services.payment_credentials.issue(
        tenant,
        token_id,
        CredentialsRequest(version=int(str(request.pop("version", 2))), **request),  # type: ignore[arg-type]
    )
    assert isinstance(result, NetworkTokenCredentials)
    return result


@pytest.mark.parametrize(
    ("network", "kind"),
    [
        (TokenNetwork.VISA, "cryptogram"),
        (TokenNetwork.MASTERCARD, "cryptogram"),
        (TokenNetwork.DISCOVER, "cryptogram"),
        (TokenNetwork.AMEX, "security_code"),
    ],
)
def test_the_default_credential_of_each_network(
    services: Services, tenant: Tenant, network: TokenNetwork, kind: str
) -> None:
    result = issue(services, tenant, store(services, tenant, network))

    assert result.token.network == network
    assert (result.cryptogram is not None, result.security_code is not None) == (
        kind == "cryptogram",
        kind == "security_code",
    )


@pytest.mark.parametrize(
    ("network", "eci"),
    [
        (TokenNetwork.VISA, "07"),
        (TokenNetwork.MASTERCARD, "06"),
        (TokenNetwork.AMEX, "07"),
        (TokenNetwork.DISCOVER, "07"),
    ],
)
def test_the_eci_and_commerce_indicator_of_each_network(
    services: Services, tenant: Tenant, network: TokenNetwork, eci: str
) -> None:
    from opentms.crypto import cryptograms

    result = issue(services, tenant, store(services, tenant, network))

    assert result.eci == cryptograms.eci_for(network, False) == eci
    assert result.commerce_indicator == cryptograms.commerce_indicator(network, False)


@pytest.mark.parametrize(
    ("network", "changed"), [(TokenNetwork.VISA, True), (TokenNetwork.MASTERCARD, False)]
)
def test_a_passkey_changes_the_eci_of_visa_only(
    services: Services, tenant: Tenant, network: TokenNetwork, changed: bool
) -> None:
    ii_id = store(services, tenant, network)

    plain = issue(services, tenant, ii_id)
    passkey = issue(services, tenant, ii_id, authenticated_by_passkey=True)

    assert (plain.eci != passkey.eci) is changed


@pytest.mark.parametrize("network", list(TokenNetwork))
def test_network_token_alone_has_no_cryptogram_or_code(
    services: Services, tenant: Tenant, network: TokenNetwork
) -> None:
    result = issue(
        services,
        tenant,
        store(services, tenant, network),
        credential_type=CredentialType.NETWORK_TOKEN,
    )

    assert (result.cryptogram, result.security_code) == (None, None)


@pytest.mark.parametrize(
    ("network", "credential", "field"),
    [
        (TokenNetwork.AMEX, CredentialType.CRYPTOGRAM, "paymentCredentialType"),
        (TokenNetwork.MASTERCARD, CredentialType.SECURITY_CODE, "paymentCredentialType"),
        (TokenNetwork.DISCOVER, CredentialType.SECURITY_CODE, "paymentCredentialType"),
    ],
)
def test_a_credential_the_network_has_not_is_refused(
    services: Services,
    tenant: Tenant,
    network: TokenNetwork,
    credential: CredentialType,
    field: str,
) -> None:
    ii_id = store(services, tenant, network)

    with pytest.raises(InvalidFields) as invalid:
        issue(services, tenant, ii_id, credential_type=credential)

    assert [d.name for d in invalid.value.details] == [field]


def test_visa_has_a_dynamic_security_code(services: Services, tenant: Tenant) -> None:
    result = issue(
        services, tenant, store(services, tenant), credential_type=CredentialType.SECURITY_CODE
    )

    assert result.security_code is not None
    assert result.security_code.isdigit()
    assert result.cryptogram is None


@pytest.mark.parametrize(
    ("network", "credential", "allowed"),
    [
        (TokenNetwork.VISA, CredentialType.CRYPTOGRAM, True),
        (TokenNetwork.VISA, None, False),
        (TokenNetwork.VISA, CredentialType.NETWORK_TOKEN, False),
        (TokenNetwork.MASTERCARD, CredentialType.CRYPTOGRAM, False),
    ],
)
def test_aft_is_for_visa_cryptograms_only(
    services: Services,
    tenant: Tenant,
    network: TokenNetwork,
    credential: CredentialType | None,
    allowed: bool,
) -> None:
    ii_id = store(services, tenant, network)

    if allowed:
        result = issue(
            services,
            tenant,
            ii_id,
            credential_type=credential,
            transaction_type=TransactionType.AFT,
        )
        assert result.cryptogram is not None
    else:
        with pytest.raises(InvalidFields) as invalid:
            issue(
                services,
                tenant,
                ii_id,
                credential_type=credential,
                transaction_type=TransactionType.AFT,
            )
        assert [d.name for d in invalid.value.details] == ["transactionType"]


def test_each_call_takes_the_next_atc_and_records_it(
    services: Services, tenant: Tenant, fakes: FakePorts
) -> None:
    ii_id = store(services, tenant)

    atcs = [issue(services, tenant, ii_id).atc for _ in range(3)]

    assert atcs == [1, 2, 3]
    recorded = fakes.vault.state.transactions
    assert [(t.atc, t.credential) for t in recorded] == [
        (1, CredentialKind.CRYPTOGRAM),
        (2, CredentialKind.CRYPTOGRAM),
        (3, CredentialKind.CRYPTOGRAM),
    ]


def test_the_atc_is_taken_in_one_single_statement_write(
    services: Services, tenant: Tenant, fakes: FakePorts
) -> None:
    ii_id = store(services, tenant)
    fakes.vault.opened.clear()

    issue(services, tenant, ii_id)

    assert fakes.vault.opened == [
        (tenant.merchant_id, True, False),
        (tenant.merchant_id, False, True),
    ]


@pytest.mark.parametrize(
    ("amount", "currency", "recorded"),
    [
        ("10.00", "USD", (1000, "840")),
        ("5", "JPY", (5, "392")),
        (None, "EUR", (0, "978")),
        (None, None, (0, "000")),
    ],
)
def test_the_amount_is_bound_in_minor_units(
    services: Services,
    tenant: Tenant,
    fakes: FakePorts,
    amount: str | None,
    currency: str | None,
    recorded: tuple[int, str],
) -> None:
    issue(services, tenant, store(services, tenant), amount=amount, currency=currency)

    transaction = fakes.vault.state.transactions[-1]
    assert (transaction.amount, transaction.currency) == recorded


@pytest.mark.parametrize(
    ("amount", "currency", "field"),
    [
        ("10.00", None, "orderInformation.amountDetails.currency"),
        ("10.00", "XXQ", "orderInformation.amountDetails.currency"),
        ("-1", "USD", "orderInformation.amountDetails.totalAmount"),
        ("1.234", "USD", "orderInformation.amountDetails.totalAmount"),
        ("ten", "USD", "orderInformation.amountDetails.totalAmount"),
    ],
)
def test_a_bad_amount_or_currency_is_refused_before_anything_is_read(
    services: Services,
    tenant: Tenant,
    fakes: FakePorts,
    amount: str,
    currency: str | None,
    field: str,
) -> None:
    ii_id = store(services, tenant)
    fakes.vault.opened.clear()

    with pytest.raises(InvalidFields) as invalid:
        issue(services, tenant, ii_id, amount=amount, currency=currency)

    assert [d.name for d in invalid.value.details] == [field]
    assert fakes.vault.opened == []


def test_a_customer_leads_to_its_default_instrument(services: Services, tenant: Tenant) -> None:
    customer_id = services.customers.create(tenant, {}).customer.id
    pan = make_pan()
    pi = services.payment_instruments.create(
        tenant,
        InstrumentIdentifierRef(instrument=PAN.parse(pan), expiry=EXPIRY),
        {"card": {"expirationMonth": "04", "expirationYear": "2032"}},
        customer_id,
    )

    result = issue(services, tenant, customer_id, version=3)

    ii_id = pi.instrument_identifier.instrument_identifier.id
    assert result.links.customer_id == customer_id
    assert result.links.payment_instrument is not None
    assert result.links.payment_instrument.id == pi.payment_instrument.id
    assert result.links.instrument_identifier_id == ii_id
    assert result.card is not None
    assert (result.card.expiration_month, result.card.expiration_year) == ("04", "2032")


def test_a_customer_without_a_default_is_refused(services: Services, tenant: Tenant) -> None:
    customer_id = services.customers.create(tenant, {}).customer.id

    with pytest.raises(InvalidFields, match="no default payment instrument"):
        issue(services, tenant, customer_id)


def test_a_payment_instrument_leads_to_its_card(services: Services, tenant: Tenant) -> None:
    pi = services.payment_instruments.create(
        tenant, InstrumentIdentifierRef(instrument=PAN.parse(make_pan()), expiry=EXPIRY), {}
    )
    pi_id = pi.payment_instrument.id

    result = issue(services, tenant, pi_id, version=3)

    assert result.links.token_id == pi_id
    assert result.links.customer_id is None
    assert pi.instrument_identifier.token is not None
    assert result.token.id == pi.instrument_identifier.token.id


def test_a_tokenized_card_by_its_own_id(services: Services, tenant: Tenant) -> None:
    token = services.network_tokens.create(tenant, PAN.parse(make_pan()), EXPIRY, "ONFILE", False)

    result = issue(services, tenant, token.id, version=3)

    assert result.token.id == token.id
    assert result.links == CredentialLinks(token.id, 3, tokenized_card_id=token.id)
    assert result.card is None


@pytest.mark.parametrize("token_id", ["7" * 19, "A" * 32, "not-a-token", ""])
def test_an_unknown_token_is_not_found(services: Services, tenant: Tenant, token_id: str) -> None:
    with pytest.raises(NotFound):
        services.payment_credentials.issue(tenant, token_id, CredentialsRequest(version=2))


def test_another_merchants_token_is_not_found(
    services: Services, tenant: Tenant, other_tenant: Tenant
) -> None:
    ii_id = store(services, tenant)

    with pytest.raises(NotFound):
        services.payment_credentials.issue(other_tenant, ii_id, CredentialsRequest(version=2))


def test_a_deleted_identifier_is_not_available(services: Services, tenant: Tenant) -> None:
    ii_id = store(services, tenant)
    services.instrument_identifiers.delete(tenant, ii_id)

    with pytest.raises(NotAvailable):
        services.payment_credentials.issue(tenant, ii_id, CredentialsRequest(version=2))


def test_a_suspended_token_is_forbidden(services: Services, tenant: Tenant) -> None:
    ii_id = store(services, tenant)
    token = services.instrument_identifiers.retrieve(tenant, ii_id).token
    assert token is not None
    services.network_tokens.simulate_life_cycle(
        tenant, token.id, "P", TokenState.SUSPENDED, None, None, None, False
    )

    with pytest.raises(Forbidden, match="suspended"):
        issue(services, tenant, ii_id)


def test_a_deleted_token_is_not_available(services: Services, tenant: Tenant) -> None:
    token = services.network_tokens.create(tenant, PAN.parse(make_pan()), EXPIRY, "ONFILE", False)
    services.network_tokens.delete(tenant, token.id)

    with pytest.raises(NotAvailable, match="deleted"):
        issue(services, tenant, token.id)


def test_a_spent_counter_is_declined(services: Services, tenant: Tenant, fakes: FakePorts) -> None:
    ii_id = store(services, tenant)
    token = services.instrument_identifiers.retrieve(tenant, ii_id).token
    assert token is not None
    fakes.vault.state.network_tokens[(tenant.merchant_id, token.id)] = replace(token, atc=MAX_ATC)

    with pytest.raises(Declined, match="exhausted"):
        issue(services, tenant, ii_id)


def test_a_card_stored_without_a_token_gets_one_on_first_use(
    services: Services, tenant: Tenant, plain_tenant: Tenant
) -> None:
    ii_id = store(services, plain_tenant)

    result = issue(services, tenant, ii_id)

    stored = services.instrument_identifiers.retrieve(tenant, ii_id).token
    assert stored is not None
    assert (stored.id, stored.state, stored.atc) == (result.token.id, TokenState.ACTIVE, 1)


def test_without_a_token_v3_answers_the_card_and_v2_not_found(
    services: Services, plain_tenant: Tenant
) -> None:
    ii_id = store(services, plain_tenant, TokenNetwork.DISCOVER)

    result = services.payment_credentials.issue(plain_tenant, ii_id, CredentialsRequest(version=3))

    assert isinstance(result, CardCredentials)
    assert result.card.type == "004"
    with pytest.raises(NotFound, match="v3 endpoint"):
        services.payment_credentials.issue(plain_tenant, ii_id, CredentialsRequest(version=2))


def test_a_bank_account_has_no_credentials(services: Services, tenant: Tenant) -> None:
    view, _ = services.instrument_identifiers.create(
        tenant, BankAccount.parse("12345678", "121042882"), {}, EXPIRY
    )

    with pytest.raises(NotFound, match="No network token or card"):
        services.payment_credentials.issue(
            tenant, view.instrument_identifier.id, CredentialsRequest(version=3)
        )


def test_an_unprovisioned_token_falls_back_to_the_card_on_v3(
    services: Services, tenant: Tenant
) -> None:
    view, _ = services.instrument_identifiers.create(
        tenant, PAN.parse("4000000000000044"), {}, EXPIRY
    )

    result = services.payment_credentials.issue(
        tenant, view.instrument_identifier.id, CredentialsRequest(version=3)
    )

    assert isinstance(result, CardCredentials)
    assert result.card.number.reveal() == "4000000000000044"
