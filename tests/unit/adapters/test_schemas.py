from __future__ import annotations

from typing import Any

import pytest
from pydantic import BaseModel

from opentms.adapters.http.routes.inputs import patched, stored
from opentms.adapters.http.schemas import customers as customer_schemas
from opentms.adapters.http.schemas.common import parse_json, validate
from opentms.adapters.http.schemas.customers import CustomerCreate
from opentms.adapters.http.schemas.instrument_identifiers import InstrumentIdentifierCreate
from opentms.adapters.http.schemas.payment_instruments import PaymentInstrumentCreate
from opentms.domain.errors import FieldError, InvalidFields, InvalidRequest, MissingFields

SECRET_DIGITS = "4111111111111111"


@pytest.mark.parametrize(
    ("model", "data", "error", "names"),
    [
        pytest.param(
            InstrumentIdentifierCreate,
            {"card": {"number": SECRET_DIGITS + "x"}},
            InvalidFields,
            ["card.number"],
            id="card-number-not-digits",
        ),
        pytest.param(
            InstrumentIdentifierCreate,
            {"card": {"number": SECRET_DIGITS * 3}},
            InvalidFields,
            ["card.number"],
            id="card-number-too-long",
        ),
        pytest.param(
            InstrumentIdentifierCreate,
            {"card": {"number": 4111111111111111}},
            InvalidFields,
            ["card.number"],
            id="card-number-not-a-string",
        ),
        pytest.param(
            InstrumentIdentifierCreate,
            {"card": {"expirationMonth": "13", "expirationYear": "1899"}},
            InvalidFields,
            ["card.expirationMonth", "card.expirationYear"],
            id="expiry",
        ),
        pytest.param(
            InstrumentIdentifierCreate,
            {"card": {"securityCode": "12345"}},
            InvalidFields,
            ["card.securityCode"],
            id="security-code",
        ),
        pytest.param(
            InstrumentIdentifierCreate,
            {"card": SECRET_DIGITS},
            InvalidFields,
            ["card"],
            id="card-not-an-object",
        ),
        pytest.param(
            InstrumentIdentifierCreate,
            {"pointOfSaleInformation": {"emvTags": [{"value": "AB", "source": "CARD"}]}},
            MissingFields,
            ["pointOfSaleInformation.emvTags[0].tag"],
            id="emv-tag-missing",
        ),
        pytest.param(
            InstrumentIdentifierCreate,
            {
                "pointOfSaleInformation": {
                    "emvTags": [
                        {"tag": "5A", "value": "AB", "source": "CARD"},
                        {"tag": "ZZ", "value": "AB", "source": "READER"},
                    ]
                }
            },
            InvalidFields,
            [
                "pointOfSaleInformation.emvTags[1].tag",
                "pointOfSaleInformation.emvTags[1].source",
            ],
            id="emv-tag-invalid",
        ),
        pytest.param(
            InstrumentIdentifierCreate,
            {
                "pointOfSaleInformation": {
                    "emvTags": [{"tag": "5A", "source": "CARD"}, {"tag": "5A!", "value": "x"}]
                }
            },
            InvalidFields,
            [
                "pointOfSaleInformation.emvTags[0].value",
                "pointOfSaleInformation.emvTags[1].tag",
                "pointOfSaleInformation.emvTags[1].source",
            ],
            id="missing-and-invalid-is-invalid",
        ),
        pytest.param(
            InstrumentIdentifierCreate,
            {"type": "enrollable " + SECRET_DIGITS},
            InvalidFields,
            ["type"],
            id="literal",
        ),
        pytest.param(
            InstrumentIdentifierCreate,
            {"tokenProvisioningInformation": {"consumerConsentObtained": "yes"}},
            InvalidFields,
            ["tokenProvisioningInformation.consumerConsentObtained"],
            id="strict-bool",
        ),
        pytest.param(
            InstrumentIdentifierCreate,
            {
                "processingInformation": {
                    "authorizationOptions": {
                        "initiator": {
                            "merchantInitiatedTransaction": {
                                "originalAuthorizedAmount": SECRET_DIGITS + "x"
                            }
                        }
                    }
                }
            },
            InvalidFields,
            [
                "processingInformation.authorizationOptions.initiator."
                "merchantInitiatedTransaction.originalAuthorizedAmount"
            ],
            id="deeply-nested",
        ),
        pytest.param(
            InstrumentIdentifierCreate,
            {"billTo": {"country": "USA", "postalCode": SECRET_DIGITS}},
            InvalidFields,
            ["billTo.postalCode", "billTo.country"],
            id="address",
        ),
        pytest.param(
            PaymentInstrumentCreate,
            {"instrumentIdentifier": {"card": {"number": "x" + SECRET_DIGITS}}},
            InvalidFields,
            ["instrumentIdentifier.card.number"],
            id="inline-instrument-identifier",
        ),
        pytest.param(
            PaymentInstrumentCreate,
            {"buyerInformation": {"dateOfBirth": SECRET_DIGITS}},
            InvalidFields,
            ["buyerInformation.dateOfBirth"],
            id="date",
        ),
        pytest.param(
            PaymentInstrumentCreate,
            {"buyerInformation": {"companyTaxId": SECRET_DIGITS}},
            InvalidFields,
            ["buyerInformation.companyTaxId"],
            id="company-tax-id-sdk-spelling",
        ),
        pytest.param(
            PaymentInstrumentCreate,
            {"card": {"tokenizedInformation": {"requestorID": SECRET_DIGITS}}},
            InvalidFields,
            ["card.tokenizedInformation.requestorID"],
            id="requestor-id",
        ),
        pytest.param(
            CustomerCreate,
            {"buyerInformation": {"merchantCustomerID": SECRET_DIGITS * 7}},
            InvalidFields,
            ["buyerInformation.merchantCustomerID"],
            id="merchant-customer-id-spec-spelling",
        ),
        pytest.param(
            CustomerCreate,
            {"buyerInformation": {"merchantCustomerId": SECRET_DIGITS * 7}},
            InvalidFields,
            ["buyerInformation.merchantCustomerId"],
            id="merchant-customer-id-sdk-spelling",
        ),
        pytest.param(
            CustomerCreate,
            {"merchantDefinedInformation": [{"name": "data1"}, {"name": SECRET_DIGITS}]},
            InvalidFields,
            ["merchantDefinedInformation[1].name"],
            id="validator-message",
        ),
        pytest.param(
            CustomerCreate,
            {"defaultPaymentInstrument": {"id": SECRET_DIGITS + "-"}},
            InvalidFields,
            ["defaultPaymentInstrument.id"],
            id="id-reference",
        ),
    ],
)
def test_validation_errors_name_every_field_and_never_echo_values(
    model: type[BaseModel],
    data: dict[str, Any],
    error: type[InvalidRequest],
    names: list[str],
) -> None:
    with pytest.raises(InvalidRequest) as caught:
        validate(model, data)
    assert type(caught.value) is error
    assert caught.value.details == tuple(FieldError(name, "body") for name in names)
    for name in names:
        assert name in caught.value.message
    for text in (caught.value.message, str(caught.value), repr(caught.value)):
        assert SECRET_DIGITS not in text
        assert "USA" not in text
        assert "READER" not in text


def test_missing_fields_message() -> None:
    data = {"pointOfSaleInformation": {"emvTags": [{"source": "CARD"}]}}
    with pytest.raises(MissingFields) as caught:
        validate(InstrumentIdentifierCreate, data)
    assert caught.value.message == (
        "Missing required fields: pointOfSaleInformation.emvTags[0].tag: field required; "
        "pointOfSaleInformation.emvTags[0].value: field required."
    )


@pytest.mark.parametrize(
    "spelling",
    [
        pytest.param("merchantCustomerID", id="spec"),
        pytest.param("merchantCustomerId", id="sdk-sample"),
    ],
)
def test_both_merchant_customer_id_spellings_are_accepted(spelling: str) -> None:
    customer = validate(CustomerCreate, {"buyerInformation": {spelling: "cust-42"}})
    assert customer.buyer_information is not None
    assert customer.buyer_information.merchant_customer_id == "cust-42"
    dumped = customer.model_dump(by_alias=True, exclude_none=True)
    assert dumped == {"buyerInformation": {"merchantCustomerID": "cust-42"}}
    assert stored(customer, customer_schemas.STORED_FIELDS) == dumped
    assert patched(customer, customer_schemas.STORED_FIELDS) == dumped


@pytest.mark.parametrize(
    ("spelling", "wire"),
    [
        pytest.param("companyTaxID", "companyTaxID", id="company-tax-spec"),
        pytest.param("companyTaxId", "companyTaxID", id="company-tax-sdk"),
    ],
)
def test_payment_instrument_alias_spellings(spelling: str, wire: str) -> None:
    model = validate(PaymentInstrumentCreate, {"buyerInformation": {spelling: "123456789"}})
    assert model.model_dump(by_alias=True, exclude_none=True) == {
        "buyerInformation": {wire: "123456789"}
    }


def test_requestor_id_spellings_serialise_as_the_spec_name() -> None:
    for spelling in ("requestorID", "requestorId"):
        data = {"card": {"tokenizedInformation": {spelling: "40010052236"}}}
        model = validate(PaymentInstrumentCreate, data)
        assert model.model_dump(by_alias=True, exclude_none=True) == {
            "card": {"tokenizedInformation": {"requestorID": "40010052236"}}
        }


def test_unknown_fields_are_ignored() -> None:
    model = validate(CustomerCreate, {"unknownField": {"x": 1}, "buyerInformation": {"email": "a"}})
    assert model.model_dump(by_alias=True, exclude_none=True) == {
        "buyerInformation": {"email": "a"}
    }


def test_patched_keeps_explicit_nulls() -> None:
    model = validate(
        CustomerCreate, {"buyerInformation": None, "objectInformation": {"title": "t"}}
    )
    assert patched(model, customer_schemas.STORED_FIELDS) == {
        "buyerInformation": None,
        "objectInformation": {"title": "t"},
    }


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        pytest.param(b"", {}, id="empty"),
        pytest.param(b"  \n", {}, id="blank"),
        pytest.param(b'{"a": 1}', {"a": 1}, id="object"),
    ],
)
def test_parse_json(body: bytes, expected: dict[str, Any]) -> None:
    assert parse_json(body) == expected


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(b'{"card": {"number": "4111111111111111"', id="truncated"),
        pytest.param(b'["4111111111111111"]', id="list"),
        pytest.param(b'"4111111111111111"', id="string"),
        pytest.param(b"\xff4111111111111111", id="not-utf8"),
    ],
)
def test_parse_json_errors_never_echo_the_body(body: bytes) -> None:
    with pytest.raises(InvalidFields) as caught:
        parse_json(body)
    assert caught.value.details == (FieldError("body", "body"),)
    assert SECRET_DIGITS not in caught.value.message
