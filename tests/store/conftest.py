"""Fixtures for the store tests: every test that uses `store` runs against a real
SQLite file and a real PostgreSQL (a fresh schema per test; see tests/support/postgres.py),
plus raw SQL access to the same database and document builders."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, create_engine, inspect, text
from sqlalchemy.pool import NullPool

from ingest.models import Chunk, Outcome, ProcessedDocument, content_hash, document_id
from ingest.store import ItemWrite, SqlStore, open_store, parse_store_url
from tests.support.postgres import fresh_postgres_url

SOURCE = "docs"
BACKENDS = ["sqlite", "postgresql"]

MakeWrite = Callable[..., ItemWrite]
Params = Mapping[str, Any] | Sequence[Mapping[str, Any]] | None


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """The store's database; a test narrows it with
    `@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)`."""
    return str(request.param)


@pytest.fixture
def store_path(tmp_path: Path) -> Path:
    return tmp_path / "store" / "ingest.db"


@pytest.fixture
def store_url(backend: str, store_path: Path) -> Iterator[str]:
    """A store URL of the test's own: a SQLite path, or a PostgreSQL URL (password
    included) whose connections use a schema made for this test."""
    if backend == "sqlite":
        yield str(store_path)
    else:
        yield from fresh_postgres_url()


@pytest.fixture
def store(store_url: str) -> Iterator[SqlStore]:
    with open_store(store_url) as opened:
        yield opened


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


@pytest.fixture
def db(store: SqlStore, store_url: str) -> Iterator[RawDatabase]:
    """Raw access to the database of `store` (created and migrated by then)."""
    raw = RawDatabase(store_url)
    try:
        yield raw
    finally:
        raw.close()


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
