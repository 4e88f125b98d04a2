"""Writes of item state: a batch of outcomes with their documents, chunks, links
and failures in one transaction; seen marks; tombstones."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, false, or_, select

from ...errors import StoreError
from ...models import Failure, Outcome
from ..base import ItemWrite, StoredLinks
from ..engine import json_serializer, without_nul
from ..schema import chunks, documents, failures, items
from .links import write_links
from .statements import DOCUMENTED, chunked, now, upsert

_KEY = ["source_id", "uri"]
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
    "processor",
]


_PG_CHUNK_INSERT = (
    "INSERT INTO chunks (document_id, seq, text, metadata) VALUES (%s, %s, %s, %s::jsonb)"
)
_SQLITE_CHUNK_INSERT = "INSERT INTO chunks (document_id, seq, text, metadata) VALUES (?, ?, ?, ?)"


@dataclass(frozen=True)
class Batch:
    """One `write_batch` call, its writes grouped by what their outcome stores."""

    source_id: str
    job_id: str
    run_id: str
    now: datetime
    documented: list[ItemWrite]
    state_only: list[ItemWrite]
    rejected: list[ItemWrite]
    skipped: list[ItemWrite]
    deleted: list[ItemWrite]
    linked: list[StoredLinks]
    failed: list[ItemWrite]

    def rows(self, group: list[ItemWrite], **fixed: Any) -> list[dict[str, Any]]:
        """Item rows in key order, so that concurrent writers lock rows in one order."""
        return [
            {
                "source_id": self.source_id,
                "uri": w.uri,
                "fingerprint": w.fingerprint,
                "content_hash": w.content_hash,
                "outcome": w.outcome.value,
                "job_id": self.job_id,
                "run_id": self.run_id,
                "seen_job": self.job_id,
                "errors": list(w.errors),
                "has_document": False,
                "deleted": False,
                "updated_at": self.now,
                **fixed,
            }
            for w in sorted(group, key=lambda w: w.uri)
        ]


def plan_batch(source_id: str, job_id: str, run_id: str, writes: list[ItemWrite]) -> Batch | None:
    """The batch grouped by outcome, None when it writes nothing; a document that
    does not belong to its item is refused before anything is written."""
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
        return None
    latest = list(states.values())
    return Batch(
        source_id=source_id,
        job_id=job_id,
        run_id=run_id,
        now=now(),
        documented=[w for w in latest if w.outcome in DOCUMENTED and w.document is not None],
        # Unchanged items, and new/updated ones replayed without their document by a
        # later run of the same job, update the item state only.
        state_only=[
            w
            for w in latest
            if w.outcome is Outcome.UNCHANGED or (w.outcome in DOCUMENTED and w.document is None)
        ],
        rejected=[w for w in latest if w.outcome is Outcome.REJECTED],
        skipped=[w for w in latest if w.outcome is Outcome.SKIPPED],
        deleted=[w for w in latest if w.outcome is Outcome.DELETED],
        linked=[
            StoredLinks(url=w.uri, kind="page", fingerprint=w.fingerprint, links=w.links)
            for w in latest
            if w.links is not None and w.outcome is not Outcome.DELETED
        ],
        failed=failed,
    )


def write_batch(conn: Connection, batch: Batch, where: str) -> None:
    """Store every group of the batch; `where` names the store in errors."""
    source_id, now = batch.source_id, batch.now
    if batch.documented:
        _write_documents(conn, batch.documented, batch.run_id, now, where)
        conn.execute(
            upsert(conn, items, _KEY, _ITEM_COLUMNS),
            batch.rows(batch.documented, errors=[], has_document=True),
        )
    if batch.state_only:
        # Unchanged by fingerprint means unread: keep the known hash, and the
        # outcome of an item skipped before (still skipped, for the same reason).
        keep = upsert(conn, items, _KEY, _STATE_COLUMNS, keep_known=_MARKERS, keep_skipped=True)
        conn.execute(keep, batch.rows(batch.state_only))
    if batch.rejected:
        conn.execute(upsert(conn, items, _KEY, _ITEM_COLUMNS), batch.rows(batch.rejected))
    if batch.skipped:
        # The source now holds nothing to ingest there (emptied, grown over the
        # cap, now an image): a document from an earlier run is tombstoned.
        conn.execute(upsert(conn, items, _KEY, _ITEM_COLUMNS), batch.rows(batch.skipped))
        tombstone_documents(conn, source_id, [w.uri for w in batch.skipped], now)
    if batch.deleted:
        deleted_rows = batch.rows(batch.deleted, deleted=True)
        conn.execute(upsert(conn, items, _KEY, _STATE_COLUMNS), deleted_rows)
        tombstone_documents(conn, source_id, [w.uri for w in batch.deleted], now)
    if batch.linked:
        write_links(conn, source_id, batch.linked, now)
    if batch.failed:
        conn.execute(
            failures.insert(),
            [_failure_row(w, batch) for w in batch.failed],
        )


def _write_documents(
    conn: Connection, writes: list[ItemWrite], run_id: str, now: datetime, where: str
) -> None:
    rows: list[dict[str, Any]] = []
    chunk_rows: list[tuple[str, int, str, Any]] = []
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
                "processor": write.processor,
            }
        )
        chunk_rows.extend((doc.id, c.seq, c.text, c.metadata) for c in doc.chunks)
    rows.sort(key=lambda row: str(row["id"]))
    chunk_rows.sort(key=lambda row: (row[0], row[1]))
    ids = [row["id"] for row in rows]
    _refuse_id_clash(conn, rows, where)
    conn.execute(upsert(conn, documents, ["id"], _DOCUMENT_COLUMNS), rows)
    for part in chunked(ids):
        conn.execute(chunks.delete().where(chunks.c.document_id.in_(part)))
    if chunk_rows:
        _insert_chunks(conn, chunk_rows)


def _insert_chunks(conn: Connection, rows: list[tuple[str, int, str, Any]]) -> None:
    """One plain `executemany` on the driver, in the batch's transaction: for thousands
    of chunk rows, SQLAlchemy's per-row parameter processing cost more than the insert.
    The values are what the column types would bind (NUL-free text on PostgreSQL)."""
    dialect = conn.dialect.name
    to_json = json_serializer(dialect)
    if dialect == "postgresql":
        sql = _PG_CHUNK_INSERT
        params = [(i, seq, without_nul(text), to_json(meta)) for i, seq, text, meta in rows]
    else:
        sql = _SQLITE_CHUNK_INSERT
        params = [(i, seq, text, to_json(meta)) for i, seq, text, meta in rows]
    conn.exec_driver_sql(sql, params)


def _refuse_id_clash(conn: Connection, rows: list[dict[str, Any]], where: str) -> None:
    # An upsert by id would silently move another item's document here.
    wanted = {row["id"]: (row["source"], row["uri"]) for row in rows}
    for part in chunked(list(wanted)):
        query = select(documents.c.id, documents.c.source, documents.c.uri).where(
            documents.c.id.in_(part)
        )
        for found in conn.execute(query):
            source, uri = wanted[found.id]
            if (found.source, found.uri) != (source, uri):
                raise StoreError(
                    f"write_batch: document id {found.id} of {uri} already belongs to "
                    f"{found.uri} in source {found.source} (store {where})",
                    source_id=source,
                    uri=uri,
                    retryable=False,
                )


def tombstone_documents(
    conn: Connection, source_id: str, uris: Sequence[str], now: datetime
) -> None:
    for part in chunked(uris):
        conn.execute(
            documents.update()
            .where(
                documents.c.source == source_id,
                documents.c.uri.in_(part),
                documents.c.deleted == false(),
            )
            .values(deleted=True, updated_at=now)
        )


def mark_seen(conn: Connection, source_id: str, job_id: str, uris: Sequence[str]) -> None:
    """Mark `uris` (sorted, so writers lock in one order) seen by the job."""
    for part in chunked(uris):
        conn.execute(
            items.update()
            .where(
                items.c.source_id == source_id,
                items.c.uri.in_(part),
                or_(items.c.seen_job.is_(None), items.c.seen_job != job_id),
            )
            .values(seen_job=job_id)
        )


def tombstone_unseen(
    conn: Connection, source_id: str, job_id: str, run_id: str, now: datetime
) -> list[str]:
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
            .values(deleted=True, outcome=Outcome.DELETED.value, run_id=run_id, updated_at=now)
            .returning(items.c.uri)
        )
    )
    tombstone_documents(conn, source_id, uris, now)
    return uris


def _check_write(source_id: str, write: ItemWrite) -> None:
    doc = write.document
    if doc is None or write.outcome not in DOCUMENTED:
        return
    if (doc.source, doc.uri) != (source_id, write.uri):
        raise StoreError(
            f"write_batch: document ({doc.source}, {doc.uri}) does not match the item",
            source_id=source_id,
            uri=write.uri,
            retryable=False,
        )


def _failure_row(write: ItemWrite, batch: Batch) -> dict[str, Any]:
    failure = write.failure or Failure(
        uri=write.uri, stage="unknown", error_type="UnknownError", message="failed, no details"
    )
    return {
        "run_id": batch.run_id,
        "job_id": batch.job_id,
        "source_id": batch.source_id,
        "uri": write.uri,
        "stage": failure.stage,
        "error_type": failure.error_type,
        "message": failure.message,
        "retryable": failure.retryable,
        "created_at": batch.now,
    }
