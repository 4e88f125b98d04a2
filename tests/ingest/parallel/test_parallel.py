"""Content work in a process pool: the same store as in-process, and a worker crash
fails only its batch's items (retryable) while the next batch gets a fresh pool."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from ingest.parallel import cpu_pool, shutdown
from ingest.pipeline import BatchConfig, BatchContext, run_batch
from ingest.sources.filesystem import FilesystemSource, FilesystemSourceConfig
from ingest.store import open_store
from ingest.validators import ValidationPolicy
from tests.support.paths import SAMPLES


@pytest.fixture(autouse=True)
def _fresh_pool() -> None:
    yield
    shutdown()


def _ingest(folder: Path, store_path: Path, workers: int, **policy: object) -> object:
    source = FilesystemSource(FilesystemSourceConfig(root=folder))
    with open_store(str(store_path)) as store:
        job = store.begin_job(source.source_id, "k")
        ctx = BatchContext(
            source=source,
            store=store,
            cpu_pool=cpu_pool(workers),
            config=BatchConfig(job_id=job, run_id="r", validation=ValidationPolicy(**policy)),
        )  # type: ignore[arg-type]
        results = [run_batch(batch, ctx) for batch in source.discover(10)]
        exported = {
            r.uri: (r.content_hash, [(c.seq, c.text, c.metadata) for c in r.chunks])
            for r in store.iter_export()
        }
        return results, exported


def test_a_process_pool_stores_exactly_what_in_process_work_stores(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    shutil.copytree(SAMPLES, corpus)
    _, inline = _ingest(corpus, tmp_path / "inline.db", workers=1)
    results, pooled = _ingest(corpus, tmp_path / "pooled.db", workers=2)
    assert pooled == inline
    assert sum(r.counts.new for r in results) == len(inline) > 30


def test_a_worker_crash_fails_its_batch_items_and_the_pool_recovers(tmp_path: Path) -> None:
    folder = tmp_path / "docs"
    (folder / "a").mkdir(parents=True)
    (folder / "b").mkdir()
    for i in range(4):
        (folder / "a" / f"{i}.md").write_text(f"# A{i}\n\nfine\n")
        (folder / "b" / f"{i}.md").write_text(f"# B{i}\n\nfine\n")
    (folder / "a" / "2.md").write_text("# Boom\n\nCRASH-ME\n")
    source = FilesystemSource(FilesystemSourceConfig(root=folder))
    policy = ValidationPolicy(custom=["tests.support.crashing_rules:crash_on_marker"])
    with open_store(str(tmp_path / "s.db")) as store:
        job = store.begin_job(source.source_id, "k")
        batches = list(source.discover(4))
        outcomes = []
        for batch in batches:
            ctx = BatchContext(
                source=source,
                store=store,
                cpu_pool=cpu_pool(2),
                config=BatchConfig(job_id=job, run_id="r", validation=policy),
            )
            outcomes.append(run_batch(batch, ctx))
    crashed, healthy = outcomes
    assert crashed.counts.failed == 4
    assert all(f.retryable and "worker process died" in f.message for f in crashed.failures)
    assert healthy.counts.new == 4
