"""`run_batch` without Prefect: outcomes, idempotence, resume, change detection."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from ingest.models import Outcome
from ingest.pipeline import BatchConfig, BatchContext, run_batch
from ingest.sources.filesystem import FilesystemSource, FilesystemSourceConfig
from ingest.store import open_store
from ingest.store.sql import SqlStore


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    root = tmp_path / "docs"
    root.mkdir()
    (root / "a.md").write_text("# A\n\nAlpha.\n\n## More\n\nMore alpha.\n")
    (root / "b.txt").write_text("Bravo.\n")
    (root / "c.py").write_text("def charlie():\n    return 3\n")
    return root


@pytest.fixture
def store(tmp_path: Path) -> SqlStore:
    opened = open_store(str(tmp_path / "store.db"))
    yield opened  # type: ignore[misc]
    opened.close()


def _context(folder: Path, store: SqlStore, job: str | None = None, **kw: object) -> BatchContext:
    source = FilesystemSource(FilesystemSourceConfig(root=folder))
    job_id = job or store.begin_job(source.source_id, "k")
    return BatchContext(
        source=source, store=store, config=BatchConfig(job_id=job_id, run_id="r1", **kw)
    )


def _items(ctx: BatchContext) -> list:  # type: ignore[type-arg]
    return [item for batch in ctx.source.discover(100) for item in batch]


def _chunk_rows(store: SqlStore) -> int:
    return sum(len(record.chunks) for record in store.iter_export(include_deleted=True))


def test_new_items_then_the_same_batch_again_is_idempotent(folder: Path, store: SqlStore) -> None:
    ctx = _context(folder, store)
    first = run_batch(_items(ctx), ctx)
    assert first.counts.new == 3
    chunks = _chunk_rows(store)
    assert chunks >= 3

    again = run_batch(_items(ctx), ctx)  # same job: a retry after a crash
    assert again.counts.new == 3, "a retried batch reports what the job recorded"
    assert _chunk_rows(store) == chunks
    assert store.documents_count() == 3
    assert store.check() == []


def test_a_new_job_sees_unchanged_items_without_reading_them(
    folder: Path, store: SqlStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    ctx = _context(folder, store)
    run_batch(_items(ctx), ctx)
    store.finish_job(ctx.config.job_id)

    def no_read(*_: object) -> bytes:
        raise AssertionError("an unchanged item must not be read")

    ctx2 = _context(folder, store)
    assert ctx2.config.job_id != ctx.config.job_id
    monkeypatch.setattr(FilesystemSource, "fetch", no_read)
    result = run_batch(_items(ctx2), ctx2)
    assert result.counts.unchanged == 3


def test_touched_but_identical_content_is_unchanged(folder: Path, store: SqlStore) -> None:
    ctx = _context(folder, store)
    run_batch(_items(ctx), ctx)
    store.finish_job(ctx.config.job_id)
    later = time.time_ns() + 5_000_000_000
    os.utime(folder / "b.txt", ns=(later, later))
    ctx2 = _context(folder, store)
    result = run_batch(_items(ctx2), ctx2)
    assert result.counts.unchanged == 3
    state = store.lookup(ctx.source.source_id, [(folder / "b.txt").as_uri()])
    assert state[(folder / "b.txt").as_uri()].fingerprint.endswith(str(later))


def test_changed_content_is_updated_and_replaces_chunks(folder: Path, store: SqlStore) -> None:
    ctx = _context(folder, store)
    run_batch(_items(ctx), ctx)
    store.finish_job(ctx.config.job_id)
    (folder / "a.md").write_text("# A\n\nOnly one section now.\n")
    ctx2 = _context(folder, store)
    result = run_batch(_items(ctx2), ctx2)
    assert (result.counts.updated, result.counts.unchanged) == (1, 2)
    doc = store.get_document(ctx.source.source_id, (folder / "a.md").as_uri())
    assert doc is not None
    assert "Only one section" in doc.text
    assert [c.seq for c in doc.chunks] == list(range(len(doc.chunks)))
    assert all("alpha" not in c.text for c in doc.chunks)


def test_full_reprocesses_everything(folder: Path, store: SqlStore) -> None:
    ctx = _context(folder, store)
    run_batch(_items(ctx), ctx)
    store.finish_job(ctx.config.job_id)
    ctx2 = _context(folder, store, full=True)
    assert run_batch(_items(ctx2), ctx2).counts.updated == 3


def test_a_processor_crash_fails_only_its_item(
    folder: Path, store: SqlStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ingest.processors.text import TextProcessor

    def boom(*_: object) -> None:
        raise RuntimeError("processor bug")

    monkeypatch.setattr(TextProcessor, "process", boom)
    ctx = _context(folder, store)
    result = run_batch(_items(ctx), ctx)
    assert (result.counts.new, result.counts.failed) == (2, 1)
    [failure] = result.failures
    assert failure.uri.endswith("b.txt")
    assert failure.error_type == "RuntimeError"
    assert failure.stage == "process"
    assert "processor bug" in failure.message
    assert not store.lookup(ctx.source.source_id, [failure.uri]), "a failed item stays to do"


def test_every_item_has_exactly_one_outcome(folder: Path, store: SqlStore) -> None:
    (folder / "bad.json").write_text("{nope")
    ctx = _context(folder, store)
    result = run_batch(_items(ctx), ctx)
    total = sum(getattr(result.counts, o.value) for o in Outcome)
    assert total == len(_items(ctx)) == 4
    assert result.counts.rejected == 1
    assert result.rejected[0].errors[0].startswith("invalid-json")
