"""write_batch, lookup and the per-outcome semantics of item states."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from ingest.errors import StoreError
from ingest.models import Failure, Outcome
from ingest.store import SqlStore, open_store, parse_store_url
from tests.support.store import SOURCE, MakeWrite, RawDatabase, make_document


def test_new_document_is_found_by_lookup(store: SqlStore, make_write: MakeWrite) -> None:
    job = store.begin_job(SOURCE, "k")
    write = make_write("a.md")
    store.write_batch(SOURCE, job, "run-1", [write])

    states = store.lookup(SOURCE, ["a.md", "missing.md"])
    assert set(states) == {"a.md"}
    state = states["a.md"]
    assert state.fingerprint == write.fingerprint
    assert state.content_hash == write.content_hash
    assert state.outcome is Outcome.NEW
    assert state.job_id == job
    assert not state.deleted
    document = store.get_document(SOURCE, "a.md")
    assert document is not None
    assert [c.seq for c in document.chunks] == [0, 1]
    assert document.run_id == "run-1"
    assert document.updated_at.tzinfo is not None


def test_lookup_handles_more_uris_than_one_in_list(store: SqlStore, make_write: MakeWrite) -> None:
    job = store.begin_job(SOURCE, "k")
    writes = [make_write(f"f{i:04}.md", n_chunks=0) for i in range(1_200)]
    store.write_batch(SOURCE, job, "run-1", writes)
    states = store.lookup(SOURCE, (f"f{i:04}.md" for i in range(0, 1_300)))
    assert len(states) == 1_200


def test_same_batch_twice_is_idempotent(
    store: SqlStore, db: RawDatabase, make_write: MakeWrite
) -> None:
    job = store.begin_job(SOURCE, "k")
    batch = [make_write("a.md", n_chunks=3), make_write("b.md", n_chunks=1)]
    store.write_batch(SOURCE, job, "run-1", batch)
    first_docs = db.rows("SELECT id, source, uri, text, metadata FROM documents ORDER BY id")
    first_chunks = db.rows("SELECT * FROM chunks ORDER BY document_id, seq")
    store.write_batch(SOURCE, job, "run-1", batch)
    assert (
        db.rows("SELECT id, source, uri, text, metadata FROM documents ORDER BY id") == first_docs
    )
    assert db.rows("SELECT * FROM chunks ORDER BY document_id, seq") == first_chunks
    assert len(first_chunks) == 4
    assert store.check() == []


def test_update_replaces_chunks_without_leaving_stale_ones(
    store: SqlStore, make_write: MakeWrite
) -> None:
    job = store.begin_job(SOURCE, "k")
    store.write_batch(SOURCE, job, "run-1", [make_write("a.md", text="v1", n_chunks=5)])
    store.write_batch(
        SOURCE, job, "run-2", [make_write("a.md", Outcome.UPDATED, text="v2", n_chunks=2)]
    )
    document = store.get_document(SOURCE, "a.md")
    assert document is not None
    assert document.text == "v2"
    assert [(c.seq, c.text) for c in document.chunks] == [(0, "v2 part 0"), (1, "v2 part 1")]
    assert store.lookup(SOURCE, ["a.md"])["a.md"].outcome is Outcome.UPDATED
    assert store.check() == []


def test_unchanged_updates_the_state_but_not_the_document(
    store: SqlStore, make_write: MakeWrite
) -> None:
    job = store.begin_job(SOURCE, "k")
    store.write_batch(SOURCE, job, "run-1", [make_write("a.md")])
    before = store.get_document(SOURCE, "a.md")
    assert before is not None
    next_job = "job-2"
    store.write_batch(
        SOURCE,
        next_job,
        "run-2",
        [make_write("a.md", Outcome.UNCHANGED, fingerprint="fp-new", content_hash=None)],
    )
    state = store.lookup(SOURCE, ["a.md"])["a.md"]
    assert state.outcome is Outcome.UNCHANGED
    assert state.job_id == next_job
    assert state.fingerprint == "fp-new"
    assert state.content_hash == before.content_hash  # kept when not given
    assert store.get_document(SOURCE, "a.md") == before
    assert store.check() == []


def test_rejected_item_is_recorded_with_its_reasons(store: SqlStore, make_write: MakeWrite) -> None:
    job = store.begin_job(SOURCE, "k")
    store.write_batch(
        SOURCE, job, "run-1", [make_write("bad.json", Outcome.REJECTED, errors=["json: bad"])]
    )
    state = store.lookup(SOURCE, ["bad.json"])["bad.json"]
    assert state.outcome is Outcome.REJECTED
    assert state.errors == ["json: bad"]
    assert state.fingerprint == "fp-bad.json-hello"
    assert store.get_document(SOURCE, "bad.json") is None
    # A later unchanged run of the rejected item keeps it consistent.
    store.write_batch(SOURCE, "job-2", "run-2", [make_write("bad.json", Outcome.UNCHANGED)])
    assert store.lookup(SOURCE, ["bad.json"])["bad.json"].errors == ["json: bad"]
    assert store.check() == []


def test_rejected_update_keeps_the_earlier_document(store: SqlStore, make_write: MakeWrite) -> None:
    job = store.begin_job(SOURCE, "k")
    store.write_batch(SOURCE, job, "run-1", [make_write("a.md", text="good")])
    store.write_batch(
        SOURCE, job, "run-2", [make_write("a.md", Outcome.REJECTED, text="bad", errors=["x"])]
    )
    document = store.get_document(SOURCE, "a.md")
    assert document is not None
    assert document.text == "good"
    assert not document.deleted
    assert store.lookup(SOURCE, ["a.md"])["a.md"].outcome is Outcome.REJECTED
    assert store.check() == []


def test_failed_item_records_a_failure_and_leaves_the_state(
    store: SqlStore, make_write: MakeWrite
) -> None:
    job = store.begin_job(SOURCE, "k")
    store.write_batch(SOURCE, job, "run-1", [make_write("a.md")])
    before = store.lookup(SOURCE, ["a.md"])
    failure = Failure(
        uri="a.md", stage="fetch", error_type="SourceAccessError", message="gone", retryable=True
    )
    store.write_batch(
        SOURCE,
        job,
        "run-2",
        [
            make_write("a.md", Outcome.FAILED, failure=failure),
            make_write("b.md", Outcome.FAILED, failure=failure.model_copy(update={"uri": "b.md"})),
        ],
    )
    assert store.lookup(SOURCE, ["a.md", "b.md"]) == before
    assert store.failures_for("run-2") == [failure, failure.model_copy(update={"uri": "b.md"})]


def test_replayed_new_item_without_document_keeps_the_document(
    store: SqlStore, make_write: MakeWrite
) -> None:
    # A retry of the same job reports an item as recorded, without re-reading it.
    job = store.begin_job(SOURCE, "k")
    store.write_batch(SOURCE, job, "run-1", [make_write("a.md")])
    store.write_batch(SOURCE, job, "run-2", [make_write("a.md", document=None)])
    state = store.lookup(SOURCE, ["a.md"])["a.md"]
    assert state.outcome is Outcome.NEW
    document = store.get_document(SOURCE, "a.md")
    assert document is not None
    assert document.run_id == "run-1"
    assert len(document.chunks) == 2
    assert store.check() == []


def test_failing_batch_rolls_back_entirely(
    store: SqlStore, db: RawDatabase, make_write: MakeWrite
) -> None:
    job = store.begin_job(SOURCE, "k")
    store.write_batch(SOURCE, job, "run-1", [make_write("keep.md", text="v1")])
    broken = make_write("broken.md")
    assert broken.document is not None
    broken.document.chunks[1].seq = 0  # duplicate (document_id, seq)
    batch = [
        make_write("keep.md", Outcome.UPDATED, text="v2"),
        make_write("other.md"),
        make_write("rej.md", Outcome.REJECTED, errors=["no"]),
        broken,
    ]
    with pytest.raises(StoreError, match="write_batch failed on store") as info:
        store.write_batch(SOURCE, job, "run-2", batch)
    assert info.value.retryable is False
    assert isinstance(info.value.__cause__, Exception)
    assert set(store.lookup(SOURCE, ["keep.md", "other.md", "rej.md", "broken.md"])) == {"keep.md"}
    kept = store.get_document(SOURCE, "keep.md")
    assert kept is not None
    assert kept.text == "v1"
    assert db.rows("SELECT count(*) FROM documents") == [(1,)]
    assert db.rows("SELECT count(*) FROM chunks") == [(2,)]
    assert store.check() == []


def test_document_of_another_item_is_refused(store: SqlStore, make_write: MakeWrite) -> None:
    write = make_write("a.md")
    with pytest.raises(StoreError, match="does not match"):
        store.write_batch(SOURCE, "job", "run", [write.model_copy(update={"uri": "b.md"})])


@contextmanager
def _write_lock_held(db: RawDatabase, store_url: str) -> Iterator[None]:
    """Another connection holds what a writer needs until the block ends."""
    if db.dialect == "sqlite":
        holder = sqlite3.connect(store_url, isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")
        try:
            yield
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        return
    with db.engine.connect() as conn:
        conn.exec_driver_sql("LOCK TABLE items, documents IN ACCESS EXCLUSIVE MODE")
        yield
        conn.rollback()


def test_locked_database_is_a_retryable_store_error(
    store: SqlStore,
    db: RawDatabase,
    store_url: str,
    make_write: MakeWrite,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("ingest.store.engine.BUSY_TIMEOUT_MS", 50)
    store.close()  # new connections pick up the short timeout
    expected = "database is locked" if db.dialect == "sqlite" else "lock timeout"
    with _write_lock_held(db, store_url):
        with pytest.raises(StoreError, match=expected) as info:
            store.write_batch(SOURCE, "job", "run", [make_write("a.md")])
    assert info.value.retryable is True
    assert info.value.stage == "store"
    store.write_batch(SOURCE, "job", "run", [make_write("a.md")])  # free again: it works
    assert store.documents_count() == 1


def test_document_id_of_another_item_is_refused(store: SqlStore, make_write: MakeWrite) -> None:
    first = make_write("a.md")
    store.write_batch(SOURCE, "job", "run-1", [first])
    assert first.document is not None
    clash = make_write("b.md")
    assert clash.document is not None
    clash.document.id = first.document.id
    with pytest.raises(StoreError, match="already belongs to") as info:
        store.write_batch(SOURCE, "job", "run-2", [clash])
    assert info.value.retryable is False
    assert store.get_document(SOURCE, "a.md") is not None
    assert store.lookup(SOURCE, ["b.md"]) == {}


def test_concurrent_writers_on_one_store_wait_for_each_other(
    store_url: str, make_write: MakeWrite
) -> None:
    # Two stores (two engines, as two processes would have) writing at once.
    errors: list[BaseException] = []

    def work(source: str) -> None:
        try:
            with open_store(store_url) as own:
                job = own.begin_job(source, "k")
                for i in range(15):
                    uri = f"{i}.md"
                    write = make_write(uri, document=make_document(uri, "t", 1, source=source))
                    own.lookup(source, [uri])
                    own.write_batch(source, job, "run", [write])
                own.mark_seen(source, job, [f"{i}.md" for i in range(15)])
                assert own.tombstone_unseen(source, job, "run") == []
        except BaseException as exc:  # reported to the main thread
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(name,)) for name in ("s1", "s2", "s3")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with open_store(store_url) as check:
        assert check.documents_count() == 45
        assert check.check() == []


def test_batch_beyond_one_statements_parameter_limit(
    store: SqlStore, make_write: MakeWrite
) -> None:
    # PostgreSQL takes at most 65535 parameters per statement, SQLite 32766: 800
    # documents of 21 chunks (16,800 chunk rows of 4 columns) still go in one batch.
    writes = [make_write(f"big{i:04}.md", text=f"t{i}", n_chunks=21) for i in range(800)]
    store.write_batch(SOURCE, "job", "run", writes)
    assert store.documents_count() == 800
    assert sum(len(r.chunks) for r in store.iter_export()) == 16_800
    assert store.check() == []


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_writes_stop_when_the_sqlite_file_is_removed_or_replaced(
    store: SqlStore, store_url: str, make_write: MakeWrite
) -> None:
    """An open SQLite store whose file is deleted would commit into the unlinked file and
    lose every item it reports stored: the write fails instead, naming the file."""
    store.write_batch(SOURCE, "job", "run", [make_write("a.md")])
    path = parse_store_url(store_url).sqlite_path
    assert path is not None
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    with pytest.raises(StoreError, match="removed or replaced") as info:
        store.write_batch(SOURCE, "job", "run", [make_write("b.md")])
    assert str(path) in str(info.value)
    assert info.value.retryable is False
    with open_store(store_url) as fresh:  # a new file at the path: a re-run stores there
        fresh.write_batch(SOURCE, "job", "run-2", [make_write("b.md")])
        assert fresh.documents_count() == 1
