"""The `skipped` outcome without Prefect: what is skipped (with which code) and what is
still rejected, that skipped items are not read again, and `ItemSkippedError` raised by a
source, a validator or a processor, in this process and in worker processes."""

from __future__ import annotations

import pickle
from collections.abc import Iterator
from pathlib import Path

import pytest

from ingest.errors import ItemSkippedError
from ingest.models import BatchResult, Outcome, SourceItem
from ingest.parallel import cpu_pool, run_batch_in_pool
from ingest.pipeline import BatchConfig, BatchContext, run_batch
from ingest.sources.filesystem import FilesystemSource, FilesystemSourceConfig
from ingest.store import open_store
from ingest.store.sql import SqlStore
from ingest.validators import ValidationPolicy
from tests.support import skipping
from tests.support.paths import SAMPLES
from tests.support.repository import typical_repository

MAX_FILE_SIZE = 64 * 1024


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SqlStore]:
    with open_store(str(tmp_path / "store.db")) as opened:
        yield opened


@pytest.fixture
def scan_processor() -> Iterator[None]:
    skipping.register()
    yield
    skipping.unregister()


def _run(
    source: FilesystemSource, store: SqlStore, job: str = "k", **context: object
) -> tuple[BatchResult, list[SourceItem]]:
    items = [item for page in source.discover(500) for item in page]
    ctx = BatchContext(
        source=source,
        store=store,
        config=BatchConfig(job_id=store.begin_job(source.source_id, job), run_id=job, **context),
    )
    result = run_batch(items, ctx)
    store.finish_job(ctx.config.job_id)
    return result, items


def _outcomes(result: BatchResult, root: Path) -> dict[str, tuple[str, str | None]]:
    found: dict[str, tuple[str, str | None]] = {}
    prefix = root.as_uri() + "/"
    for skip in result.skipped:
        found[skip.uri.removeprefix(prefix)] = ("skipped", skip.code)
    for rejection in result.rejected:
        code = rejection.errors[0].partition(":")[0].split(" at ")[0]
        found[rejection.uri.removeprefix(prefix)] = ("rejected", code)
    return found


def test_a_typical_repository_skips_by_policy_and_rejects_only_bad_content(
    tmp_path: Path, store: SqlStore
) -> None:
    root = tmp_path / "repo"
    expected = typical_repository(root)
    source = FilesystemSource(FilesystemSourceConfig(root=root, max_file_size=MAX_FILE_SIZE))
    result, items = _run(source, store)

    assert len(items) == len(expected)
    got = _outcomes(result, root)
    want = {rel: value for rel, value in expected.items() if value[0] != "new"}
    assert got == want
    counts = result.counts
    assert (counts.new, counts.skipped, counts.rejected, counts.failed) == (4, 9, 3, 0)
    exported = {record.uri.removeprefix(root.as_uri() + "/") for record in store.iter_export()}
    assert exported == {rel for rel, (outcome, _) in expected.items() if outcome == "new"}
    skip = {s.uri.rsplit("/", 1)[-1]: s for s in result.skipped}
    assert skip["logo.png"].reason == "image/png by its name: no processor for this type"
    assert skip["blank.py"].reason.startswith("whitespace only")
    assert f"over the size cap of {MAX_FILE_SIZE} bytes" in skip["huge.md"].reason

    states = {state.uri.rsplit("/", 1)[-1]: state for state in store.iter_items(source.source_id)}
    assert states["logo.png"].outcome is Outcome.SKIPPED
    assert states["logo.png"].errors == [skip["logo.png"].entry()]
    assert states["broken.json"].outcome is Outcome.REJECTED
    assert store.check() == []


def test_skipped_items_are_not_read_again_until_they_change(
    tmp_path: Path, store: SqlStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "repo"
    typical_repository(root)
    source = FilesystemSource(FilesystemSourceConfig(root=root, max_file_size=MAX_FILE_SIZE))
    first, _ = _run(source, store, "first")
    read_first = {s.uri for s in first.skipped if s.code in ("empty", "binary")}
    assert read_first, "empty and binary files are known only by reading them"

    reads: list[str] = []
    real_fetch = FilesystemSource.fetch

    def counting_fetch(self: FilesystemSource, item: SourceItem) -> bytes:
        reads.append(item.uri)
        return real_fetch(self, item)

    monkeypatch.setattr(FilesystemSource, "fetch", counting_fetch)
    second, items = _run(source, store, "second")
    assert reads == []
    assert second.counts.unchanged == len(items)
    assert second.skipped == []

    (root / "src" / "tool" / "__init__.py").write_text('"""Now it has a docstring."""\n')
    third, _ = _run(source, store, "third")
    assert reads == [(root / "src" / "tool" / "__init__.py").as_uri()]
    assert third.counts.updated == 1, "a skipped item that changed is read and ingested"


def test_raising_the_size_cap_takes_a_file_skipped_as_too_large(
    tmp_path: Path, store: SqlStore
) -> None:
    root = tmp_path / "docs"
    root.mkdir()
    (root / "big.md").write_text("# Big\n\n" + "word " * 1000)
    (root / "small.md").write_text("# Small\n\nText.\n")
    capped = FilesystemSource(FilesystemSourceConfig(root=root, max_file_size=1024))
    first, _ = _run(capped, store, "capped")
    assert [(s.uri.rsplit("/", 1)[-1], s.code) for s in first.skipped] == [("big.md", "too-large")]
    again, _ = _run(capped, store, "capped-again")
    assert again.counts.unchanged == 2, "the same cap: still skipped, not read"

    raised = FilesystemSource(FilesystemSourceConfig(root=root, max_file_size=1 << 20))
    third, _ = _run(raised, store, "raised")
    assert (third.counts.updated, third.counts.unchanged) == (1, 1)
    assert {r.uri.rsplit("/", 1)[-1] for r in store.iter_export()} == {"big.md", "small.md"}


def test_a_skipped_item_that_had_a_document_leaves_the_export(
    tmp_path: Path, store: SqlStore
) -> None:
    root = tmp_path / "docs"
    root.mkdir()
    page = root / "page.md"
    page.write_text("# Page\n\nOnce it had text.\n")
    source = FilesystemSource(FilesystemSourceConfig(root=root))
    first, _ = _run(source, store, "first")
    assert first.counts.new == 1
    page.write_text("")
    second, _ = _run(source, store, "second")
    assert second.counts.skipped == 1
    assert list(store.iter_export()) == []
    [kept] = list(store.iter_export(include_deleted=True))
    assert kept.deleted
    assert kept.text.startswith("# Page")
    assert store.check() == []


def test_the_sample_corpus_skips_the_empty_file_and_the_scan_and_rejects_six(
    tmp_path: Path, store: SqlStore
) -> None:
    source = FilesystemSource(FilesystemSourceConfig(root=SAMPLES))
    result, items = _run(source, store)
    assert len(items) == 54
    counts = result.counts
    assert (counts.new, counts.skipped, counts.rejected, counts.failed) == (46, 2, 6, 0)
    assert sorted((s.uri.rsplit("/", 1)[-1], s.code) for s in result.skipped) == [
        ("empty.txt", "empty"),
        ("scanned-invoice.pdf", "no-text-layer"),
    ]


def _scan_folder(root: Path) -> Path:
    root.mkdir()
    (root / "page.md").write_text("# Page\n\nPublished text.\n")
    (root / "draft.md").write_text("DRAFT\n\n# Not yet\n")
    (root / "scanned.scan").write_text("%%scan page 1\n")
    (root / "report.withheld").write_text("# Withheld\n")
    for n in range(4):  # enough items that the pool gets several
        (root / f"more{n}.md").write_text(f"# More {n}\n\nText {n}.\n")
    return root


def _skip_codes(result: BatchResult) -> dict[str, str]:
    return {s.uri.rsplit("/", 1)[-1]: s.code for s in result.skipped}


EXPECTED_PLUGIN_SKIPS = {
    "draft.md": "draft",
    "scanned.scan": "no-text-layer",
    "report.withheld": "withheld",
}


def test_item_skipped_error_from_a_source_validator_or_processor_in_process(
    tmp_path: Path, store: SqlStore, scan_processor: None
) -> None:
    source = skipping.ScanFolderSource(FilesystemSourceConfig(root=_scan_folder(tmp_path / "f")))
    policy = ValidationPolicy(custom=["tests.support.skipping:skip_drafts"])
    result, _ = _run(source, store, validation=policy)
    assert _skip_codes(result) == EXPECTED_PLUGIN_SKIPS
    assert result.counts.rejected == result.counts.failed == 0
    assert result.counts.new == 5


@pytest.mark.parametrize("whole_batch", [True, False], ids=["batch-in-worker", "cpu-pool"])
def test_item_skipped_error_in_worker_processes(
    tmp_path: Path, store: SqlStore, scan_processor: None, whole_batch: bool
) -> None:
    source = skipping.ScanFolderSource(FilesystemSourceConfig(root=_scan_folder(tmp_path / "f")))
    policy = ValidationPolicy(custom=["tests.support.skipping:skip_drafts"])
    items = [item for page in source.discover(100) for item in page]
    job_id = store.begin_job(source.source_id, "pool")
    pool = cpu_pool(2)
    assert pool is not None
    if whole_batch:
        config = BatchConfig(store_url=store.url, job_id=job_id, run_id="pool", validation=policy)
        result = run_batch_in_pool(pool, items, source, config)
    else:
        ctx = BatchContext(
            source=source,
            store=store,
            config=BatchConfig(job_id=job_id, run_id="pool", validation=policy),
        )
        ctx.cpu_pool = pool
        result = run_batch(items, ctx)
    assert _skip_codes(result) == EXPECTED_PLUGIN_SKIPS
    assert result.counts.rejected == result.counts.failed == 0
    states = {s.uri.rsplit("/", 1)[-1]: s for s in store.iter_items(source.source_id)}
    assert states["scanned.scan"].outcome is Outcome.SKIPPED
    assert states["scanned.scan"].errors == ["no-text-layer: a scanned page without a text layer"]


def test_item_skipped_error_survives_pickling() -> None:
    error = ItemSkippedError("a scanned page", code="no-text-layer", uri="file:///a.pdf")
    again = pickle.loads(pickle.dumps(error))
    assert isinstance(again, ItemSkippedError)
    assert (again.code, again.uri, again.reason) == (
        "no-text-layer",
        "file:///a.pdf",
        "a scanned page",
    )
