"""Reads of stored documents with their chunks: one document, a count, and the
export in keyset pages."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING

from sqlalchemy import Connection, false, func, select, tuple_

from ...models import Chunk, ExportRecord
from ..schema import chunks, documents
from .statements import chunked

if TYPE_CHECKING:
    from .statements import AnyRow

EXPORT_PAGE = 500


def documents_count(conn: Connection, include_deleted: bool) -> int:
    query = select(func.count()).select_from(documents)
    if not include_deleted:
        query = query.where(documents.c.deleted == false())
    return int(conn.scalar(query) or 0)


def get_document(conn: Connection, source_id: str, uri: str) -> ExportRecord | None:
    """The document of an item, deleted or not, with its chunks."""
    row = conn.execute(
        select(documents).where(documents.c.source == source_id, documents.c.uri == uri)
    ).first()
    if row is None:
        return None
    return _records(conn, [row])[0]


def iter_export(conn: Connection, include_deleted: bool) -> Iterator[ExportRecord]:
    """Documents ordered by (source, uri), read in keyset pages, so memory stays
    bounded by the page size (one snapshot when `conn` is one read transaction)."""
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


def _records(conn: Connection, page: Sequence[AnyRow]) -> list[ExportRecord]:
    by_doc: dict[str, list[Chunk]] = {row.id: [] for row in page}
    ids = list(by_doc)
    for part in chunked(ids):
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
