"""The persistent store of documents, chunks, item states, jobs and runs:
`open_store(url)` picks the backend from the URL (SQLite by default)."""

from __future__ import annotations

from .base import IntegrityProblem, ItemWrite, Store, StoredLinks, StoredState
from .schema import SCHEMA_VERSION
from .sql import SqlStore, StoredRun
from .urls import StoreLocation, default_store_path, parse_store_url, redact, split_password

__all__ = [
    "SCHEMA_VERSION",
    "IntegrityProblem",
    "ItemWrite",
    "SqlStore",
    "Store",
    "StoreLocation",
    "StoredLinks",
    "StoredRun",
    "StoredState",
    "default_store_path",
    "open_store",
    "parse_store_url",
    "redact",
    "split_password",
]


def open_store(url: str | None = None) -> SqlStore:
    """Open (creating or migrating) the store at `url`: None for the default
    SQLite file, a path, `sqlite:///...` or `postgresql://...`.

    Raises ConfigurationError for an unsupported URL and StoreError when the
    store cannot be opened.
    """
    return SqlStore(parse_store_url(url))
