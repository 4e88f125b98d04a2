"""Chunk ids: pinned per processor version (ids may change only with a version bump,
which changes the pipeline version), the same on every run, and unique."""

from __future__ import annotations

from pathlib import Path

import pytest

from ingest.chunking import ChunkList, chunk_id, location_key
from ingest.pipeline import BatchConfig, BatchContext, run_batch
from ingest.processors import ChunkPolicy, processor_for
from ingest.sources.filesystem import FilesystemSource, FilesystemSourceConfig
from ingest.store import open_store

# (content type, path, text) -> (processor version, chunk ids). When this fails, the
# ids changed: bump that processor's `version` and pin the new ids with it.
PINNED = [
    ("text/markdown", "docs/guide.md", "# Guide\n\nSome text.\n\n## Install\n\nRun it.\n",
     "3", ["0f6fb73c771ea2ff6cf9675ea5c5cb5b", "c83e81584af941f588493595ffcf8750"]),
    ("text/plain", "notes.txt", "Hello.\n\nWorld.\n", "3", ["047eb63b6cba99fcf923168f0b884046"]),
    ("text/x-python", "mod.py", "def f():\n    return 1\n", "4",
     ["02be9af51d3e7ac88d9c03ddbe011d75"]),
]  # fmt: skip


@pytest.mark.parametrize(("content_type", "path", "text", "version", "ids"), PINNED)
def test_chunk_ids_change_only_with_the_processor_version(
    make_content, content_type, path, text, version, ids
):
    processor = processor_for(content_type)
    doc = processor.process(make_content(text, content_type, path), ChunkPolicy())
    assert (processor.version, [c.metadata["chunk_id"] for c in doc.chunks]) == (version, ids)


def test_location_key_is_fixed_format_and_independent_of_argument_order():
    key = location_key({"start_line": 3, "heading_path": ["A", "B"], "end_line": 4})
    assert key == "end_line=4\x1eheading_path=A\x1fB\x1estart_line=3"
    assert key == location_key({"heading_path": ["A", "B"], "end_line": 4, "start_line": 3})


def test_chunk_list_ids_are_chunk_id_of_uri_location_and_text():
    chunks = ChunkList("file:///a.md", "text/markdown")
    chunks.add("text", heading_path=["A"], start_line=1, end_line=2)
    where = location_key({"heading_path": ["A"], "start_line": 1, "end_line": 2})
    assert chunks.chunks[0].metadata["chunk_id"] == chunk_id("file:///a.md", where, "text")
    assert chunk_id("file:///a.md", where, "text") != chunk_id("file:///b.md", where, "text")


def _ids(store) -> dict[str, list[str]]:
    return {
        record.uri: [c.metadata["chunk_id"] for c in record.chunks]
        for record in store.iter_export(include_deleted=True)
    }


def test_a_reprocessing_run_gives_the_same_ids_and_the_next_run_is_unchanged(tmp_path: Path):
    root = tmp_path / "docs"
    root.mkdir()
    (root / "a.md").write_text("# A\n\nAlpha.\n\n## More\n\nMore alpha.\n")
    (root / "b.txt").write_text("Bravo.\n\nCharlie.\n")
    (root / "c.py").write_text("def charlie():\n    return 3\n")
    store = open_store(str(tmp_path / "store.db"))
    source = FilesystemSource(FilesystemSourceConfig(root=root))
    items = [item for batch in source.discover(100) for item in batch]

    def run(**options: object):
        job_id = store.begin_job(source.source_id, f"job-{options}")
        ctx = BatchContext(
            source=source, store=store, config=BatchConfig(job_id=job_id, run_id="r", **options)
        )
        result = run_batch(items, ctx)
        store.finish_job(job_id)
        return result

    try:
        assert run().counts.new == 3
        first = _ids(store)
        # What a run after a processor version bump does (--full): everything again...
        assert run(full=True).counts.updated == 3
        assert _ids(store) == first
        # ...and then it is stable: nothing to do, nothing changed.
        assert run().counts.unchanged == 3
        assert _ids(store) == first
        assert all(len(set(ids)) == len(ids) for ids in first.values())
    finally:
        store.close()
