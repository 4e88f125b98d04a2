"""The store's tables (SQLAlchemy Core), its schema version and the migrations
that bring an older database up to that version."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Connection,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    UniqueConstraint,
    func,
    inspect,
    select,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.types import TypeDecorator, TypeEngine

from ..errors import StoreError
from .engine import without_nul

SCHEMA_VERSION = 2
# Advisory lock key held while a PostgreSQL store migrates (any constant bigint).
MIGRATION_LOCK = 0x696E676573740001


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite keeps no offset)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        value = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Str(TypeDecorator[str]):
    """Text that compares and sorts by code point on every backend (PostgreSQL's
    "C" collation, SQLite's default), so order and keyset paging agree; NUL, which
    PostgreSQL cannot store, becomes U+FFFD there."""

    impl = Text
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "postgresql":
            return dialect.type_descriptor(Text(collation="C"))
        return dialect.type_descriptor(Text())

    def process_bind_param(self, value: str | None, dialect: Dialect) -> str | None:
        if value is None or dialect.name != "postgresql":
            return value
        return without_nul(value)


JSONType = JSON().with_variant(JSONB(), "postgresql")

metadata = MetaData()

meta = Table(
    "meta",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("value", Str, nullable=False),
)

jobs = Table(
    "jobs",
    metadata,
    Column("job_id", String(64), primary_key=True),
    Column("source_id", Str, nullable=False),
    Column("job_key", Str, nullable=False),
    Column("started_at", UTCDateTime, nullable=False),
    Column("finished_at", UTCDateTime, nullable=True),
    Index("ix_jobs_source_key", "source_id", "job_key"),
)

items = Table(
    "items",
    metadata,
    Column("source_id", Str, nullable=False),
    Column("uri", Str, nullable=False),
    Column("fingerprint", Str),
    Column("content_hash", Str),
    Column("outcome", String(16), nullable=False),
    Column("job_id", String(64)),
    Column("run_id", Str),
    Column("seen_job", String(64)),
    Column("errors", JSONType, nullable=False),
    # True when the item's current content is represented by a document row;
    # a rejected item keeps its earlier document but no longer claims it.
    Column("has_document", Boolean, nullable=False, default=False),
    Column("deleted", Boolean, nullable=False, default=False),
    Column("updated_at", UTCDateTime, nullable=False),
    PrimaryKeyConstraint("source_id", "uri", name="pk_items"),
    Index("ix_items_source_seen", "source_id", "seen_job"),
)

documents = Table(
    "documents",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("source", Str, nullable=False),
    Column("uri", Str, nullable=False),
    Column("content_type", Str, nullable=False),
    Column("content_hash", Str, nullable=False),
    Column("title", Str),
    Column("text", Str, nullable=False),
    Column("metadata", JSONType, nullable=False),
    Column("run_id", Str),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("deleted", Boolean, nullable=False, default=False),
    UniqueConstraint("source", "uri", name="uq_documents_source_uri"),
)

chunks = Table(
    "chunks",
    metadata,
    Column(
        "document_id",
        String(64),
        ForeignKey("documents.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("seq", Integer, nullable=False),
    Column("text", Str, nullable=False),
    Column("metadata", JSONType, nullable=False),
    PrimaryKeyConstraint("document_id", "seq", name="pk_chunks"),
)

failures = Table(
    "failures",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("run_id", Str),
    Column("job_id", String(64)),
    Column("source_id", Str, nullable=False),
    Column("uri", Str, nullable=False),
    Column("stage", Str, nullable=False),
    Column("error_type", Str, nullable=False),
    Column("message", Str, nullable=False),
    Column("retryable", Boolean, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Index("ix_failures_run", "run_id"),
)

runs = Table(
    "runs",
    metadata,
    Column("run_id", Str, primary_key=True),
    Column("job_id", String(64)),
    Column("source_id", Str, nullable=False),
    Column("flow", Str, nullable=False),
    Column("state", Str, nullable=False),
    Column("counts", JSONType, nullable=False),
    Column("parameters", JSONType, nullable=False),
    Column("report", JSONType, nullable=False),
    Column("duration_s", Float, nullable=False),
    Column("finished_at", UTCDateTime, nullable=False),
    Index("ix_runs_finished", "finished_at"),
)


# What a crawl found behind a URL when it last fetched it: a page's outgoing links
# (normalised, in scope) or a sitemap's URLs, beside the validators (`fingerprint`,
# ETag or Last-Modified) they go with. A page that answers 304 later is followed
# through these, so a conditional re-crawl reaches what the last full fetch reached.
crawl_links = Table(
    "crawl_links",
    metadata,
    Column("source_id", Str, nullable=False),
    Column("url", Str, nullable=False),
    Column("kind", String(16), nullable=False),  # page | urlset | sitemapindex
    Column("fingerprint", Str),
    Column("links", JSONType, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    PrimaryKeyConstraint("source_id", "url", name="pk_crawl_links"),
)


def _v1_initial(conn: Connection) -> None:
    # Version 1 is the baseline: the tables exactly as declared above.
    metadata.create_all(conn, checkfirst=True)


def _v2_crawl_links(conn: Connection) -> None:
    # Pages stored before this version have no links here: a crawl that meets one of
    # them behind a 304 fetches it again in full, once.
    crawl_links.create(conn, checkfirst=True)


Migration = Callable[[Connection], None]

# MIGRATIONS[n] brings a database from version n-1 to n. Append, never edit.
MIGRATIONS: dict[int, Migration] = {1: _v1_initial, 2: _v2_crawl_links}


def read_schema_version(conn: Connection) -> int:
    """The version recorded in the database; 0 for an empty database."""
    if not inspect(conn).has_table(meta.name):
        return 0
    value = conn.scalar(select(meta.c.value).where(meta.c.key == "schema_version"))
    return int(value) if value is not None else 0


def ensure_schema(conn: Connection, *, where: str) -> int:
    """Create or migrate the schema inside the caller's transaction; return the
    version found before. Refuse a database newer than this code."""
    if conn.dialect.name == "postgresql":
        # Concurrent first opens migrate one after the other; SQLite's write lock
        # (BEGIN IMMEDIATE) does the same there.
        conn.execute(select(func.pg_advisory_xact_lock(MIGRATION_LOCK)))
    found = read_schema_version(conn)
    if found > SCHEMA_VERSION:
        raise StoreError(
            f"store {where} has schema version {found}, newer than version "
            f"{SCHEMA_VERSION} that this aichemist-ingest knows; upgrade aichemist-ingest",
            retryable=False,
            details={"store": where, "schema_version": found, "supported": SCHEMA_VERSION},
        )
    for version in range(found + 1, SCHEMA_VERSION + 1):
        MIGRATIONS[version](conn)
    if found < SCHEMA_VERSION:
        _write_version(conn, SCHEMA_VERSION, fresh=found == 0)
    return found


def _write_version(conn: Connection, version: int, *, fresh: bool) -> None:
    values: dict[str, Any] = {"key": "schema_version", "value": str(version)}
    if fresh:
        conn.execute(meta.insert().values(**values))
    else:
        conn.execute(meta.update().where(meta.c.key == "schema_version").values(value=str(version)))
