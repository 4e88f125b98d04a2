"""Reads of item state: what the store knows of each uri of a source, and how
many live items a job has not seen."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING

from sqlalchemy import Connection, and_, case, false, func, or_, select

from ...models import Outcome
from ..base import StoredState
from ..schema import documents, items
from .statements import chunked

if TYPE_CHECKING:
    from .statements import AnyRow

_STATE = select(
    items.c.uri,
    items.c.fingerprint,
    items.c.content_hash,
    items.c.outcome,
    items.c.job_id,
    items.c.deleted,
    items.c.errors,
    items.c.has_document,
    documents.c.content_type,
    documents.c.processor,
).select_from(
    items.outerjoin(
        documents, and_(documents.c.source == items.c.source_id, documents.c.uri == items.c.uri)
    )
)


def lookup(conn: Connection, source_id: str, uris: Iterable[str]) -> dict[str, StoredState]:
    wanted = list(dict.fromkeys(uris))
    found: dict[str, StoredState] = {}
    for part in chunked(wanted):
        rows = conn.execute(_STATE.where(items.c.source_id == source_id, items.c.uri.in_(part)))
        for row in rows:
            found[row.uri] = _stored_state(row)
    return found


def iter_items(conn: Connection, source_id: str) -> Iterator[StoredState]:
    """Every item of the source, deleted ones included, ordered by uri."""
    rows = conn.execute(_STATE.where(items.c.source_id == source_id).order_by(items.c.uri))
    for row in rows:
        yield _stored_state(row)


def count_unseen(conn: Connection, source_id: str, job_id: str) -> tuple[int, int]:
    """(live items the job has not seen, live items) of the source."""
    unseen = or_(items.c.seen_job.is_(None), items.c.seen_job != job_id)
    query = select(
        func.count(),
        func.coalesce(func.sum(case((unseen, 1), else_=0)), 0),
    ).where(items.c.source_id == source_id, items.c.deleted == false())
    row = conn.execute(query).one()
    return int(row[1]), int(row[0])


def _stored_state(row: AnyRow) -> StoredState:
    return StoredState(
        uri=row.uri,
        fingerprint=row.fingerprint,
        content_hash=row.content_hash,
        outcome=Outcome(row.outcome),
        job_id=row.job_id,
        deleted=bool(row.deleted),
        errors=list(row.errors or []),
        has_document=bool(row.has_document),
        content_type=row.content_type if row.has_document else None,
        processor=row.processor if row.has_document else None,
    )
