"""Fixtures for the store tests: a real SQLite file per test and document builders."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from ingest.models import Chunk, Outcome, ProcessedDocument, content_hash, document_id
from ingest.store import ItemWrite, SqlStore, open_store

SOURCE = "docs"

MakeWrite = Callable[..., ItemWrite]


@pytest.fixture
def store_path(tmp_path: Path) -> Path:
    return tmp_path / "store" / "ingest.db"


@pytest.fixture
def store(store_path: Path) -> Iterator[SqlStore]:
    with open_store(str(store_path)) as opened:
        yield opened


def make_document(
    uri: str, text: str, n_chunks: int = 2, source: str = SOURCE
) -> ProcessedDocument:
    return ProcessedDocument(
        id=document_id(source, uri),
        source=source,
        uri=uri,
        content_type="text/markdown",
        content_hash=content_hash(text.encode()),
        title=f"Title of {uri}",
        text=text,
        metadata={"path": uri, "tags": ["a", "b"]},
        chunks=[
            Chunk(seq=i, text=f"{text} part {i}", metadata={"start_line": i + 1})
            for i in range(n_chunks)
        ],
    )


@pytest.fixture
def make_write() -> MakeWrite:
    def build(
        uri: str,
        outcome: Outcome = Outcome.NEW,
        text: str = "hello",
        n_chunks: int = 2,
        **fields: object,
    ) -> ItemWrite:
        document = (
            make_document(uri, text, n_chunks)
            if outcome in (Outcome.NEW, Outcome.UPDATED)
            else None
        )
        values: dict[str, object] = {
            "uri": uri,
            "outcome": outcome,
            "fingerprint": f"fp-{uri}-{text}",
            "content_hash": content_hash(text.encode()),
            "document": document,
        }
        values.update(fields)
        return ItemWrite.model_validate(values)

    return build
