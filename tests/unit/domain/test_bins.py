from __future__ import annotations

import pytest

from opentms.domain.bins import BinDetails, bin_details
from opentms.domain.card import Brand


@pytest.mark.parametrize(
    ("number", "expected"),
    [
        pytest.param(
            "4111111111111111",
            BinDetails(Brand.VISA, 16, "CREDIT", "Visa Classic", "opentms Test Bank", "US", "USD"),
            id="visa-4111",
        ),
        pytest.param(
            "4622943127013705",
            BinDetails(
                Brand.VISA, 16, "DEBIT", "Visa Classic", "opentms Test Bank UK", "GB", "GBP"
            ),
            id="visa-uk-debit",
        ),
        pytest.param(
            "2222420000001113",
            BinDetails(
                Brand.MASTERCARD,
                16,
                "CREDIT",
                "World Mastercard",
                "opentms Test Bank",
                "US",
                "USD",
            ),
            id="mastercard-2-series",
        ),
        pytest.param(
            "5105105105105100",
            BinDetails(
                Brand.MASTERCARD,
                16,
                "DEBIT",
                "Debit Mastercard",
                "opentms Test Bank",
                "US",
                "USD",
            ),
            id="mastercard-debit",
        ),
        pytest.param(
            "378282246310005",
            BinDetails(
                Brand.AMEX,
                15,
                "CHARGE",
                "American Express Green",
                "American Express",
                "US",
                "USD",
            ),
            id="amex",
        ),
        pytest.param(
            "6011111111111117",
            BinDetails(Brand.DISCOVER, 16, "CREDIT", "Discover It", "Discover Bank", "US", "USD"),
            id="discover",
        ),
    ],
)
def test_bin_details_of_published_test_bins(number: str, expected: BinDetails) -> None:
    assert bin_details(number) == expected


@pytest.mark.parametrize(
    ("number", "brand", "max_length", "funding", "product"),
    [
        pytest.param("4000056655665556", Brand.VISA, 16, "CREDIT", "Visa Classic", id="visa"),
        pytest.param(
            "5200828282828210", Brand.MASTERCARD, 16, "CREDIT", "Standard Mastercard", id="mc"
        ),
        pytest.param(
            "30569309025904", Brand.DINERS, 14, "CREDIT", "Diners Club International", id="diners"
        ),
        pytest.param("3530111333300000", Brand.JCB, 16, "CREDIT", "JCB Standard", id="jcb"),
        pytest.param("6759649826438453", Brand.MAESTRO, 19, "DEBIT", "Maestro", id="maestro"),
        pytest.param(
            "6200000000000005", Brand.UNIONPAY, 19, "DEBIT", "UnionPay Classic", id="unionpay"
        ),
        pytest.param("9999999999999995", Brand.UNKNOWN, 19, "CREDIT", "Unknown", id="unknown"),
    ],
)
def test_bin_details_brand_defaults_for_other_bins(
    number: str, brand: Brand, max_length: int, funding: str, product: str
) -> None:
    details = bin_details(number)
    assert details == BinDetails(brand, max_length, funding, product, "Unknown", "US", "USD")


def test_bin_details_looks_only_at_the_first_digits() -> None:
    assert bin_details("411111") == bin_details("4111111111111111")
    assert bin_details("4111119999999999") == bin_details("4111111111111111")
