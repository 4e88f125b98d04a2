"""Helpers of the store tests (tests/ingest/store/): raw SQL access to a store's database
beside the store, and document builders. The fixtures are in tests/ingest/store/conftest.py."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from sqlalchemy import Engine, create_engine, inspect, text
from sqlalchemy.pool import NullPool

from ingest.models import Chunk, ProcessedDocument, content_hash, document_id
from ingest.store import ItemWrite, parse_store_url

SOURCE = "docs"
BACKENDS = ["sqlite", "postgresql"]

MakeWrite = Callable[..., ItemWrite]
Params = Mapping[str, Any] | Sequence[Mapping[str, Any]] | None


class RawDatabase:
    """Plain SQL on the store's database, beside the store: to look at rows and to
    make damage the store itself prevents."""

    def __init__(self, url: str) -> None:
        location = parse_store_url(url)
        self.dialect = location.dialect
        # A plain engine: on SQLite, foreign keys stay off as in the sqlite3 module.
        self.engine: Engine = create_engine(location.url, poolclass=NullPool)

    def rows(self, sql: str, params: Params = None) -> list[tuple[Any, ...]]:
        with self.engine.connect() as conn:
            return [tuple(row) for row in conn.execute(text(sql), params)]

    def execute(self, sql: str, params: Params = None) -> None:
        with self.engine.begin() as conn:
            conn.execute(text(sql), params)

    def drop_foreign_keys(self) -> None:
        """Let chunks point at missing documents (PostgreSQL checks them always)."""
        if self.dialect != "postgresql":
            return
        with self.engine.begin() as conn:
            for fk in inspect(conn).get_foreign_keys("chunks"):
                conn.execute(text(f'ALTER TABLE chunks DROP CONSTRAINT "{fk["name"]}"'))

    def tables(self) -> set[str]:
        with self.engine.connect() as conn:
            return set(inspect(conn).get_table_names())

    def indexes(self, table: str) -> set[str]:
        with self.engine.connect() as conn:
            return {str(ix["name"]) for ix in inspect(conn).get_indexes(table)}

    def close(self) -> None:
        self.engine.dispose()


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
