"""`SqlStore`: the `Store` on SQLAlchemy Core, for SQLite now and PostgreSQL by URL.

This module owns the engine, the connections, the write transactions (retried
after a lost deadlock) and the mapping of database errors; the SQL of each job
lives beside it: `writes`, `items`, `links`, `runs`, `documents`, `integrity`."""

from __future__ import annotations

import itertools
import os
import random
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from sqlalchemy import Connection
from sqlalchemy.exc import SQLAlchemyError

from ...errors import StoreError
from ...models import ExportRecord, Failure, RunReport
from ..base import IntegrityProblem, ItemWrite, Store, StoredLinks, StoredState
from ..engine import WRITE, build_engine, is_conflict, store_error
from ..schema import SCHEMA_VERSION, ensure_schema, read_schema_version
from ..urls import StoreLocation
from . import documents, integrity, items, links, runs
from . import writes as writes_module
from .runs import StoredRun
from .statements import now

# Attempts of a write transaction that a concurrent writer deadlocked (PostgreSQL).
CONFLICT_ATTEMPTS = 5
T = TypeVar("T")


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

    # -- jobs -------------------------------------------------------------

    def begin_job(self, source_id: str, job_key: str) -> str:
        return self._transaction(
            "begin_job", lambda conn: runs.begin_job(conn, source_id, job_key), source_id=source_id
        )

    def finish_job(self, job_id: str) -> None:
        """Mark the job finished; finishing it again keeps the first time."""
        self._transaction("finish_job", lambda conn: runs.finish_job(conn, job_id, self.url))

    # -- item state -------------------------------------------------------

    def lookup(self, source_id: str, uris: Iterable[str]) -> dict[str, StoredState]:
        with self._mapped("lookup", source_id), self._read() as conn:
            return items.lookup(conn, source_id, uris)

    def iter_items(self, source_id: str) -> Iterator[StoredState]:
        """Every item of the source, deleted ones included, ordered by uri."""
        with self._mapped("iter_items", source_id), self._read() as conn:
            yield from items.iter_items(conn, source_id)

    def write_batch(
        self, source_id: str, job_id: str, run_id: str, writes: list[ItemWrite]
    ) -> None:
        batch = writes_module.plan_batch(source_id, job_id, run_id, writes)
        if batch is None:
            return
        self._transaction(
            "write_batch",
            lambda conn: writes_module.write_batch(conn, batch, self.url),
            source_id=source_id,
        )

    def save_links(self, source_id: str, records: list[StoredLinks]) -> None:
        if not records:
            return
        at = now()
        self._transaction(
            "save_links",
            lambda conn: links.write_links(conn, source_id, records, at),
            source_id=source_id,
        )

    def iter_links(self, source_id: str) -> Iterator[StoredLinks]:
        with self._mapped("iter_links", source_id), self._read() as conn:
            yield from links.iter_links(conn, source_id)

    def count_unseen(self, source_id: str, job_id: str) -> tuple[int, int]:
        with self._mapped("count_unseen", source_id), self._read() as conn:
            return items.count_unseen(conn, source_id, job_id)

    def mark_seen(self, source_id: str, job_id: str, uris: Iterable[str]) -> None:
        wanted = sorted(dict.fromkeys(uris))
        if not wanted:
            return
        self._transaction(
            "mark_seen",
            lambda conn: writes_module.mark_seen(conn, source_id, job_id, wanted),
            source_id=source_id,
        )

    def tombstone_unseen(self, source_id: str, job_id: str, run_id: str) -> list[str]:
        at = now()
        return self._transaction(
            "tombstone_unseen",
            lambda conn: writes_module.tombstone_unseen(conn, source_id, job_id, run_id, at),
            source_id=source_id,
        )

    # -- runs -------------------------------------------------------------

    def record_run(
        self, report: RunReport, job_id: str, source_id: str, parameters: dict[str, object]
    ) -> None:
        row = runs.run_row(report, job_id, source_id, parameters, self._location.scrub)
        self._transaction("record_run", lambda conn: runs.save_run(conn, row), source_id=source_id)

    def get_run(self, run_id: str) -> StoredRun | None:
        with self._mapped("get_run"), self._read() as conn:
            return runs.get_run(conn, run_id)

    def latest_runs(self, limit: int = 20, source_id: str | None = None) -> list[StoredRun]:
        """The most recently recorded runs, newest first."""
        with self._mapped("latest_runs", source_id), self._read() as conn:
            return runs.latest_runs(conn, limit, source_id)

    def failures_for(self, run_id: str) -> list[Failure]:
        """The failures recorded by `write_batch` in a run, in insertion order."""
        with self._mapped("failures_for"), self._read() as conn:
            return runs.failures_for(conn, run_id)

    # -- documents and export ---------------------------------------------

    def documents_count(self, include_deleted: bool = False) -> int:
        with self._mapped("documents_count"), self._read() as conn:
            return documents.documents_count(conn, include_deleted)

    def get_document(self, source_id: str, uri: str) -> ExportRecord | None:
        """The document of an item, deleted or not, with its chunks."""
        with self._mapped("get_document", source_id), self._read() as conn:
            return documents.get_document(conn, source_id, uri)

    def iter_export(self, include_deleted: bool = False) -> Iterator[ExportRecord]:
        """Documents ordered by (source, uri), read in keyset pages inside one
        read transaction, so memory stays bounded by the page size."""
        with self._mapped("iter_export"), self._read() as conn:
            yield from documents.iter_export(conn, include_deleted)

    # -- integrity --------------------------------------------------------

    def check(self) -> list[IntegrityProblem]:
        with self._mapped("check"), self._read() as conn:
            return integrity.check(conn)
