"""iter_export ordering and paging, and the JSONL and Parquet writers."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from ingest.models import ExportRecord, Outcome
from ingest.store import SqlStore
from ingest.store.export import export_jsonl, export_parquet
from ingest.store.sql import documents as sql_documents
from tests.support.store import SOURCE, MakeWrite, make_document

EXPORT_KEYS = [
    "id",
    "source",
    "uri",
    "content_type",
    "content_hash",
    "title",
    "text",
    "metadata",
    "chunks",
    "run_id",
    "updated_at",
]


@pytest.fixture
def filled(store: SqlStore, make_write: MakeWrite, monkeypatch: pytest.MonkeyPatch) -> SqlStore:
    monkeypatch.setattr(sql_documents, "EXPORT_PAGE", 3)  # several pages from a few documents
    writes = [
        make_write(f"doc{i}.md", text=f"text {i}", n_chunks=i % 3) for i in (5, 1, 4, 2, 3, 0, 6)
    ]
    store.write_batch(SOURCE, "job", "run-1", writes)
    other = make_write("a.md", document=make_document("a.md", "zeta", 1, source="alpha"))
    store.write_batch("alpha", "job", "run-1", [other])
    store.write_batch(SOURCE, "job", "run-2", [make_write("doc4.md", Outcome.DELETED)])
    return store


def test_iter_export_streams_in_order_with_chunks(filled: SqlStore) -> None:
    records = list(filled.iter_export())
    keys = [(r.source, r.uri) for r in records]
    assert keys == [("alpha", "a.md")] + [(SOURCE, f"doc{i}.md") for i in (0, 1, 2, 3, 5, 6)]
    for record in records:
        assert [c.seq for c in record.chunks] == list(range(len(record.chunks)))
        assert all(c.text.startswith(record.text) for c in record.chunks)
        assert not record.deleted
    assert len(next(r for r in records if r.uri == "doc5.md").chunks) == 2


def test_iter_export_includes_deleted_when_asked(filled: SqlStore) -> None:
    records = {r.uri: r for r in filled.iter_export(include_deleted=True)}
    assert len(records) == 8
    assert records["doc4.md"].deleted


def test_export_jsonl_round_trip(filled: SqlStore, tmp_path: Path) -> None:
    out = tmp_path / "out" / "export.jsonl"
    assert export_jsonl(filled, out) == 7
    lines = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    expected = list(filled.iter_export())
    assert len(lines) == len(expected)
    for line, record in zip(lines, expected, strict=True):
        assert list(line) == EXPORT_KEYS
        assert line["id"] == record.id
        assert line["text"] == record.text
        assert line["metadata"] == record.metadata
        assert line["chunks"] == [c.model_dump() for c in record.chunks]
        assert datetime.fromisoformat(line["updated_at"]) == record.updated_at
        assert line["run_id"] == record.run_id
    assert list(tmp_path.joinpath("out").iterdir()) == [out]  # no temp file left


def test_export_jsonl_with_deleted(filled: SqlStore, tmp_path: Path) -> None:
    out = tmp_path / "all.jsonl"
    assert export_jsonl(filled, out, include_deleted=True) == 8
    lines = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert all(list(line) == [*EXPORT_KEYS, "deleted"] for line in lines)
    assert [line["uri"] for line in lines if line["deleted"]] == ["doc4.md"]


def test_export_parquet_round_trip(filled: SqlStore, tmp_path: Path) -> None:
    out = tmp_path / "export.parquet"
    assert export_parquet(filled, out, row_group_size=2) == 7
    parquet = pq.ParquetFile(out)
    assert parquet.metadata.num_row_groups == 4
    rows = parquet.read().to_pylist()
    expected = list(filled.iter_export())
    assert parquet.schema_arrow.names == EXPORT_KEYS
    for row, record in zip(rows, expected, strict=True):
        assert row["id"] == record.id
        assert row["uri"] == record.uri
        assert row["title"] == record.title
        assert json.loads(row["metadata"]) == record.metadata
        assert [
            {"seq": c["seq"], "text": c["text"], "metadata": json.loads(c["metadata"])}
            for c in row["chunks"]
        ] == [c.model_dump() for c in record.chunks]
        assert row["updated_at"] == record.updated_at


def test_export_parquet_with_deleted(filled: SqlStore, tmp_path: Path) -> None:
    out = tmp_path / "all.parquet"
    assert export_parquet(filled, out, include_deleted=True) == 8
    table = pq.read_table(out)
    assert table.column("deleted").to_pylist().count(True) == 1


def test_exports_of_an_empty_store(store: SqlStore, tmp_path: Path) -> None:
    assert export_jsonl(store, tmp_path / "e.jsonl") == 0
    assert export_parquet(store, tmp_path / "e.parquet") == 0
    assert (tmp_path / "e.jsonl").read_bytes() == b""
    assert pq.read_table(tmp_path / "e.parquet").num_rows == 0


class _Broken:
    def __init__(self, inner: SqlStore) -> None:
        self.inner = inner

    def iter_export(self, include_deleted: bool = False) -> Iterator[ExportRecord]:
        yield from self.inner.iter_export(include_deleted)
        raise RuntimeError("boom")


@pytest.mark.parametrize("writer", [export_jsonl, export_parquet])
def test_failed_export_leaves_the_previous_file(
    filled: SqlStore, tmp_path: Path, writer: Callable[..., int]
) -> None:
    out = tmp_path / "exports" / "export.out"
    out.parent.mkdir()
    out.write_text("previous\n", encoding="utf-8")
    with pytest.raises(RuntimeError, match="boom"):
        writer(_Broken(filled), out)
    assert out.read_text(encoding="utf-8") == "previous\n"
    assert list(out.parent.iterdir()) == [out]
