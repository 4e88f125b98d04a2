"""Domain objects of the inventory: products and how many of them we hold."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal


@dataclass(frozen=True)
class Product:
    """A product we sell, identified by its SKU."""

    sku: str
    name: str
    list_price: Decimal
    category: str = "general"
    hazardous: bool = False

    def label(self) -> str:
        """The name printed on shelf labels."""
        suffix = " (hazardous)" if self.hazardous else ""
        return f"{self.sku} - {self.name}{suffix}"


@dataclass
class StockLevel:
    """How many units of one product a warehouse holds."""

    product: Product
    warehouse: str
    on_hand: int = 0
    reserved: int = 0
    reorder_point: int = 5
    history: list[tuple[date, int]] = field(default_factory=list)

    @property
    def available(self) -> int:
        return self.on_hand - self.reserved

    @property
    def needs_reorder(self) -> bool:
        return self.available <= self.reorder_point

    def receive(self, quantity: int, when: date) -> None:
        """Book incoming goods."""
        if quantity <= 0:
            raise ValueError("quantity must be positive")
        self.on_hand += quantity
        self.history.append((when, quantity))

    def reserve(self, quantity: int) -> None:
        """Hold units for an order that is not shipped yet."""
        if quantity > self.available:
            raise ValueError(f"only {self.available} units of {self.product.sku} available")
        self.reserved += quantity
