"""Weekly stock report, gathered concurrently from every warehouse."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

WAREHOUSES = ("AMS-1", "RTM-2", "UTR-1")


@dataclass
class WarehouseSummary:
    warehouse: str
    products: int
    below_reorder_point: int


async def summarize(warehouse: str) -> WarehouseSummary:
    """Summary of one warehouse (the real version queries its database)."""
    await asyncio.sleep(0)
    return WarehouseSummary(warehouse, products=120, below_reorder_point=4)


async def weekly_report() -> list[WarehouseSummary]:
    return list(await asyncio.gather(*(summarize(name) for name in WAREHOUSES)))


def render(summaries: list[WarehouseSummary]) -> str:
    lines = ["Warehouse  Products  Low stock"]
    for summary in summaries:
        lines.append(
            f"{summary.warehouse:<10} {summary.products:>8} {summary.below_reorder_point:>10}"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    print(render(asyncio.run(weekly_report())))
