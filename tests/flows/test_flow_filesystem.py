"""The `ingest-filesystem` flow end to end in a real Prefect test harness."""

from __future__ import annotations

import os
import shutil
import threading
import time
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.prefect


def run_flow(folder: Path, store: Path, **options: Any) -> tuple[Any, dict[str, Any]]:
    from flows.filesystem import ingest_filesystem
    from flows.params import FolderSource, RunOptions

    state = ingest_filesystem(
        source=FolderSource(path=str(folder)),
        options=RunOptions(store=str(store), **options),
        return_state=True,
    )
    from ingest.errors import ItemsFailedError

    report = state.result(raise_on_failure=False)
    if isinstance(report, ItemsFailedError):
        report = report.report.model_dump(mode="json")
    assert isinstance(report, dict), f"no report: {report!r}"
    return state, report


def write_files(root: Path, count: int) -> None:
    for index in range(count):
        sub = root / f"d{index // 10}"
        sub.mkdir(parents=True, exist_ok=True)
        (sub / f"note{index:03}.md").write_text(
            f"# Note {index}\n\nIntro {index}.\n\n## Part\n\nBody of note {index}.\n"
        )


class CountingBatches:
    """Counts executions of the batch body and fails chosen items transiently."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, fail_names: set[str]) -> None:
        import ingest.pipeline
        from ingest.errors import SourceAccessError
        from ingest.sources.filesystem import FilesystemSource

        self.executions = 0
        self.fail_names = fail_names
        self._lock = threading.Lock()
        real_run_batch = ingest.pipeline.run_batch
        real_fetch = FilesystemSource.fetch

        def counting_run_batch(items: Any, ctx: Any) -> Any:
            with self._lock:
                self.executions += 1
            return real_run_batch(items, ctx)

        def flaky_fetch(source: Any, item: Any) -> bytes:
            if Path(item.path).name in self.fail_names:
                raise SourceAccessError(
                    "connection reset while reading", uri=item.uri, retryable=True
                )
            return real_fetch(source, item)

        monkeypatch.setattr("ingest.parallel.run_batch", counting_run_batch)
        monkeypatch.setattr(FilesystemSource, "fetch", flaky_fetch)


def test_sample_corpus_then_unchanged_then_one_edit_delete_add(
    prefect_api: str, isolated_results: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.support.paths import SAMPLES

    corpus = tmp_path / "corpus"
    shutil.copytree(SAMPLES, corpus, symlinks=True)
    store = tmp_path / "store.db"

    state, first = run_flow(corpus, store)
    assert state.is_completed(), first
    counts = first["counts"]
    assert counts["failed"] == 0
    assert counts["new"] > 20
    assert counts["rejected"] == 6
    assert counts["skipped"] == 2, "bad/empty.txt (empty) and the scanned PDF are skipped"
    assert counts["new"] + counts["skipped"] + counts["rejected"] == counts["discovered"]

    reads: list[str] = []
    from ingest.sources.filesystem import FilesystemSource

    real_fetch = FilesystemSource.fetch

    def spying_fetch(source: Any, item: Any) -> bytes:
        reads.append(item.uri)
        return real_fetch(source, item)

    monkeypatch.setattr(FilesystemSource, "fetch", spying_fetch)
    state, second = run_flow(corpus, store)
    assert state.is_completed()
    assert second["counts"]["unchanged"] == second["counts"]["discovered"] == counts["discovered"]
    assert reads == [], "an unchanged run must read no file content"

    edited, removed = sorted((corpus / "engineering").glob("*.md"))[:2]
    edited.write_text(edited.read_text() + "\n\nOne more paragraph.\n")
    os.utime(edited, ns=(time.time_ns(), time.time_ns() + 1_000_000))
    removed.unlink()
    (corpus / "added.md").write_text("# Added\n\nA new note.\n")

    state, third = run_flow(corpus, store)
    assert state.is_completed()
    assert third["counts"]["updated"] == 1
    assert third["counts"]["deleted"] == 1
    assert third["counts"]["new"] == 1
    assert third["counts"]["unchanged"] == third["counts"]["discovered"] - 2
    assert sorted(reads) == sorted([edited.as_uri(), (corpus / "added.md").as_uri()])


def test_a_processor_version_bump_updates_its_items_once(
    prefect_api: str, isolated_results: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ingest.processors import processors

    folder = tmp_path / "notes"
    write_files(folder, 12)
    (folder / "tool.py").write_text("def tool():\n    return 1\n")
    store = tmp_path / "store.db"
    _, first = run_flow(folder, store, workers=1)
    assert (first["counts"]["new"], first["counts"]["failed"]) == (13, 0)

    python = processors.get("python")
    monkeypatch.setattr(python, "version", f"{python.version}-bumped")
    _, bumped = run_flow(folder, store, workers=1)
    assert (bumped["counts"]["updated"], bumped["counts"]["unchanged"]) == (1, 12)
    _, again = run_flow(folder, store, workers=1)
    assert again["counts"]["unchanged"] == again["counts"]["discovered"] == 13


def test_failed_batch_is_the_only_one_run_again(
    prefect_api: str, isolated_results: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "notes"
    write_files(folder, 50)
    store = tmp_path / "store.db"
    counter = CountingBatches(monkeypatch, fail_names={"note023.md"})

    state, first = run_flow(folder, store, batch_size=10, retries=0)
    assert state.is_failed()
    assert counter.executions == 5
    assert first["counts"]["failed"] == 1
    assert first["counts"]["new"] == 49
    [failure] = first["failures"]
    assert failure["uri"].endswith("note023.md")
    assert failure["retryable"] is True
    assert "connection reset" in failure["message"]

    counter.fail_names.clear()
    counter.executions = 0
    state, second = run_flow(folder, store, batch_size=10, retries=0)
    assert state.is_completed(), second
    assert counter.executions == 1, "only the batch that failed may run again"
    assert second["counts"]["failed"] == 0
    assert second["counts"]["new"] == 50

    counter.executions = 0
    state, third = run_flow(folder, store, batch_size=10, retries=0)
    assert state.is_completed()
    assert counter.executions == 0
    assert third["counts"]["unchanged"] == 50


def test_transient_failure_is_retried_inside_the_run(
    prefect_api: str, isolated_results: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "notes"
    write_files(folder, 20)
    counter = CountingBatches(monkeypatch, fail_names={"note005.md"})
    import ingest.sources.filesystem as fs_module

    flaky = fs_module.FilesystemSource.fetch
    calls = {"n": 0}

    def fails_once(source: Any, item: Any) -> bytes:
        if Path(item.path).name == "note005.md":
            calls["n"] += 1
            if calls["n"] == 1:
                return flaky(source, item)
            counter.fail_names.clear()
        return flaky(source, item)

    monkeypatch.setattr(fs_module.FilesystemSource, "fetch", fails_once)
    state, report = run_flow(folder, tmp_path / "s.db", batch_size=10, retries=1, retry_delay_s=0)
    assert state.is_completed(), report
    assert report["counts"]["new"] == 20
    assert counter.executions == 3
