"""Schema creation, versioning, connection settings per backend, concurrent first
opens and the refusal of newer schemas."""

from __future__ import annotations

import threading

import pytest

from ingest.errors import StoreError
from ingest.models import Outcome
from ingest.store import SCHEMA_VERSION, SqlStore, open_store
from tests.support.store import MakeWrite, RawDatabase

TABLES = {"meta", "jobs", "items", "documents", "chunks", "failures", "runs"}


def test_schema_is_created_and_versioned(store: SqlStore, db: RawDatabase) -> None:
    assert TABLES <= db.tables()
    assert db.rows("SELECT value FROM meta WHERE key = 'schema_version'") == [
        (str(SCHEMA_VERSION),)
    ]
    assert "ix_items_source_seen" in db.indexes("items")


def test_reopening_keeps_the_data(store_url: str) -> None:
    with open_store(store_url) as store:
        job = store.begin_job("docs", "k")
    with open_store(store_url) as store:
        assert store.begin_job("docs", "k") == job
        assert store.check() == []


def test_concurrent_first_opens_create_the_schema_once(store_url: str) -> None:
    errors: list[BaseException] = []
    barrier = threading.Barrier(4)

    def open_one() -> None:
        try:
            barrier.wait()
            with open_store(store_url) as opened:
                assert opened.check() == []
        except BaseException as exc:  # reported to the main thread
            errors.append(exc)

    threads = [threading.Thread(target=open_one) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with open_store(store_url) as store:
        raw = RawDatabase(store_url)
        try:
            assert raw.rows("SELECT count(*) FROM meta") == [(1,)]
        finally:
            raw.close()
        assert store.check() == []


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_sqlite_connection_settings(store: SqlStore, db: RawDatabase) -> None:
    assert db.rows("PRAGMA journal_mode") == [("wal",)]
    engine = store._engine  # the settings are per connection: look at the store's own
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30_000
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 1  # NORMAL


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_postgres_connection_and_column_settings(store: SqlStore, db: RawDatabase) -> None:
    with store._engine.connect() as conn:
        assert conn.exec_driver_sql("SHOW lock_timeout").scalar() == "30s"
    # Text sorts by code point as on SQLite, whatever the database's locale.
    collations = db.rows(
        "SELECT column_name, collation_name FROM information_schema.columns "
        "WHERE table_schema = current_schema() AND table_name = 'documents' "
        "AND column_name IN ('source', 'uri') ORDER BY column_name"
    )
    assert collations == [("source", "C"), ("uri", "C")]
    types = dict(
        db.rows(
            "SELECT column_name, data_type FROM information_schema.columns "
            "WHERE table_schema = current_schema() AND table_name = 'documents'"
        )
    )
    assert types["metadata"] == "jsonb"
    assert types["updated_at"] == "timestamp with time zone"
    assert types["deleted"] == "boolean"


def test_newer_schema_version_is_refused(store: SqlStore, db: RawDatabase, store_url: str) -> None:
    store.close()
    db.execute(
        "UPDATE meta SET value = :v WHERE key = 'schema_version'", {"v": str(SCHEMA_VERSION + 1)}
    )
    with pytest.raises(StoreError, match="newer than version") as info:
        open_store(store_url)
    assert info.value.retryable is False


def test_check_reports_a_schema_version_mismatch(store: SqlStore, db: RawDatabase) -> None:
    db.execute("UPDATE meta SET value = '0' WHERE key = 'schema_version'")
    assert [p.code for p in store.check()] == ["schema_version"]


def test_a_version_3_store_migrates_and_reprocesses_its_documents_once(
    store: SqlStore, db: RawDatabase, store_url: str, make_write: MakeWrite
) -> None:
    from ingest.freshness import needs_reprocessing

    job = store.begin_job("docs", "k")
    store.write_batch("docs", job, "r1", [make_write("a"), make_write("b", Outcome.REJECTED)])
    store.close()
    # Version 3's tables: documents without the processor that made them.
    db.execute("ALTER TABLE documents DROP COLUMN processor")
    db.execute("UPDATE meta SET value = '3' WHERE key = 'schema_version'")
    with open_store(store_url) as migrated:
        assert migrated.check() == []
        states = migrated.lookup("docs", ["a", "b"])
        assert (states["a"].processor, states["a"].content_type) == (None, "text/markdown")
        assert needs_reprocessing(states["a"]), "made by an unknown processor version"
        assert not needs_reprocessing(states["b"]), "a rejected item has no document"
        migrated.write_batch(
            "docs", job, "r2", [make_write("a", Outcome.UPDATED, processor="markdown:9")]
        )
        assert migrated.lookup("docs", ["a"])["a"].processor == "markdown:9"
        assert [r.text for r in migrated.iter_export()] == ["hello"]
    assert db.rows("SELECT value FROM meta WHERE key = 'schema_version'") == [
        (str(SCHEMA_VERSION),)
    ]
    assert SCHEMA_VERSION == 4
