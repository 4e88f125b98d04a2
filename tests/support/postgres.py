"""A real PostgreSQL for tests: the server that INGEST_TEST_POSTGRES_URL names, with
a fresh schema per test (selected through the URL's search_path, so every connection
and subprocess using the URL lands in it) that is dropped afterwards.

Without the variable, or with a server that does not answer, PostgreSQL tests are
skipped with the reason; with INGEST_REQUIRE_POSTGRES=1 (as `.ci/run` sets) they fail.
"""

from __future__ import annotations

import functools
import os
import uuid
from collections.abc import Iterator
from typing import NoReturn

import pytest
from sqlalchemy import URL, create_engine, make_url, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.pool import NullPool

from ingest.store import redact

URL_ENV = "INGEST_TEST_POSTGRES_URL"
REQUIRE_ENV = "INGEST_REQUIRE_POSTGRES"
SCHEMA_PREFIX = "ingest_test_"


def required() -> bool:
    return os.environ.get(REQUIRE_ENV, "").strip().lower() in {"1", "true", "yes"}


def unavailable(reason: str) -> NoReturn:
    if required():
        pytest.fail(f"PostgreSQL is required ({REQUIRE_ENV}=1) but {reason}", pytrace=False)
    pytest.skip(f"PostgreSQL tests skipped: {reason}")


def server_url() -> URL:
    """The test server's URL (psycopg 3 driver); skip or fail when there is none."""
    raw = os.environ.get(URL_ENV, "").strip()
    if not raw:
        unavailable(f"{URL_ENV} is not set (see .ci/run for a local server)")
    problem = _probe(raw)
    if problem is not None:
        unavailable(problem)
    return _admin_url(raw)


def _admin_url(raw: str) -> URL:
    url = make_url(raw)
    return url.set(drivername="postgresql+psycopg")


@functools.cache
def _probe(raw: str) -> str | None:
    try:
        engine = create_engine(_admin_url(raw), poolclass=NullPool)
        try:
            with engine.connect() as conn:
                conn.execute(text("SELECT 1"))
        finally:
            engine.dispose()
    except (SQLAlchemyError, ImportError) as exc:
        message = " ".join(str(getattr(exc, "orig", None) or exc).split())
        password = make_url(raw).password
        if password:
            message = message.replace(str(password), "***")
        return f"cannot connect to {redact(raw)}: {message[:300]}"
    return None


def url_with_schema(url: URL, schema: str) -> URL:
    """`url` whose connections use `schema` (created beforehand) for every table."""
    return url.update_query_dict({"options": f"-csearch_path={schema}"})


def drop_fresh_schema(url: URL, schema: str) -> None:
    engine = create_engine(url, poolclass=NullPool)
    try:
        with engine.begin() as conn:
            conn.execute(text("SET lock_timeout = '10s'"))
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    finally:
        engine.dispose()


def create_fresh_schema(url: URL) -> str:
    schema = f"{SCHEMA_PREFIX}{uuid.uuid4().hex[:16]}"
    engine = create_engine(url, poolclass=NullPool)
    try:
        with engine.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    finally:
        engine.dispose()
    return schema


def fresh_postgres_url() -> Iterator[str]:
    """Generator behind the fixtures: a store URL (with password) in a new schema."""
    base = server_url()
    schema = create_fresh_schema(base)
    try:
        yield url_with_schema(base, schema).render_as_string(hide_password=False)
    finally:
        drop_fresh_schema(base, schema)


@pytest.fixture
def postgres_store_url() -> Iterator[str]:
    """A PostgreSQL store URL of its own for one test; skip (or fail) without a server."""
    yield from fresh_postgres_url()
