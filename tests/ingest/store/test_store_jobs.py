"""Jobs, seen marks, tombstones and recorded runs."""

from __future__ import annotations

import pytest

from ingest.errors import StoreError
from ingest.models import Counts, Failure, Outcome, RunReport
from ingest.store import SqlStore
from tests.support.store import SOURCE, MakeWrite, make_document


def test_begin_job_resumes_until_finished(store: SqlStore) -> None:
    first = store.begin_job(SOURCE, "key-a")
    assert store.begin_job(SOURCE, "key-a") == first
    assert store.begin_job(SOURCE, "key-b") != first
    assert store.begin_job("other", "key-a") != first
    store.finish_job(first)
    second = store.begin_job(SOURCE, "key-a")
    assert second != first
    assert len(second) == 32
    store.finish_job(first)  # finishing twice is harmless


def test_finish_unknown_job_is_an_error(store: SqlStore) -> None:
    with pytest.raises(StoreError, match="unknown job"):
        store.finish_job("nope")


def test_tombstone_only_unseen_live_items(store: SqlStore, make_write: MakeWrite) -> None:
    job1 = store.begin_job(SOURCE, "k")
    store.write_batch(
        SOURCE,
        job1,
        "run-1",
        [
            make_write("keep.md"),
            make_write("gone.md"),
            make_write("also-gone.md"),
            make_write("rejected.md", Outcome.REJECTED, errors=["x"]),
        ],
    )
    elsewhere = make_write("gone.md", document=make_document("gone.md", "x", source="other"))
    store.write_batch("other", job1, "run-1", [elsewhere])
    store.finish_job(job1)

    job2 = store.begin_job(SOURCE, "k")
    store.mark_seen(SOURCE, job2, ["keep.md"])
    assert store.tombstone_unseen(SOURCE, job2, "run-2") == [
        "also-gone.md",
        "gone.md",
        "rejected.md",
    ]

    states = store.lookup(SOURCE, ["keep.md", "gone.md", "rejected.md"])
    assert not states["keep.md"].deleted
    assert states["gone.md"].deleted
    assert states["gone.md"].outcome is Outcome.DELETED
    assert states["rejected.md"].deleted
    gone = store.get_document(SOURCE, "gone.md")
    assert gone is not None
    assert gone.deleted
    # Another source is not touched, and tombstones are not tombstoned again.
    assert not store.lookup("other", ["gone.md"])["gone.md"].deleted
    assert store.tombstone_unseen(SOURCE, job2, "run-3") == []
    assert store.check() == []


def test_written_items_count_as_seen(store: SqlStore, make_write: MakeWrite) -> None:
    job1 = store.begin_job(SOURCE, "k")
    store.write_batch(SOURCE, job1, "run-1", [make_write("a.md"), make_write("b.md")])
    store.finish_job(job1)
    job2 = store.begin_job(SOURCE, "k")
    store.write_batch(SOURCE, job2, "run-2", [make_write("a.md", Outcome.UNCHANGED)])
    assert store.tombstone_unseen(SOURCE, job2, "run-2") == ["b.md"]


def test_tombstoned_item_written_again_is_live(store: SqlStore, make_write: MakeWrite) -> None:
    job1 = store.begin_job(SOURCE, "k")
    store.write_batch(SOURCE, job1, "run-1", [make_write("a.md")])
    job2 = "job-2"
    assert store.tombstone_unseen(SOURCE, job2, "run-2") == ["a.md"]
    assert store.documents_count() == 0
    store.write_batch(SOURCE, "job-3", "run-3", [make_write("a.md", Outcome.NEW, text="back")])
    state = store.lookup(SOURCE, ["a.md"])["a.md"]
    assert not state.deleted
    assert state.outcome is Outcome.NEW
    document = store.get_document(SOURCE, "a.md")
    assert document is not None
    assert not document.deleted
    assert document.text == "back"
    assert store.documents_count() == 1
    assert store.check() == []


def test_deleted_outcome_in_a_batch_tombstones_the_item(
    store: SqlStore, make_write: MakeWrite
) -> None:
    store.write_batch(SOURCE, "job", "run-1", [make_write("a.md")])
    store.write_batch(SOURCE, "job", "run-2", [make_write("a.md", Outcome.DELETED)])
    assert store.lookup(SOURCE, ["a.md"])["a.md"].deleted
    assert store.documents_count() == 0
    assert store.documents_count(include_deleted=True) == 1


def test_record_run_upserts(store: SqlStore) -> None:
    report = RunReport(
        run_id="run-1",
        flow="ingest-fs",
        state="FAILED",
        counts=Counts(discovered=3, new=2, failed=1),
        failures=[Failure(uri="x", stage="fetch", error_type="E", message="m")],
        duration_s=1.5,
    )
    store.record_run(report, "job-1", SOURCE, {"path": "/data", "full": False})
    rerun = report.model_copy(update={"state": "COMPLETED", "failures": [], "duration_s": 2.0})
    store.record_run(rerun, "job-1", SOURCE, {"path": "/data", "full": True})

    stored = store.get_run("run-1")
    assert stored is not None
    assert stored.report == rerun
    assert stored.parameters == {"path": "/data", "full": True}
    assert stored.job_id == "job-1"
    assert [r.report.run_id for r in store.latest_runs(10)] == ["run-1"]
    assert store.get_run("missing") is None
