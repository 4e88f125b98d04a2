"""A processor version bump re-processes, once, exactly the items whose documents that
processor made, although their content is unchanged; on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine
from sqlalchemy.pool import NullPool

from ingest.freshness import needs_reprocessing
from ingest.models import Outcome, SourceItem
from ingest.pipeline import BatchConfig, BatchContext, is_current, run_batch
from ingest.processors import processor_id, processors
from ingest.sources.filesystem import FilesystemSource, FilesystemSourceConfig
from ingest.sources.web.memory import CrawlMemory
from ingest.store import SqlStore, StoredState, open_store, parse_store_url
from ingest.store.schema import documents
from tests.support.postgres import fresh_postgres_url


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield str(tmp_path / "store.db")
    else:
        yield from fresh_postgres_url()


@pytest.fixture
def store(store_url: str) -> Iterator[SqlStore]:
    with open_store(store_url) as opened:
        yield opened


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    root = tmp_path / "docs"
    root.mkdir()
    for name in ("a", "b"):
        (root / f"{name}.md").write_text(f"# {name}\n\nAbout {name}.\n\n## More\n\nMore.\n")
    (root / "c.py").write_text("def charlie():\n    return 3\n")
    (root / "d.txt").write_text("Delta.\n")
    (root / "empty.txt").write_text("")
    return root


def _run(folder: Path, store: SqlStore) -> dict[str, Outcome]:
    """One run of a new job over the folder, as `ingest fs` makes it: the item outcomes
    (what is current at discovery, a stored skip included, counts as unchanged)."""
    source = FilesystemSource(FilesystemSourceConfig(root=folder))
    job_id = store.begin_job(source.source_id, "k")
    ctx = BatchContext(source=source, store=store, config=BatchConfig(job_id=job_id, run_id=job_id))
    items = [item for batch in source.discover(100) for item in batch]
    states = store.lookup(source.source_id, [item.uri for item in items])
    # What the flow's discovery counts as current is not even handed to the batch.
    pending = [item for item in items if not is_current(item, states.get(item.uri))]
    result = run_batch(pending, ctx)
    store.finish_job(job_id)
    assert (result.counts.failed, result.counts.rejected) == (0, 0)
    written = store.lookup(source.source_id, [item.uri for item in pending])
    return {
        Path(i.uri).name: written[i.uri].outcome if i.uri in written else Outcome.UNCHANGED
        for i in items
    }


def _processors(store: SqlStore, folder: Path) -> dict[str, str | None]:
    source_id = FilesystemSource(FilesystemSourceConfig(root=folder)).source_id
    return {Path(s.uri).name: s.processor for s in store.iter_items(source_id)}


def test_a_processor_version_bump_reprocesses_its_items_once(
    folder: Path, store: SqlStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = _run(folder, store)
    assert first == {
        "a.md": Outcome.NEW,
        "b.md": Outcome.NEW,
        "c.py": Outcome.NEW,
        "d.txt": Outcome.NEW,
        "empty.txt": Outcome.SKIPPED,
    }
    markdown = processors.get("markdown")
    before = _processors(store, folder)
    assert before["a.md"] == processor_id(markdown)
    assert before["c.py"] == processor_id(processors.get("python"))
    assert before["empty.txt"] is None
    assert set(_run(folder, store).values()) == {Outcome.UNCHANGED}

    monkeypatch.setattr(markdown, "version", f"{markdown.version}-bumped")
    source_id = FilesystemSource(FilesystemSourceConfig(root=folder)).source_id
    old_chunks = store.get_document(source_id, (folder / "a.md").as_uri())
    bumped = _run(folder, store)
    assert bumped == {
        "a.md": Outcome.UPDATED,
        "b.md": Outcome.UPDATED,
        "c.py": Outcome.UNCHANGED,
        "d.txt": Outcome.UNCHANGED,
        "empty.txt": Outcome.UNCHANGED,
    }
    after = _processors(store, folder)
    assert after["a.md"] == after["b.md"] == f"markdown:{markdown.version}"
    assert after["c.py"] == before["c.py"]
    new_chunks = store.get_document(source_id, (folder / "a.md").as_uri())
    assert old_chunks is not None
    assert new_chunks is not None
    assert new_chunks.updated_at > old_chunks.updated_at
    assert [c.text for c in new_chunks.chunks] == [c.text for c in old_chunks.chunks]

    again = _run(folder, store)
    assert set(again.values()) == {Outcome.UNCHANGED}
    assert store.check() == []


def test_a_document_whose_processor_is_unknown_is_reprocessed_once(
    folder: Path, store: SqlStore, store_url: str
) -> None:
    _run(folder, store)
    # As a store migrated from schema version 3 has it: documents name no processor.
    engine = create_engine(parse_store_url(store_url).url, poolclass=NullPool)
    with engine.begin() as conn:
        conn.execute(documents.update().values(processor=None))
    engine.dispose()
    outcomes = _run(folder, store)
    assert outcomes == {
        "a.md": Outcome.UPDATED,
        "b.md": Outcome.UPDATED,
        "c.py": Outcome.UPDATED,
        "d.txt": Outcome.UPDATED,
        "empty.txt": Outcome.UNCHANGED,
    }
    assert set(_run(folder, store).values()) == {Outcome.UNCHANGED}


def _state(**fields: object) -> StoredState:
    values: dict[str, object] = {
        "uri": "https://site.test/page",
        "fingerprint": 'etag:"v1"',
        "content_hash": "h",
        "outcome": Outcome.NEW,
        "job_id": "j",
        "has_document": True,
        "content_type": "text/markdown",
        "processor": processor_id(processors.get("markdown")),
    }
    values.update(fields)
    return StoredState.model_validate(values)


def test_what_makes_a_stored_document_stale() -> None:
    assert not needs_reprocessing(_state())
    assert needs_reprocessing(_state(processor=None))
    assert needs_reprocessing(_state(processor="markdown:0"))
    # Another processor now takes the type (a plug-in), or none does.
    assert needs_reprocessing(_state(processor="text:1"))
    assert needs_reprocessing(_state(content_type="application/x-gone-type"))
    # Without a live document there is nothing to make again.
    assert not needs_reprocessing(_state(processor=None, has_document=False))
    assert not needs_reprocessing(_state(processor=None, deleted=True))
    item = SourceItem(source_id="s", uri="https://site.test/page", fingerprint='etag:"v1"')
    assert is_current(item, _state())
    assert not is_current(item, _state(processor="markdown:0"))


def test_a_crawl_fetches_a_stale_page_in_full() -> None:
    fresh, stale = _state(uri="https://site.test/a"), _state(uri="https://site.test/b")
    stale = stale.model_copy(update={"processor": "markdown:0"})
    memory = CrawlMemory([fresh, stale], [], job_id=None)
    assert memory.validators("https://site.test/a") is not None
    assert memory.validators("https://site.test/b") is None
    assert memory.is_stored("https://site.test/b")
