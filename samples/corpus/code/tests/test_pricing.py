"""Tests of inventory.pricing."""

from decimal import Decimal

import pytest
from inventory.pricing import PriceList, gross_price, net_price, vat_rate


@pytest.mark.parametrize(
    ("price", "discount", "expected"),
    [("100.00", 0, "100.00"), ("100.00", 12, "88.00"), ("19.99", 8, "18.39")],
)
def test_net_price(price: str, discount: int, expected: str) -> None:
    assert net_price(Decimal(price), discount) == Decimal(expected)


def test_discount_out_of_range() -> None:
    with pytest.raises(ValueError, match="between 0 and 100"):
        net_price(Decimal("10"), 120)


def test_unknown_country_has_no_vat() -> None:
    assert vat_rate("us") == Decimal("0")


def test_university_price_list() -> None:
    prices = PriceList.for_university("NL")
    assert prices.price(Decimal("100.00")) == gross_price(Decimal("100.00"), "university", "NL")
    assert prices.price(Decimal("100.00")) == Decimal("106.48")
