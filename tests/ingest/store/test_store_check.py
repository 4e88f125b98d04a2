"""check(): a consistent store reports nothing; damage made with raw SQL is found."""

from __future__ import annotations

from ingest.models import Outcome, document_id
from ingest.store import SqlStore
from tests.support.store import SOURCE, MakeWrite, RawDatabase


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
    store: SqlStore, db: RawDatabase, make_write: MakeWrite
) -> None:
    store.write_batch(SOURCE, "job", "run", [make_write("a.md", n_chunks=3)])
    a_id = document_id(SOURCE, "a.md")
    db.drop_foreign_keys()
    db.execute("INSERT INTO chunks VALUES ('no-such-doc', 0, 'x', '{}')")
    db.execute("DELETE FROM chunks WHERE document_id = :id AND seq = 1", {"id": a_id})
    problems = {p.code: p.message for p in store.check()}
    assert set(problems) == {"orphan_chunks", "chunk_seq_gap"}
    assert "no-such-doc" in problems["orphan_chunks"]
    assert a_id in problems["chunk_seq_gap"]


def test_document_and_item_mismatches_are_reported(
    store: SqlStore, db: RawDatabase, make_write: MakeWrite
) -> None:
    store.write_batch(SOURCE, "job", "run", [make_write("a.md"), make_write("b.md")])
    db.execute("DELETE FROM items WHERE uri = 'a.md'")
    db.execute("UPDATE documents SET deleted = TRUE WHERE uri = 'b.md'")
    assert _codes(store) == ["document_without_item", "item_without_document"]


def test_many_problems_are_summarised(store: SqlStore, db: RawDatabase) -> None:
    db.drop_foreign_keys()
    db.execute(
        "INSERT INTO chunks VALUES (:id, 0, 'x', '{}')", [{"id": f"gone-{i}"} for i in range(12)]
    )
    (problem,) = store.check()
    assert problem.message.startswith("12 ")
    assert problem.message.endswith("and 7 more")
