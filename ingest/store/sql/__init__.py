"""The store on SQLAlchemy Core (SQLite, PostgreSQL by URL)."""

from __future__ import annotations

from .runs import StoredRun
from .store import SqlStore

__all__ = ["SqlStore", "StoredRun"]
