"""Per-phase progress from inside `run_batch`: each stage of a batch advances its phase
once, in any thread that inherited the run's context, and the flow's `record_batch`
tops each phase up to the batch's size without counting an item twice."""

from __future__ import annotations

import contextvars
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from ingest.models import Counts, SourceItem
from ingest.pipeline import BatchConfig, BatchContext, run_batch
from ingest.progress import (
    ITEM_PHASES,
    ProgressReporter,
    ProgressSnapshot,
    active_reporter,
    batch_progress,
    record_batch,
    record_discovered,
)
from ingest.sources.filesystem import FilesystemSource, FilesystemSourceConfig
from ingest.store import open_store
from ingest.store.sql import SqlStore
from tests.support.progress import FakeClock, Recorder


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    root = tmp_path / "docs"
    root.mkdir()
    for index in range(12):
        (root / f"note{index:02}.md").write_text(f"# Note {index}\n\nBody {index}.\n")
    (root / "empty.txt").write_text("")  # skipped once read: still passes every phase
    return root


@pytest.fixture
def store(tmp_path: Path) -> Any:
    opened = open_store(str(tmp_path / "store.db"))
    yield opened
    opened.close()


def _context(folder: Path, store: SqlStore) -> BatchContext:
    source = FilesystemSource(FilesystemSourceConfig(root=folder))
    job_id = store.begin_job(source.source_id, "k")
    return BatchContext(source=source, store=store, config=BatchConfig(job_id=job_id, run_id="r1"))


def _batches(ctx: BatchContext, size: int) -> list[list[SourceItem]]:
    return list(ctx.source.discover(size))


def _done(snapshot: ProgressSnapshot) -> dict[str, int]:
    return {phase: snapshot.phase(phase).done for phase in ITEM_PHASES}


def test_each_stage_of_a_batch_advances_its_phase_in_order(
    folder: Path, store: SqlStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    ctx = _context(folder, store)
    [batch] = _batches(ctx, 100)
    seen: dict[str, dict[str, int]] = {}
    reporter = ProgressReporter(clock=FakeClock())
    real_fetch = FilesystemSource.fetch
    real_write = SqlStore.write_batch

    def fetch(source: FilesystemSource, item: SourceItem) -> bytes:
        seen.setdefault("fetching", _done(reporter.snapshot()))
        return real_fetch(source, item)

    def write(self: SqlStore, *args: Any, **kwargs: Any) -> None:
        seen["writing"] = _done(reporter.snapshot())
        real_write(self, *args, **kwargs)

    monkeypatch.setattr(FilesystemSource, "fetch", fetch)
    monkeypatch.setattr(SqlStore, "write_batch", write)
    with reporter:
        record_discovered(reporter, found=len(batch), pending=len(batch))
        result = run_batch(batch, ctx)
        after = _done(reporter.snapshot())
        record_batch(reporter, batch, result.counts)
        settled = reporter.snapshot()
    n = len(batch)
    assert n == 13
    assert seen["fetching"] == dict.fromkeys(ITEM_PHASES, 0)
    assert seen["writing"] == {"fetch": n, "validate": n, "process": n, "store": 0}
    assert after == dict.fromkeys(ITEM_PHASES, n), "the batch reported every stage itself"
    assert _done(settled) == after, "settling a batch that reported everything adds nothing"
    assert settled.outcomes["new"] == 12
    assert settled.outcomes["skipped"] == 1


def test_a_retried_batch_is_not_counted_twice(folder: Path, store: SqlStore) -> None:
    ctx = _context(folder, store)
    batches = _batches(ctx, 5)
    with ProgressReporter(clock=FakeClock()) as reporter:
        run_batch(batches[0], ctx)
        run_batch(batches[0], ctx)  # Prefect retried it in the same run
        assert _done(reporter.snapshot()) == dict.fromkeys(ITEM_PHASES, 5)
        result = run_batch(batches[1], ctx)
        record_batch(reporter, batches[1], result.counts)
        run_batch(batches[1], ctx)  # a late report of a settled batch: ignored
        assert _done(reporter.snapshot()) == dict.fromkeys(ITEM_PHASES, 10)


def test_a_batch_that_reported_nothing_or_broke_halfway_is_topped_up(
    folder: Path, store: SqlStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    ctx = _context(folder, store)
    cached, broken = _batches(ctx, 7)
    with ProgressReporter(clock=FakeClock()) as reporter:
        # A cached batch (its task did not run) comes back with its counts only.
        record_batch(reporter, cached, Counts(new=len(cached)))
        assert _done(reporter.snapshot()) == dict.fromkeys(ITEM_PHASES, 7)

        def refuse(*_: Any, **__: Any) -> None:
            raise RuntimeError("database is locked")

        monkeypatch.setattr(SqlStore, "write_batch", refuse)
        with pytest.raises(RuntimeError):
            run_batch(broken, ctx)
        assert _done(reporter.snapshot()) == {
            "fetch": 13,
            "validate": 13,
            "process": 13,
            "store": 7,
        }
        record_batch(reporter, broken, Counts(failed=len(broken)))
        assert _done(reporter.snapshot()) == dict.fromkeys(ITEM_PHASES, 13)


def test_without_an_active_reporter_the_hooks_do_nothing(folder: Path, store: SqlStore) -> None:
    ctx = _context(folder, store)
    assert active_reporter() is None
    result = run_batch(_batches(ctx, 100)[0], ctx)
    assert result.counts.new == 12


def test_the_active_reporter_is_scoped_to_its_with_block() -> None:
    outer, inner = ProgressReporter(), ProgressReporter()
    with outer:
        assert active_reporter() is outer
        with inner:
            assert active_reporter() is inner
        assert active_reporter() is outer
    assert active_reporter() is None


def test_batches_in_threads_that_copied_the_context_give_exact_counts() -> None:
    recorder = Recorder()
    batches = [
        [SourceItem(source_id="s", uri=f"file:///b{b}/i{i}") for i in range(50)] for b in range(40)
    ]

    def stages(items: list[SourceItem]) -> None:
        progress = batch_progress(items)  # what run_batch does, in a worker thread
        for _ in range(2):  # each batch once more, as a retry would
            progress.passed(len(items), "fetch")
            progress.passed(len(items), "validate", "process")
            progress.passed(len(items), "store")

    with ProgressReporter([recorder]) as reporter:
        with ThreadPoolExecutor(max_workers=8) as pool:
            # Prefect's thread pool and asyncio.to_thread run tasks in a context copy.
            futures = [
                pool.submit(contextvars.copy_context().run, stages, items) for items in batches
            ]
            for future, items in zip(futures, batches, strict=True):
                future.result()
                record_batch(reporter, items, Counts(new=len(items)))
    final = recorder.snapshots[-1]
    assert final.finished
    assert _done(final) == dict.fromkeys(ITEM_PHASES, 40 * 50)
    assert final.outcomes["new"] == 40 * 50


def test_stage_reports_are_coalesced_for_listeners() -> None:
    clock = FakeClock()
    recorder = Recorder()
    reporter = ProgressReporter([recorder], clock=clock, max_rate_hz=4, heartbeat_s=None)
    with reporter:
        for b in range(1000):  # 10 s of fake time: a batch stage every 2.5 ms
            progress = batch_progress([SourceItem(source_id="s", uri=f"file:///{b}")])
            for phase in ITEM_PHASES:
                clock.tick(0.0025)
                progress.passed(1, phase)
            assert reporter.flush()
    calls = recorder.snapshots
    assert 38 <= len(calls) <= 43, len(calls)
    assert _done(calls[-1]) == dict.fromkeys(ITEM_PHASES, 1000)


def test_discovery_is_timed_from_the_start_of_the_run() -> None:
    clock = FakeClock()
    reporter = ProgressReporter(clock=clock)
    clock.tick(4.0)  # listing the first page took 4 s
    record_discovered(reporter, found=100, pending=100)
    clock.tick(1.0)
    record_discovered(reporter, found=100, pending=100)
    discover = reporter.snapshot().phase("discover")
    assert discover.elapsed_s == pytest.approx(5.0)
    assert discover.overall_rate == pytest.approx(40.0)
    assert reporter.snapshot().phase("fetch").total == 200


def test_a_batch_run_by_asyncio_to_thread_reports_to_the_async_flows_reporter() -> None:
    import asyncio

    items = [SourceItem(source_id="s", uri=f"https://site.test/{i}") for i in range(30)]

    def stages() -> None:  # the web flow's task runs run_batch through asyncio.to_thread
        progress = batch_progress(items)
        progress.passed(len(items), *ITEM_PHASES)

    async def flow() -> dict[str, int]:
        with ProgressReporter(clock=FakeClock()) as reporter:
            await asyncio.create_task(asyncio.to_thread(stages))
            live = _done(reporter.snapshot())
            record_batch(reporter, items, Counts(new=30))
            assert _done(reporter.snapshot()) == live
            return live

    assert asyncio.run(flow()) == dict.fromkeys(ITEM_PHASES, 30)
