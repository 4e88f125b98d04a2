"""Several writers on one store at once, as several flow runs (processes, machines)
are: overlapping batches of one job end with each document and chunk once, the job
is shared, and nothing is lost. Runs on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from collections.abc import Callable

from ingest.models import Outcome
from ingest.store import SqlStore, open_store
from tests.support.store import SOURCE, MakeWrite, RawDatabase

WRITERS = 4


def _together(work: Callable[[int], None], count: int = WRITERS) -> None:
    """Run `work(i)` in `count` threads started at the same moment; re-raise errors."""
    errors: list[BaseException] = []
    barrier = threading.Barrier(count)

    def run(index: int) -> None:
        try:
            barrier.wait()
            work(index)
        except BaseException as exc:  # reported to the main thread
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []


def test_concurrent_runs_of_one_job_share_it(store: SqlStore, store_url: str) -> None:
    found: list[str] = []

    def begin(_: int) -> None:
        with open_store(store_url) as own:
            found.append(own.begin_job(SOURCE, "same-key"))

    _together(begin)
    assert len(set(found)) == 1
    assert store.begin_job(SOURCE, "same-key") == found[0]


def test_overlapping_batches_store_each_document_once(
    store: SqlStore, store_url: str, db: RawDatabase, make_write: MakeWrite
) -> None:
    # Every writer writes all 60 documents, in batches cut differently and in a
    # different order, with chunk counts that differ per writer.
    uris = [f"doc{i:03}.md" for i in range(60)]
    job = store.begin_job(SOURCE, "k")

    def write_all(index: int) -> None:
        order = uris[index * 7 :] + uris[: index * 7]
        if index % 2:
            order.reverse()
        size = 5 + index * 3
        with open_store(store_url) as own:
            for start in range(0, len(order), size):
                batch = [
                    make_write(uri, text=f"text of {uri}", n_chunks=1 + (index + n) % 4)
                    for n, uri in enumerate(order[start : start + size])
                ]
                own.write_batch(SOURCE, job, f"run-{index}", batch)
            own.mark_seen(SOURCE, job, order)

    _together(write_all)

    assert store.documents_count() == 60
    assert db.rows("SELECT count(*) FROM items") == [(60,)]
    assert db.rows("SELECT count(*), count(DISTINCT uri) FROM documents") == [(60, 60)]
    for record in store.iter_export():
        # The chunks of one write, never a mix of two writers' chunks.
        assert [c.seq for c in record.chunks] == list(range(len(record.chunks)))
        assert {c.text.rsplit(" part ", 1)[0] for c in record.chunks} <= {record.text}
    assert store.tombstone_unseen(SOURCE, job, "run-x") == []
    assert store.check() == []


def test_unchanged_and_new_writes_racing_lose_nothing(
    store: SqlStore, store_url: str, make_write: MakeWrite
) -> None:
    # Half the writers report items unchanged (no hash: keep the known one), the
    # others write them new; the stored hash is never lost.
    uris = [f"u{i:02}.md" for i in range(30)]
    store.write_batch(SOURCE, "job", "run-0", [make_write(uri) for uri in uris])

    def write(index: int) -> None:
        with open_store(store_url) as own:
            for _ in range(3):
                if index % 2:
                    batch = [make_write(uri, Outcome.UNCHANGED, content_hash=None) for uri in uris]
                else:
                    batch = [make_write(uri) for uri in uris]
                own.write_batch(SOURCE, "job", f"run-{index}", batch)

    _together(write)
    states = store.lookup(SOURCE, uris)
    assert len(states) == 30
    assert all(state.content_hash is not None for state in states.values())
    assert all(not state.deleted for state in states.values())
    assert store.documents_count() == 30
    assert store.check() == []


def test_tombstones_spare_items_another_run_of_the_job_wrote(
    store: SqlStore, make_write: MakeWrite
) -> None:
    # Run A of the job tombstones what the job did not see; run B of the same job
    # wrote b.md meanwhile (so it was seen): only the truly unseen item goes.
    job = store.begin_job(SOURCE, "k")
    store.write_batch(SOURCE, "old-job", "run-0", [make_write("a.md"), make_write("b.md")])
    store.write_batch(SOURCE, job, "run-b", [make_write("b.md", Outcome.UNCHANGED)])
    assert store.tombstone_unseen(SOURCE, job, "run-a") == ["a.md"]
    assert not store.lookup(SOURCE, ["b.md"])["b.md"].deleted
    assert store.check() == []
