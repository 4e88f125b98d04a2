"""Schema creation, versioning, SQLite settings and the refusal of newer schemas."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from ingest.errors import StoreError
from ingest.store import SCHEMA_VERSION, SqlStore, open_store


def test_schema_is_created_and_versioned(store: SqlStore, store_path: Path) -> None:
    with sqlite3.connect(store_path) as db:
        tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        version = db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
        indexes = {
            row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type='index'")
        }
    assert {"meta", "jobs", "items", "documents", "chunks", "failures", "runs"} <= tables
    assert version == (str(SCHEMA_VERSION),)
    assert "ix_items_source_seen" in indexes


def test_reopening_keeps_the_data(store_path: Path) -> None:
    with open_store(str(store_path)) as store:
        job = store.begin_job("docs", "k")
    with open_store(str(store_path)) as store:
        assert store.begin_job("docs", "k") == job
        assert store.check() == []


def test_sqlite_connection_settings(store: SqlStore, store_path: Path) -> None:
    with sqlite3.connect(store_path) as db:
        assert db.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    engine = store._engine  # the settings are per connection: look at the store's own
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30_000
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 1  # NORMAL


def test_newer_schema_version_is_refused(store_path: Path) -> None:
    open_store(str(store_path)).close()
    with sqlite3.connect(store_path) as db:
        db.execute(
            "UPDATE meta SET value = ? WHERE key = 'schema_version'", (str(SCHEMA_VERSION + 1),)
        )
    with pytest.raises(StoreError, match="newer than version") as info:
        open_store(str(store_path))
    assert info.value.retryable is False


def test_check_reports_a_schema_version_mismatch(store: SqlStore, store_path: Path) -> None:
    with sqlite3.connect(store_path) as db:
        db.execute("UPDATE meta SET value = '0' WHERE key = 'schema_version'")
    assert [p.code for p in store.check()] == ["schema_version"]
