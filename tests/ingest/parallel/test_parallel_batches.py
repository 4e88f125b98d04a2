"""Whole batches in worker processes (`--workers N`): the same store and report as in
the flow's process, and a worker crash fails only its batch's items, retryably."""

from __future__ import annotations

import shutil
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from ingest.models import SourceItem
from ingest.parallel import cpu_pool, run_batch_in_pool, shutdown
from ingest.pipeline import BatchConfig
from ingest.sources.filesystem import FilesystemSource, FilesystemSourceConfig
from ingest.store import open_store
from ingest.validators import ValidationPolicy
from tests.support.paths import SAMPLES


@pytest.fixture(autouse=True)
def _fresh_pool() -> Any:
    yield
    shutdown()


def _exported(store_path: Path) -> dict[str, Any]:
    with open_store(str(store_path)) as store:
        return {
            r.uri: (r.content_hash, r.title, [(c.seq, c.text, c.metadata) for c in r.chunks])
            for r in store.iter_export()
        }


def test_a_batch_run_in_a_worker_writes_and_reports_what_it_would_here(tmp_path: Path) -> None:
    from ingest.pipeline import BatchContext, run_batch

    corpus = tmp_path / "corpus"
    shutil.copytree(SAMPLES, corpus)
    source = FilesystemSource(FilesystemSourceConfig(root=corpus))
    reports = {}
    for name, workers in (("here", 1), ("worker", 2)):
        store_url = str(tmp_path / f"{name}.db")
        with open_store(store_url) as store:
            job = store.begin_job(source.source_id, "k")
            results = []
            for batch in source.discover(7):
                if workers == 1:
                    ctx = BatchContext(
                        source=source, store=store, config=BatchConfig(job_id=job, run_id="r")
                    )
                    results.append(run_batch(batch, ctx))
                else:
                    pool = cpu_pool(workers)
                    assert pool is not None
                    results.append(
                        run_batch_in_pool(
                            pool,
                            batch,
                            source,
                            BatchConfig(store_url=store_url, job_id=job, run_id="r"),
                        )
                    )
        reports[name] = (
            [r.counts for r in results],
            [sorted(x.uri for x in r.rejected) for r in results],
        )
    assert reports["worker"] == reports["here"]
    assert _exported(tmp_path / "worker.db") == _exported(tmp_path / "here.db")
    assert len(_exported(tmp_path / "here.db")) > 30


def test_a_worker_crash_fails_its_whole_batch_retryably_and_the_pool_recovers(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "docs"
    for name in ("a", "b"):
        (folder / name).mkdir(parents=True)
        for i in range(3):
            (folder / name / f"{i}.md").write_text(f"# {name}{i}\n\nfine\n")
    (folder / "a" / "1.md").write_text("# Boom\n\nCRASH-ME\n")
    source = FilesystemSource(FilesystemSourceConfig(root=folder))
    policy = ValidationPolicy(custom=["tests.support.crashing_rules:crash_on_marker"])
    store_url = str(tmp_path / "s.db")
    with open_store(store_url) as store:
        job = store.begin_job(source.source_id, "k")
    batches: list[list[SourceItem]] = list(source.discover(3))
    results = []
    for batch in batches:
        pool = cpu_pool(2)
        assert pool is not None
        config = BatchConfig(store_url=store_url, job_id=job, run_id="r", validation=policy)
        results.append(run_batch_in_pool(pool, batch, source, config))
    crashed, healthy = results
    assert crashed.counts.failed == 3
    assert all(f.retryable and "worker process died" in f.message for f in crashed.failures)
    assert healthy.counts.new == 3
    assert sorted(_exported(tmp_path / "s.db")) == sorted(item.uri for item in batches[1])


@pytest.mark.prefect
def test_the_flow_with_two_workers_stores_what_one_process_stores(
    prefect_api: str, isolated_results: Path, tmp_path: Path
) -> None:
    from tests.flows.test_flow_filesystem import run_flow

    corpus = tmp_path / "corpus"
    shutil.copytree(SAMPLES, corpus)
    _, one = run_flow(corpus, tmp_path / "one.db", batch_size=5)
    state, two = run_flow(corpus, tmp_path / "two.db", batch_size=5, workers=2)
    assert state.is_completed(), two
    assert two["counts"] == one["counts"]
    assert sorted(r["uri"] for r in two["rejected"]) == sorted(r["uri"] for r in one["rejected"])
    assert _exported(tmp_path / "two.db") == _exported(tmp_path / "one.db")
    state, again = run_flow(corpus, tmp_path / "two.db", batch_size=5, workers=2)
    assert (
        again["counts"]["unchanged"] == again["counts"]["discovered"] == one["counts"]["discovered"]
    )


class _RecordingSource(FilesystemSource):
    """The folder source, noting which batch each read belongs to (and pausing a little
    at each, so that two batches read at once would interleave)."""

    def __init__(self, config: FilesystemSourceConfig) -> None:
        super().__init__(config)
        self.reads: list[str] = []

    def fetch(self, item: SourceItem) -> bytes:
        self.reads.append(item.uri.rsplit("/", 2)[-2])
        time.sleep(0.002)
        return super().fetch(item)


def test_batches_run_here_from_several_threads_take_turns_whole(tmp_path: Path) -> None:
    """Two batches submitted at once in one process (the flow's thread pool) run one
    after the other, each whole: no read of one between the reads of the other, and
    every item still ends new in the store."""
    from ingest.parallel import run_configured_batch

    corpus = tmp_path / "corpus"
    for folder in ("a", "b"):
        (corpus / folder).mkdir(parents=True)
        for i in range(25):
            (corpus / folder / f"{i}.md").write_text(f"# {folder} {i}\n\nText {i}.\n")
    source = _RecordingSource(FilesystemSourceConfig(root=corpus))
    items = [item for batch in source.discover(100) for item in batch]
    batches = [[i for i in items if f"/{name}/" in i.uri] for name in ("a", "b")]
    store_url = str(tmp_path / "s.db")
    with open_store(store_url) as store:
        job = store.begin_job(source.source_id, "k")
    config = BatchConfig(store_url=store_url, job_id=job, run_id="r")
    with ThreadPoolExecutor(max_workers=2) as threads:
        futures = [threads.submit(run_configured_batch, b, source, config) for b in batches]
        results = [future.result() for future in futures]

    assert [r.counts.new for r in results] == [25, 25]
    runs = [name for i, name in enumerate(source.reads) if i == 0 or source.reads[i - 1] != name]
    assert sorted(runs) == ["a", "b"], f"the batches' reads interleaved: {source.reads}"
    assert len(_exported(tmp_path / "s.db")) == 50


@pytest.mark.parametrize(("workers", "waits"), [(1, True), (2, False)])
def test_discovery_takes_its_turn_beside_batches_run_here(
    tmp_path: Path, workers: int, waits: bool
) -> None:
    """With every batch in this process, discovery's turn starts only once the running
    batch is done; with worker processes it does not wait for anything."""
    from ingest.parallel import discovery_turn, run_configured_batch

    corpus = tmp_path / "corpus" / "a"
    corpus.mkdir(parents=True)
    for i in range(20):
        (corpus / f"{i}.md").write_text(f"# {i}\n\nText {i}.\n")
    source = _RecordingSource(FilesystemSourceConfig(root=corpus.parent))
    items = [item for batch in source.discover(100) for item in batch]
    store_url = str(tmp_path / "s.db")
    with open_store(store_url) as store:
        job = store.begin_job(source.source_id, "k")
    config = BatchConfig(store_url=store_url, job_id=job, run_id="r")
    with ThreadPoolExecutor(max_workers=1) as threads:
        batch = threads.submit(run_configured_batch, items, source, config)
        while not source.reads:  # the batch is running
            time.sleep(0.001)
        with discovery_turn(workers):
            reads_before_the_turn = len(source.reads)
        assert batch.result().counts.new == 20
    assert (reads_before_the_turn == 20) is waits, reads_before_the_turn
