"""check(): a consistent store reports nothing; damage made with raw SQL is found."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from conftest import SOURCE, MakeWrite

from ingest.models import Outcome, document_id
from ingest.store import SqlStore


@contextmanager
def raw(path: Path) -> Iterator[sqlite3.Connection]:
    """A connection without foreign keys, to make damage the store itself prevents."""
    db = sqlite3.connect(path)
    db.execute("PRAGMA foreign_keys = OFF")
    try:
        with db:
            yield db
    finally:
        db.close()


def _codes(store: SqlStore) -> list[str]:
    return sorted(p.code for p in store.check())


def test_consistent_store_has_no_problems(store: SqlStore, make_write: MakeWrite) -> None:
    assert store.check() == []
    store.write_batch(
        SOURCE,
        "job",
        "run",
        [
            make_write("a.md", n_chunks=3),
            make_write("b.md", n_chunks=0),
            make_write("c.md", Outcome.REJECTED, errors=["bad"]),
        ],
    )
    store.tombstone_unseen(SOURCE, "job-2", "run-2")
    assert store.check() == []


def test_orphan_chunk_and_seq_gap_are_reported(
    store: SqlStore, store_path: Path, make_write: MakeWrite
) -> None:
    store.write_batch(SOURCE, "job", "run", [make_write("a.md", n_chunks=3)])
    a_id = document_id(SOURCE, "a.md")
    with raw(store_path) as db:
        db.execute("INSERT INTO chunks VALUES ('no-such-doc', 0, 'x', '{}')")
        db.execute("DELETE FROM chunks WHERE document_id = ? AND seq = 1", (a_id,))
    problems = {p.code: p.message for p in store.check()}
    assert set(problems) == {"orphan_chunks", "chunk_seq_gap"}
    assert "no-such-doc" in problems["orphan_chunks"]
    assert a_id in problems["chunk_seq_gap"]


def test_document_and_item_mismatches_are_reported(
    store: SqlStore, store_path: Path, make_write: MakeWrite
) -> None:
    store.write_batch(SOURCE, "job", "run", [make_write("a.md"), make_write("b.md")])
    with raw(store_path) as db:
        db.execute("DELETE FROM items WHERE uri = 'a.md'")
        db.execute("UPDATE documents SET deleted = 1 WHERE uri = 'b.md'")
    assert _codes(store) == ["document_without_item", "item_without_document"]


def test_many_problems_are_summarised(store: SqlStore, store_path: Path) -> None:
    with raw(store_path) as db:
        db.executemany(
            "INSERT INTO chunks VALUES (?, 0, 'x', '{}')", [(f"gone-{i}",) for i in range(12)]
        )
    (problem,) = store.check()
    assert problem.message.startswith("12 ")
    assert problem.message.endswith("and 7 more")
