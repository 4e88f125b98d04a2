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
    bindparam,
    func,
    inspect,
    select,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.types import TypeDecorator, TypeEngine

from ..content_types import not_text_type
from ..errors import StoreError
from .engine import without_nul

SCHEMA_VERSION = 4
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
    # `name:version` of the processor that produced the document; NULL when unknown
    # (written before schema version 4): such a document is produced again once.
    Column("processor", Str),
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


# Reasons that version 1 recorded as rejections and that are the `skipped` outcome now:
# not ingested by policy or by type, rather than invalid content.
_V2_POLICY_CODES = frozenset(
    {"empty", "too-large", "symlink-outside-root", "symlink-not-followed", "special-file"}
)
_V2_BINARY = "binary: binary content, not text (named as "
_V2_NO_PROCESSOR = "processing: no processor for content type"


def _v2_skip_entry(uri: str, errors: list[str]) -> str | None:
    """The `code: reason` of a version 1 rejection that is a skip now, else None."""
    for entry in errors:
        if entry.partition(":")[0].split(" at ", 1)[0] in _V2_POLICY_CODES:
            return entry
    first = errors[0] if errors else ""
    web = uri.startswith(("http://", "https://"))
    if first.startswith(_V2_NO_PROCESSOR):
        code = "unsupported-content-type" if web else "unsupported-type"
        return f"{code}: {first.partition(': ')[2]}"
    if not first.startswith(_V2_BINARY):
        return None
    # Version 1 named the item's type: its Content-Type on the web, else from its name.
    named = first[len(_V2_BINARY) :].rstrip(")")
    if named != "unknown":
        textual = named.startswith("text/") or named.endswith(("json", "xml", "yaml", "toml"))
        if not web or textual:
            return None  # a binary body behind a text type: invalid content, still rejected
        return f"unsupported-content-type: content type {named} is not one this tool ingests"
    by_name = None if web else not_text_type(uri)
    if by_name is not None:
        return f"unsupported-type: {by_name} by its name: no processor for this type"
    return "binary: binary content of no type this tool reads"


def _v2_skipped_outcome(conn: Connection) -> None:
    # Version 2 adds the `skipped` outcome: rows rejected for a policy or type reason
    # (empty, too large, binary of no text type, no processor) are reclassified with
    # their reason code, so they stay current (not re-read) and stop counting as rejected.
    found = conn.execute(
        select(items.c.source_id, items.c.uri, items.c.errors).where(items.c.outcome == "rejected")
    ).all()
    changes = [
        {"b_source": row.source_id, "b_uri": row.uri, "b_errors": [entry]}
        for row in found
        if (entry := _v2_skip_entry(row.uri, list(row.errors or []))) is not None
    ]
    if changes:
        conn.execute(
            items.update()
            .where(items.c.source_id == bindparam("b_source"), items.c.uri == bindparam("b_uri"))
            .values(outcome="skipped", errors=bindparam("b_errors", type_=items.c.errors.type)),
            changes,
        )
        # A skipped item has no document: one kept from an earlier version is tombstoned.
        conn.execute(
            documents.update()
            .where(
                documents.c.source == bindparam("b_source"),
                documents.c.uri == bindparam("b_uri"),
                documents.c.deleted.is_(False),
            )
            .values(deleted=True),
            [{"b_source": c["b_source"], "b_uri": c["b_uri"]} for c in changes],
        )


def _v3_crawl_links(conn: Connection) -> None:
    # Pages stored before this version have no links here: a crawl that meets one of
    # them behind a 304 fetches it again in full, once.
    crawl_links.create(conn, checkfirst=True)


def _v4_document_processor(conn: Connection) -> None:
    # Documents stored before this version name no processor: each is processed again
    # once, on the next run that meets its item, as after a processor version bump.
    column = documents.c.processor
    if column.name in {c["name"] for c in inspect(conn).get_columns(documents.name)}:
        return  # created by version 1's create_all from today's tables
    kind = column.type.compile(dialect=conn.dialect)
    conn.execute(text(f"ALTER TABLE {documents.name} ADD COLUMN {column.name} {kind}"))


Migration = Callable[[Connection], None]

# MIGRATIONS[n] brings a database from version n-1 to n. Append, never edit.
MIGRATIONS: dict[int, Migration] = {
    1: _v1_initial,
    2: _v2_skipped_outcome,
    3: _v3_crawl_links,
    4: _v4_document_processor,
}


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
