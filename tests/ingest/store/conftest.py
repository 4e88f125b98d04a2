"""Fixtures for the store tests: every test that uses `store` runs against a real
SQLite file and a real PostgreSQL (a fresh schema per test; see tests/support/postgres.py),
plus raw SQL access to the same database (helpers in tests/support/store.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from ingest.models import Outcome, content_hash
from ingest.store import ItemWrite, SqlStore, open_store
from tests.support.postgres import fresh_postgres_url
from tests.support.store import BACKENDS, MakeWrite, RawDatabase, make_document


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


@pytest.fixture
def db(store: SqlStore, store_url: str) -> Iterator[RawDatabase]:
    """Raw access to the database of `store` (created and migrated by then)."""
    raw = RawDatabase(store_url)
    try:
        yield raw
    finally:
        raw.close()


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
