"""Prices: discounts, VAT and customer tiers."""

from __future__ import annotations

import functools
from decimal import ROUND_HALF_UP, Decimal

VAT_RATES = {"NL": Decimal("0.21"), "DE": Decimal("0.19"), "BE": Decimal("0.21")}
TIER_DISCOUNTS = {"standard": 0, "partner": 8, "university": 12}

CENT = Decimal("0.01")


def net_price(list_price: Decimal, discount_pct: int) -> Decimal:
    """Price after a percentage discount, rounded to cents."""
    if not 0 <= discount_pct <= 100:
        raise ValueError("discount must be between 0 and 100")
    return (list_price * (100 - discount_pct) / 100).quantize(CENT, ROUND_HALF_UP)


@functools.lru_cache(maxsize=128)
def vat_rate(country: str) -> Decimal:
    """VAT rate of a country; unknown countries are billed without VAT (export)."""
    return VAT_RATES.get(country.upper(), Decimal("0"))


def gross_price(list_price: Decimal, tier: str, country: str) -> Decimal:
    """What the customer pays: tier discount first, then VAT."""
    net = net_price(list_price, TIER_DISCOUNTS.get(tier, 0))
    return (net * (1 + vat_rate(country))).quantize(CENT, ROUND_HALF_UP)


class PriceList:
    """Prices of many products for one customer."""

    def __init__(self, tier: str, country: str) -> None:
        self.tier = tier
        self.country = country

    def __repr__(self) -> str:
        return f"PriceList(tier={self.tier!r}, country={self.country!r})"

    def price(self, list_price: Decimal) -> Decimal:
        return gross_price(list_price, self.tier, self.country)

    @classmethod
    def for_university(cls, country: str) -> PriceList:
        return cls("university", country)
