"""`SqlStore`: the `Store` on SQLAlchemy Core, for SQLite now and PostgreSQL by URL."""

from __future__ import annotations

import hashlib
import itertools
import os
import random
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TypeVar

from pydantic import BaseModel
from pydantic_core import to_jsonable_python
from sqlalchemy import (
    Connection,
    Insert,
    Row,
    Table,
    and_,
    case,
    false,
    func,
    or_,
    select,
    true,
    tuple_,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import SQLAlchemyError

from ...errors import StoreError
from ...models import Chunk, ExportRecord, Failure, Outcome, RunReport
from ..base import IntegrityProblem, ItemWrite, Store, StoredLinks, StoredState
from ..engine import WRITE, build_engine, is_conflict, store_error
from ..schema import (
    SCHEMA_VERSION,
    chunks,
    crawl_links,
    documents,
    ensure_schema,
    failures,
    items,
    jobs,
    read_schema_version,
    runs,
)
from ..urls import StoreLocation, redact

if TYPE_CHECKING:
    from typing import TypeAlias

    AnyRow: TypeAlias = Row[*tuple[Any, ...]]

# Bound on IN lists: well under SQLite's variable limit and cheap for PostgreSQL.
IN_CHUNK = 500
EXPORT_PAGE = 500
# Attempts of a write transaction that a concurrent writer deadlocked (PostgreSQL).
CONFLICT_ATTEMPTS = 5
T = TypeVar("T")
_EXAMPLES = 5
_DOCUMENTED = (Outcome.NEW, Outcome.UPDATED)
_LIVE_WITH_DOCUMENT = (Outcome.NEW, Outcome.UPDATED, Outcome.UNCHANGED)


class StoredRun(BaseModel):
    """A run as recorded by `record_run`."""

    report: RunReport
    job_id: str | None
    source_id: str
    parameters: dict[str, Any]
    finished_at: datetime


def _chunked(values: Sequence[str], size: int = IN_CHUNK) -> Iterator[Sequence[str]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def _now() -> datetime:
    return datetime.now(UTC)


class SqlStore(Store):
    """The store in one SQL database; one engine per instance, schema made on open."""

    def __init__(self, location: StoreLocation) -> None:
        self._location = location
        self._file_identity: tuple[int, int] | None = None  # known once the schema is made
        self._engine = build_engine(location)
        self._dialect = self._engine.dialect.name
        try:
            with self._mapped("open"):
                with self._read() as conn:
                    current = read_schema_version(conn) == SCHEMA_VERSION
                if not current:
                    # Under the write lock, so concurrent first opens migrate once.
                    with self._write() as conn:
                        ensure_schema(conn, where=self.url)
        except BaseException:
            self._engine.dispose()
            raise
        self._file_identity = self._sqlite_file_identity()

    # -- plumbing ---------------------------------------------------------

    def _sqlite_file_identity(self) -> tuple[int, int] | None:
        """(device, inode) of the SQLite file; None for other databases or a vanished file."""
        path = self._location.sqlite_path
        if path is None:
            return None
        try:
            found = os.stat(path)
        except OSError:
            return None
        return found.st_dev, found.st_ino

    def _check_file(self, operation: str) -> None:
        """A SQLite file removed or replaced while open takes every later write with it
        (they go to the unlinked file): refuse to write rather than lose items."""
        if self._file_identity is None or self._sqlite_file_identity() == self._file_identity:
            return
        raise StoreError(
            f"{operation}: the store file {self.url} was removed or replaced while this "
            "run had it open; what this run writes now would be lost, so it stops writing. "
            "Run again to store the items in the new file.",
            retryable=False,
            details={"operation": operation},
        )

    @property
    def url(self) -> str:
        """The store URL with any password hidden."""
        return self._location.display

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.url!r})"

    def close(self) -> None:
        self._engine.dispose()

    @contextmanager
    def _mapped(self, operation: str, source_id: str | None = None) -> Iterator[None]:
        try:
            yield
        except SQLAlchemyError as exc:
            raise store_error(
                exc,
                operation=operation,
                where=self.url,
                source_id=source_id,
                scrub=self._location.scrub,
            ) from exc

    def _transaction(self, operation: str, body: Callable[[Connection], T], **mapped: Any) -> T:
        """Run `body` in one write transaction; on PostgreSQL, run it again when it lost
        a deadlock or a serialization conflict to a concurrent writer (the database
        rolled it back whole, so running it again is safe)."""
        for attempt in itertools.count(1):
            try:
                with self._mapped(operation, **mapped), self._write() as conn:
                    return body(conn)
            except StoreError as exc:
                cause = exc.__cause__
                if (
                    attempt >= CONFLICT_ATTEMPTS
                    or not isinstance(cause, SQLAlchemyError)
                    or not is_conflict(cause)
                ):
                    raise
            time.sleep(random.uniform(0, 0.05 * attempt))  # noqa: S311 - jitter, not security
        raise AssertionError("unreachable")

    @contextmanager
    def _write(self) -> Iterator[Connection]:
        identity = self._file_identity
        if identity is not None:
            self._check_file("write")
        with self._engine.connect() as conn:
            conn.execution_options(**{WRITE: True})
            with conn.begin():
                yield conn
        if identity is not None:
            self._check_file("write")  # removed while it committed: the commit is lost

    @contextmanager
    def _read(self) -> Iterator[Connection]:
        with self._engine.connect() as conn:
            if self._dialect == "postgresql":
                # One snapshot for multi-query reads such as a paged export.
                conn.execution_options(isolation_level="REPEATABLE READ")
            with conn.begin():
                yield conn

    def _insert(self, table: Table) -> sqlite.Insert | postgresql.Insert:
        if self._dialect == "postgresql":
            return postgresql.insert(table)
        if self._dialect == "sqlite":
            return sqlite.insert(table)
        raise StoreError(f"no upsert for dialect {self._dialect}", retryable=False)

    def _upsert(
        self,
        table: Table,
        keys: Sequence[str],
        update: Sequence[str],
        keep_known: Sequence[str] = (),
        keep_skipped: bool = False,
    ) -> Insert:
        """INSERT ... ON CONFLICT (keys) DO UPDATE the `update` columns; a
        `keep_known` column keeps its stored value when the new one is NULL; with
        `keep_skipped`, a stored `skipped` outcome stays when the new one is `unchanged`."""
        stmt = self._insert(table)
        set_: dict[str, Any] = {name: stmt.excluded[name] for name in update}
        for name in keep_known:
            set_[name] = func.coalesce(stmt.excluded[name], table.c[name])
        if keep_skipped:
            stored, new = table.c.outcome, stmt.excluded.outcome
            still_skipped = and_(new == Outcome.UNCHANGED.value, stored == Outcome.SKIPPED.value)
            set_["outcome"] = case((still_skipped, stored), else_=new)
        return stmt.on_conflict_do_update(index_elements=list(keys), set_=set_)

    # -- jobs -------------------------------------------------------------

    def begin_job(self, source_id: str, job_key: str) -> str:
        def body(conn: Connection) -> str:
            if self._dialect == "postgresql":
                # Concurrent runs of one job must share it (their seen marks would
                # otherwise tombstone each other's items): one begin_job at a time.
                conn.execute(select(func.pg_advisory_xact_lock(_lock_key(source_id, job_key))))
            existing = conn.scalar(
                select(jobs.c.job_id)
                .where(
                    jobs.c.source_id == source_id,
                    jobs.c.job_key == job_key,
                    jobs.c.finished_at.is_(None),
                )
                .order_by(jobs.c.started_at.desc())
                .limit(1)
            )
            if existing is not None:
                return str(existing)
            job_id = uuid.uuid4().hex
            conn.execute(
                jobs.insert().values(
                    job_id=job_id, source_id=source_id, job_key=job_key, started_at=_now()
                )
            )
            return job_id

        return self._transaction("begin_job", body, source_id=source_id)

    def finish_job(self, job_id: str) -> None:
        """Mark the job finished; finishing it again keeps the first time."""

        def body(conn: Connection) -> None:
            known = conn.scalar(select(jobs.c.finished_at.is_(None)).where(jobs.c.job_id == job_id))
            if known is None:
                raise StoreError(
                    f"finish_job: unknown job {job_id} in store {self.url}", retryable=False
                )
            conn.execute(
                jobs.update()
                .where(jobs.c.job_id == job_id, jobs.c.finished_at.is_(None))
                .values(finished_at=_now())
            )

        self._transaction("finish_job", body)

    # -- item state -------------------------------------------------------

    def lookup(self, source_id: str, uris: Iterable[str]) -> dict[str, StoredState]:
        wanted = list(dict.fromkeys(uris))
        found: dict[str, StoredState] = {}
        with self._mapped("lookup", source_id), self._read() as conn:
            for part in _chunked(wanted):
                rows = conn.execute(
                    select(
                        items.c.uri,
                        items.c.fingerprint,
                        items.c.content_hash,
                        items.c.outcome,
                        items.c.job_id,
                        items.c.deleted,
                        items.c.errors,
                    ).where(items.c.source_id == source_id, items.c.uri.in_(part))
                )
                for row in rows:
                    found[row.uri] = _stored_state(row)
        return found

    def iter_items(self, source_id: str) -> Iterator[StoredState]:
        """Every item of the source, deleted ones included, ordered by uri."""
        with self._mapped("iter_items", source_id), self._read() as conn:
            rows = conn.execute(
                select(
                    items.c.uri,
                    items.c.fingerprint,
                    items.c.content_hash,
                    items.c.outcome,
                    items.c.job_id,
                    items.c.deleted,
                    items.c.errors,
                )
                .where(items.c.source_id == source_id)
                .order_by(items.c.uri)
            )
            for row in rows:
                yield _stored_state(row)

    def write_batch(
        self, source_id: str, job_id: str, run_id: str, writes: list[ItemWrite]
    ) -> None:
        states: dict[str, ItemWrite] = {}
        failed: list[ItemWrite] = []
        for write in writes:
            if write.outcome is Outcome.FAILED:
                failed.append(write)
                continue
            _check_write(source_id, write)
            # The last write of a uri in a batch wins, as if written one by one.
            states.pop(write.uri, None)
            states[write.uri] = write
        if not states and not failed:
            return
        now = _now()
        documented = [
            w for w in states.values() if w.outcome in _DOCUMENTED and w.document is not None
        ]
        # Unchanged items, and new/updated ones replayed without their document by a
        # later run of the same job, update the item state only.
        state_only = [
            w
            for w in states.values()
            if w.outcome is Outcome.UNCHANGED or (w.outcome in _DOCUMENTED and w.document is None)
        ]
        rejected = [w for w in states.values() if w.outcome is Outcome.REJECTED]
        skipped = [w for w in states.values() if w.outcome is Outcome.SKIPPED]
        deleted = [w for w in states.values() if w.outcome is Outcome.DELETED]
        linked = [
            StoredLinks(url=w.uri, kind="page", fingerprint=w.fingerprint, links=w.links)
            for w in states.values()
            if w.links is not None and w.outcome is not Outcome.DELETED
        ]

        def rows(group: list[ItemWrite], **fixed: Any) -> list[dict[str, Any]]:
            # In key order, so that concurrent writers lock rows in one order.
            return [
                {
                    "source_id": source_id,
                    "uri": w.uri,
                    "fingerprint": w.fingerprint,
                    "content_hash": w.content_hash,
                    "outcome": w.outcome.value,
                    "job_id": job_id,
                    "run_id": run_id,
                    "seen_job": job_id,
                    "errors": list(w.errors),
                    "has_document": False,
                    "deleted": False,
                    "updated_at": now,
                    **fixed,
                }
                for w in sorted(group, key=lambda w: w.uri)
            ]

        key = ["source_id", "uri"]

        def body(conn: Connection) -> None:
            if documented:
                self._write_documents(conn, documented, run_id, now)
                conn.execute(
                    self._upsert(items, key, _ITEM_COLUMNS),
                    rows(documented, errors=[], has_document=True),
                )
            if state_only:
                # Unchanged by fingerprint means unread: keep the known hash, and the
                # outcome of an item skipped before (still skipped, for the same reason).
                upsert = self._upsert(
                    items, key, _STATE_COLUMNS, keep_known=_MARKERS, keep_skipped=True
                )
                conn.execute(upsert, rows(state_only))
            if rejected:
                conn.execute(self._upsert(items, key, _ITEM_COLUMNS), rows(rejected))
            if skipped:
                # The source now holds nothing to ingest there (emptied, grown over the
                # cap, now an image): a document from an earlier run is tombstoned.
                conn.execute(self._upsert(items, key, _ITEM_COLUMNS), rows(skipped))
                self._tombstone_documents(conn, source_id, [w.uri for w in skipped], now)
            if deleted:
                conn.execute(self._upsert(items, key, _STATE_COLUMNS), rows(deleted, deleted=True))
                self._tombstone_documents(conn, source_id, [w.uri for w in deleted], now)
            if linked:
                self._write_links(conn, source_id, linked, now)
            if failed:
                conn.execute(
                    failures.insert(),
                    [_failure_row(w, source_id, job_id, run_id, now) for w in failed],
                )

        self._transaction("write_batch", body, source_id=source_id)

    def _write_documents(
        self, conn: Connection, writes: list[ItemWrite], run_id: str, now: datetime
    ) -> None:
        rows: list[dict[str, Any]] = []
        chunk_rows: list[dict[str, Any]] = []
        for write in writes:
            doc = write.document
            assert doc is not None  # checked by _check_write
            rows.append(
                {
                    "id": doc.id,
                    "source": doc.source,
                    "uri": doc.uri,
                    "content_type": doc.content_type,
                    "content_hash": doc.content_hash,
                    "title": doc.title,
                    "text": doc.text,
                    "metadata": doc.metadata,
                    "run_id": run_id,
                    "updated_at": now,
                    "deleted": False,
                }
            )
            chunk_rows.extend(
                {"document_id": doc.id, "seq": c.seq, "text": c.text, "metadata": c.metadata}
                for c in doc.chunks
            )
        rows.sort(key=lambda row: str(row["id"]))
        chunk_rows.sort(key=lambda row: (str(row["document_id"]), int(row["seq"])))
        ids = [row["id"] for row in rows]
        self._refuse_id_clash(conn, rows)
        conn.execute(self._upsert(documents, ["id"], _DOCUMENT_COLUMNS), rows)
        for part in _chunked(ids):
            conn.execute(chunks.delete().where(chunks.c.document_id.in_(part)))
        if chunk_rows:
            conn.execute(chunks.insert(), chunk_rows)

    def _refuse_id_clash(self, conn: Connection, rows: list[dict[str, Any]]) -> None:
        # An upsert by id would silently move another item's document here.
        wanted = {row["id"]: (row["source"], row["uri"]) for row in rows}
        for part in _chunked(list(wanted)):
            query = select(documents.c.id, documents.c.source, documents.c.uri).where(
                documents.c.id.in_(part)
            )
            for found in conn.execute(query):
                source, uri = wanted[found.id]
                if (found.source, found.uri) != (source, uri):
                    raise StoreError(
                        f"write_batch: document id {found.id} of {uri} already belongs to "
                        f"{found.uri} in source {found.source} (store {self.url})",
                        source_id=source,
                        uri=uri,
                        retryable=False,
                    )

    def _tombstone_documents(
        self, conn: Connection, source_id: str, uris: Sequence[str], now: datetime
    ) -> None:
        for part in _chunked(uris):
            conn.execute(
                documents.update()
                .where(
                    documents.c.source == source_id,
                    documents.c.uri.in_(part),
                    documents.c.deleted == false(),
                )
                .values(deleted=True, updated_at=now)
            )

    def _write_links(
        self, conn: Connection, source_id: str, records: list[StoredLinks], now: datetime
    ) -> None:
        rows = [
            {
                "source_id": source_id,
                "url": record.url,
                "kind": record.kind,
                "fingerprint": record.fingerprint,
                "links": list(record.links),
                "updated_at": now,
            }
            for record in sorted(records, key=lambda r: r.url)
        ]
        update = ["kind", "fingerprint", "links", "updated_at"]
        conn.execute(self._upsert(crawl_links, ["source_id", "url"], update), rows)

    def save_links(self, source_id: str, records: list[StoredLinks]) -> None:
        if not records:
            return
        now = _now()
        self._transaction(
            "save_links",
            lambda conn: self._write_links(conn, source_id, records, now),
            source_id=source_id,
        )

    def iter_links(self, source_id: str) -> Iterator[StoredLinks]:
        with self._mapped("iter_links", source_id), self._read() as conn:
            rows = conn.execute(
                select(
                    crawl_links.c.url,
                    crawl_links.c.kind,
                    crawl_links.c.fingerprint,
                    crawl_links.c.links,
                )
                .where(crawl_links.c.source_id == source_id)
                .order_by(crawl_links.c.url)
            )
            for row in rows:
                # Built without validation: a large site has millions of links.
                yield StoredLinks.model_construct(
                    url=row.url, kind=row.kind, fingerprint=row.fingerprint, links=row.links or []
                )

    def count_unseen(self, source_id: str, job_id: str) -> tuple[int, int]:
        unseen = or_(items.c.seen_job.is_(None), items.c.seen_job != job_id)
        query = select(
            func.count(),
            func.coalesce(func.sum(case((unseen, 1), else_=0)), 0),
        ).where(items.c.source_id == source_id, items.c.deleted == false())
        with self._mapped("count_unseen", source_id), self._read() as conn:
            row = conn.execute(query).one()
        return int(row[1]), int(row[0])

    def mark_seen(self, source_id: str, job_id: str, uris: Iterable[str]) -> None:
        wanted = list(dict.fromkeys(uris))
        if not wanted:
            return
        wanted.sort()

        def body(conn: Connection) -> None:
            for part in _chunked(wanted):
                conn.execute(
                    items.update()
                    .where(
                        items.c.source_id == source_id,
                        items.c.uri.in_(part),
                        or_(items.c.seen_job.is_(None), items.c.seen_job != job_id),
                    )
                    .values(seen_job=job_id)
                )

        self._transaction("mark_seen", body, source_id=source_id)

    def tombstone_unseen(self, source_id: str, job_id: str, run_id: str) -> list[str]:
        now = _now()

        def body(conn: Connection) -> list[str]:
            # One statement: a row that a concurrent run of the job writes (and so
            # marks seen) meanwhile is re-checked under its lock and not tombstoned.
            uris = sorted(
                conn.scalars(
                    items.update()
                    .where(
                        items.c.source_id == source_id,
                        items.c.deleted == false(),
                        or_(items.c.seen_job.is_(None), items.c.seen_job != job_id),
                    )
                    .values(
                        deleted=True, outcome=Outcome.DELETED.value, run_id=run_id, updated_at=now
                    )
                    .returning(items.c.uri)
                )
            )
            self._tombstone_documents(conn, source_id, uris, now)
            return uris

        return self._transaction("tombstone_unseen", body, source_id=source_id)

    # -- runs -------------------------------------------------------------

    def record_run(
        self, report: RunReport, job_id: str, source_id: str, parameters: dict[str, object]
    ) -> None:
        row = {
            "run_id": report.run_id,
            "job_id": job_id,
            "source_id": source_id,
            "flow": report.flow,
            "state": report.state,
            "counts": report.counts.model_dump(mode="json"),
            # A store URL among the parameters or messages keeps no password here.
            "parameters": self._scrubbed(to_jsonable_python(parameters, fallback=str), redact),
            "report": self._scrubbed(report.model_dump(mode="json")),
            "duration_s": report.duration_s,
            "finished_at": _now(),
        }
        upsert = self._upsert(runs, ["run_id"], [k for k in row if k != "run_id"])
        self._transaction(
            "record_run", lambda conn: conn.execute(upsert, [row]), source_id=source_id
        )

    def _scrubbed(self, value: Any, urls: Callable[[str], str] = str) -> Any:
        """`value` without this store's password; `urls` also hides other URL passwords."""
        if isinstance(value, str):
            return urls(self._location.scrub(value))
        if isinstance(value, dict):
            return {k: self._scrubbed(v, urls) for k, v in value.items()}
        if isinstance(value, list):
            return [self._scrubbed(v, urls) for v in value]
        return value

    def get_run(self, run_id: str) -> StoredRun | None:
        with self._mapped("get_run"), self._read() as conn:
            row = conn.execute(select(runs).where(runs.c.run_id == run_id)).first()
        return None if row is None else _stored_run(row)

    def latest_runs(self, limit: int = 20, source_id: str | None = None) -> list[StoredRun]:
        """The most recently recorded runs, newest first."""
        query = select(runs).order_by(runs.c.finished_at.desc(), runs.c.run_id).limit(limit)
        if source_id is not None:
            query = query.where(runs.c.source_id == source_id)
        with self._mapped("latest_runs", source_id), self._read() as conn:
            return [_stored_run(row) for row in conn.execute(query)]

    def failures_for(self, run_id: str) -> list[Failure]:
        """The failures recorded by `write_batch` in a run, in insertion order."""
        with self._mapped("failures_for"), self._read() as conn:
            rows = conn.execute(
                select(failures).where(failures.c.run_id == run_id).order_by(failures.c.id)
            )
            return [
                Failure(
                    uri=r.uri,
                    stage=r.stage,
                    error_type=r.error_type,
                    message=r.message,
                    retryable=r.retryable,
                )
                for r in rows
            ]

    # -- documents and export ---------------------------------------------

    def documents_count(self, include_deleted: bool = False) -> int:
        query = select(func.count()).select_from(documents)
        if not include_deleted:
            query = query.where(documents.c.deleted == false())
        with self._mapped("documents_count"), self._read() as conn:
            return int(conn.scalar(query) or 0)

    def get_document(self, source_id: str, uri: str) -> ExportRecord | None:
        """The document of an item, deleted or not, with its chunks."""
        with self._mapped("get_document", source_id), self._read() as conn:
            row = conn.execute(
                select(documents).where(documents.c.source == source_id, documents.c.uri == uri)
            ).first()
            if row is None:
                return None
            return _records(conn, [row])[0]

    def iter_export(self, include_deleted: bool = False) -> Iterator[ExportRecord]:
        """Documents ordered by (source, uri), read in keyset pages inside one
        read transaction, so memory stays bounded by the page size."""
        with self._mapped("iter_export"), self._read() as conn:
            last: tuple[str, str] | None = None
            while True:
                query = select(documents).order_by(documents.c.source, documents.c.uri)
                if not include_deleted:
                    query = query.where(documents.c.deleted == false())
                if last is not None:
                    query = query.where(tuple_(documents.c.source, documents.c.uri) > tuple_(*last))
                page = list(conn.execute(query.limit(EXPORT_PAGE)))
                if not page:
                    return
                yield from _records(conn, page)
                last = (page[-1].source, page[-1].uri)
                if len(page) < EXPORT_PAGE:
                    return

    # -- integrity --------------------------------------------------------

    def check(self) -> list[IntegrityProblem]:
        problems: list[IntegrityProblem] = []
        with self._mapped("check"), self._read() as conn:
            version = read_schema_version(conn)
            if version != SCHEMA_VERSION:
                problems.append(
                    IntegrityProblem(
                        code="schema_version",
                        message=f"schema version is {version}, expected {SCHEMA_VERSION}",
                    )
                )
                return problems

            orphans = (
                select(chunks.c.document_id)
                .distinct()
                .select_from(chunks.outerjoin(documents, documents.c.id == chunks.c.document_id))
                .where(documents.c.id.is_(None))
            )
            _collect(conn, problems, "orphan_chunks", "documents missing for chunks", orphans)

            unowned = (
                select(documents.c.source, documents.c.uri)
                .select_from(
                    documents.outerjoin(
                        items,
                        and_(
                            items.c.source_id == documents.c.source, items.c.uri == documents.c.uri
                        ),
                    )
                )
                .where(items.c.uri.is_(None))
            )
            _collect(conn, problems, "document_without_item", "documents without item", unowned)

            missing = (
                select(items.c.source_id, items.c.uri)
                .select_from(
                    items.outerjoin(
                        documents,
                        and_(
                            items.c.source_id == documents.c.source, items.c.uri == documents.c.uri
                        ),
                    )
                )
                .where(
                    items.c.deleted == false(),
                    items.c.has_document == true(),
                    items.c.outcome.in_([o.value for o in _LIVE_WITH_DOCUMENT]),
                    or_(documents.c.id.is_(None), documents.c.deleted == true()),
                )
            )
            _collect(
                conn,
                problems,
                "item_without_document",
                "live items missing their document",
                missing,
            )

            duplicates = (
                select(documents.c.source, documents.c.uri)
                .group_by(documents.c.source, documents.c.uri)
                .having(func.count() > 1)
            )
            _collect(conn, problems, "duplicate_document", "duplicate documents", duplicates)

            gaps = (
                select(chunks.c.document_id)
                .group_by(chunks.c.document_id)
                .having(
                    or_(
                        func.min(chunks.c.seq) != 0,
                        func.max(chunks.c.seq) != func.count() - 1,
                    )
                )
            )
            _collect(
                conn, problems, "chunk_seq_gap", "documents whose chunk seq is not 0..n-1", gaps
            )
        return problems


_ITEM_COLUMNS = [
    "fingerprint",
    "content_hash",
    "outcome",
    "job_id",
    "run_id",
    "seen_job",
    "errors",
    "has_document",
    "deleted",
    "updated_at",
]
_STATE_COLUMNS = ["outcome", "job_id", "run_id", "seen_job", "deleted", "updated_at"]
_MARKERS = ["fingerprint", "content_hash"]
_DOCUMENT_COLUMNS = [
    "content_type",
    "content_hash",
    "title",
    "text",
    "metadata",
    "run_id",
    "updated_at",
    "deleted",
]


def _lock_key(*parts: str) -> int:
    """A stable signed 64-bit key for a PostgreSQL advisory lock."""
    digest = hashlib.blake2b("\x1f".join(parts).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def _check_write(source_id: str, write: ItemWrite) -> None:
    doc = write.document
    if doc is None or write.outcome not in _DOCUMENTED:
        return
    if (doc.source, doc.uri) != (source_id, write.uri):
        raise StoreError(
            f"write_batch: document ({doc.source}, {doc.uri}) does not match the item",
            source_id=source_id,
            uri=write.uri,
            retryable=False,
        )


def _failure_row(
    write: ItemWrite, source_id: str, job_id: str, run_id: str, now: datetime
) -> dict[str, Any]:
    failure = write.failure or Failure(
        uri=write.uri, stage="unknown", error_type="UnknownError", message="failed, no details"
    )
    return {
        "run_id": run_id,
        "job_id": job_id,
        "source_id": source_id,
        "uri": write.uri,
        "stage": failure.stage,
        "error_type": failure.error_type,
        "message": failure.message,
        "retryable": failure.retryable,
        "created_at": now,
    }


def _stored_state(row: AnyRow) -> StoredState:
    return StoredState(
        uri=row.uri,
        fingerprint=row.fingerprint,
        content_hash=row.content_hash,
        outcome=Outcome(row.outcome),
        job_id=row.job_id,
        deleted=bool(row.deleted),
        errors=list(row.errors or []),
    )


def _stored_run(row: AnyRow) -> StoredRun:
    return StoredRun(
        report=RunReport.model_validate(row.report),
        job_id=row.job_id,
        source_id=row.source_id,
        parameters=row.parameters,
        finished_at=row.finished_at,
    )


def _records(conn: Connection, page: Sequence[AnyRow]) -> list[ExportRecord]:
    by_doc: dict[str, list[Chunk]] = {row.id: [] for row in page}
    ids = list(by_doc)
    for part in _chunked(ids):
        rows = conn.execute(
            select(chunks.c.document_id, chunks.c.seq, chunks.c.text, chunks.c["metadata"])
            .where(chunks.c.document_id.in_(part))
            .order_by(chunks.c.document_id, chunks.c.seq)
        )
        for c in rows:
            by_doc[c.document_id].append(Chunk(seq=c.seq, text=c.text, metadata=c.metadata))
    return [
        ExportRecord(
            id=row.id,
            source=row.source,
            uri=row.uri,
            content_type=row.content_type,
            content_hash=row.content_hash,
            title=row.title,
            text=row.text,
            metadata=row.metadata,
            chunks=by_doc[row.id],
            run_id=row.run_id,
            updated_at=row.updated_at,
            deleted=bool(row.deleted),
        )
        for row in page
    ]


def _collect(
    conn: Connection,
    problems: list[IntegrityProblem],
    code: str,
    what: str,
    query: Any,
) -> None:
    total = conn.scalar(select(func.count()).select_from(query.subquery()))
    if not total:
        return
    examples = [" / ".join(str(v) for v in row) for row in conn.execute(query.limit(_EXAMPLES))]
    more = f" and {total - len(examples)} more" if total > len(examples) else ""
    problems.append(
        IntegrityProblem(code=code, message=f"{total} {what}: {', '.join(examples)}{more}")
    )
