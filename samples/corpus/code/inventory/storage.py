"""Stock levels persisted in SQLite."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

SCHEMA = """
CREATE TABLE IF NOT EXISTS stock (
    sku TEXT NOT NULL,
    warehouse TEXT NOT NULL,
    on_hand INTEGER NOT NULL DEFAULT 0,
    reserved INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (sku, warehouse)
)
"""


class StockStore:
    """Reads and writes stock levels; one connection per store."""

    def __init__(self, path: Path) -> None:
        self._db = sqlite3.connect(path)
        self._db.execute(SCHEMA)

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> StockStore:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """Commit on success, roll back on any error."""
        try:
            yield self._db
            self._db.commit()
        except Exception:
            self._db.rollback()
            raise

    def on_hand(self, sku: str, warehouse: str) -> int:
        row = self._db.execute(
            "SELECT on_hand FROM stock WHERE sku = ? AND warehouse = ?", (sku, warehouse)
        ).fetchone()
        return int(row[0]) if row else 0

    def add(self, sku: str, warehouse: str, quantity: int) -> None:
        with self.transaction() as db:
            db.execute(
                "INSERT INTO stock (sku, warehouse, on_hand) VALUES (?, ?, ?) "
                "ON CONFLICT (sku, warehouse) DO UPDATE SET on_hand = on_hand + excluded.on_hand",
                (sku, warehouse, quantity),
            )
