"""The store on SQLAlchemy Core (SQLite, PostgreSQL by URL)."""

from __future__ import annotations

from .store import SqlStore, StoredRun

__all__ = ["SqlStore", "StoredRun"]
