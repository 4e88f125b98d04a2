"""Inventory management for Brightwater Labs: stock levels, pricing and reports."""

from .models import Product, StockLevel
from .pricing import net_price

__all__ = ["Product", "StockLevel", "net_price"]
__version__ = "2.3.1"
