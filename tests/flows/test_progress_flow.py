"""The real `ingest-filesystem` flow leaves its progress at 100% and summary artifacts
with the run's counts (read back through the Prefect client)."""

from __future__ import annotations

import asyncio
import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from tests.flows.test_flow_filesystem import run_flow
from tests.flows.test_progress_prefect import _artifacts
from tests.support.paths import SAMPLES

pytestmark = pytest.mark.prefect


def test_the_filesystem_flow_publishes_progress_and_summary(
    prefect_api: str, isolated_results: Path, tmp_path: Path
) -> None:
    from ingest.progress import progress_listeners

    corpus = tmp_path / "corpus"
    shutil.copytree(SAMPLES, corpus)
    seen: list[object] = []
    with progress_listeners(seen.append):
        state, report = run_flow(corpus, tmp_path / "store.db", batch_size=10)
    assert state.is_completed(), report
    assert seen, "a listener attached by the caller reaches the flow's reporter"

    artifacts = asyncio.run(_artifacts(state.state_details.flow_run_id))
    progress = artifacts["ingest-filesystem-progress"]
    assert float(progress.data) == 100.0
    summary = artifacts["ingest-filesystem-summary"].data
    counts = report["counts"]
    assert f"| new | {counts['new']} |" in summary
    assert f"| rejected | {counts['rejected']} |" in summary
    rejections = json.loads(artifacts["ingest-filesystem-rejections"].data)
    assert len(rejections) == counts["rejected"]
    assert "ingest-filesystem-failures" not in artifacts


def test_batch_tasks_in_prefect_threads_report_their_stages(
    prefect_api: str, isolated_results: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import threading

    import ingest.parallel
    from ingest.progress import ProgressSnapshot, active_reporter, progress_listeners
    from tests.flows.test_flow_filesystem import write_files

    real_run_batch = ingest.parallel.run_batch
    reached: list[tuple[bool, int]] = []
    lock = threading.Lock()

    def spying_run_batch(items: Any, ctx: Any) -> Any:
        result = real_run_batch(items, ctx)
        reporter = active_reporter()
        assert reporter is not None, "the task thread must reach the run's reporter"
        with lock:
            own = reporter.snapshot().phase("store").done
            reached.append((threading.current_thread() is threading.main_thread(), own))
        return result

    monkeypatch.setattr("ingest.parallel.run_batch", spying_run_batch)
    folder = tmp_path / "notes"
    write_files(folder, 60)
    seen: list[ProgressSnapshot] = []
    with progress_listeners(seen.append):
        state, report = run_flow(folder, tmp_path / "store.db", batch_size=10)
    assert state.is_completed(), report
    assert len(reached) == 6
    assert not any(in_main for in_main, _ in reached), "batches run in Prefect's thread pool"
    # Before the flow heard back from a batch, its own stages were already counted.
    assert all(store_done >= 10 for _, store_done in reached)
    final = seen[-1]
    assert final.finished
    for phase in ("fetch", "validate", "process", "store"):
        assert (final.phase(phase).done, final.phase(phase).total) == (60, 60), phase
    assert final.phase("discover").done == 60
    assert final.outcomes["new"] == 60


def test_one_changed_file_among_200_is_the_only_item_read_and_processed(
    prefect_api: str, isolated_results: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import os
    import threading
    import time

    import ingest.pipeline
    from ingest.progress import ProgressSnapshot, progress_listeners
    from ingest.sources.filesystem import FilesystemSource
    from tests.flows.test_flow_filesystem import write_files

    folder = tmp_path / "notes"
    write_files(folder, 200)
    store = tmp_path / "store.db"
    state, first = run_flow(folder, store, batch_size=25)
    assert state.is_completed(), first
    assert first["counts"]["new"] == 200

    lock = threading.Lock()
    reads: list[str] = []
    processed: list[str] = []
    real_fetch = FilesystemSource.fetch
    real_process = ingest.pipeline.process_content

    def spying_fetch(source: Any, item: Any) -> bytes:
        with lock:
            reads.append(item.uri)
        return real_fetch(source, item)

    def spying_process(content: Any, **kwargs: Any) -> Any:
        with lock:
            processed.append(content.item.uri)
        return real_process(content, **kwargs)

    monkeypatch.setattr(FilesystemSource, "fetch", spying_fetch)
    monkeypatch.setattr(ingest.pipeline, "process_content", spying_process)
    changed = folder / "d7" / "note073.md"
    changed.write_text(changed.read_text() + "\nOne more line.\n")
    os.utime(changed, ns=(time.time_ns(), time.time_ns() + 1_000_000))
    seen: list[ProgressSnapshot] = []
    with progress_listeners(seen.append):
        state, second = run_flow(folder, store, batch_size=25)
    assert state.is_completed(), second
    counts = second["counts"]
    assert (counts["discovered"], counts["unchanged"], counts["updated"]) == (200, 199, 1)
    assert (counts["new"], counts["rejected"], counts["failed"], counts["deleted"]) == (0,) * 4
    assert reads == [changed.as_uri()]
    assert processed == [changed.as_uri()]
    assert second["phases"]["process"]["items"] == 1
    final = seen[-1]
    assert final.outcomes["unchanged"] == 199
    assert final.outcomes["updated"] == 1
    for phase in ("fetch", "validate", "process", "store"):
        assert (final.phase(phase).done, final.phase(phase).total) == (1, 1), phase


def test_a_failing_listener_does_not_fail_the_flow_run(
    prefect_api: str, isolated_results: Path, tmp_path: Path
) -> None:
    from ingest.progress import ProgressSnapshot, progress_listeners
    from tests.flows.test_flow_filesystem import write_files

    calls: list[int] = []
    good: list[ProgressSnapshot] = []

    def broken(snapshot: ProgressSnapshot) -> None:
        calls.append(snapshot.seq)
        raise RuntimeError("listener bug")

    folder = tmp_path / "notes"
    write_files(folder, 30)
    with progress_listeners(broken, good.append):
        state, report = run_flow(folder, tmp_path / "store.db", batch_size=10)
    assert state.is_completed(), report
    assert report["counts"]["new"] == 30
    assert len(calls) == 1, "a listener that raised is not called again"
    assert good[-1].finished
    assert good[-1].outcomes["new"] == 30
    artifacts = asyncio.run(_artifacts(state.state_details.flow_run_id))
    assert float(artifacts["ingest-filesystem-progress"].data) == 100.0
