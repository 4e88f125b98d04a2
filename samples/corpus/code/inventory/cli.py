"""Command line for warehouse staff: `inventory receive SKU QTY`, `inventory show SKU`."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .storage import StockStore


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="inventory")
    parser.add_argument("--db", type=Path, default=Path("stock.sqlite"))
    parser.add_argument("--warehouse", default="AMS-1")
    commands = parser.add_subparsers(dest="command", required=True)
    receive = commands.add_parser("receive", help="book incoming goods")
    receive.add_argument("sku")
    receive.add_argument("quantity", type=int)
    show = commands.add_parser("show", help="print the stock of one product")
    show.add_argument("sku")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    with StockStore(args.db) as store:
        if args.command == "receive":
            store.add(args.sku, args.warehouse, args.quantity)
        print(f"{args.sku}: {store.on_hand(args.sku, args.warehouse)} on hand")
    return 0


if __name__ == "__main__":
    sys.exit(main())
