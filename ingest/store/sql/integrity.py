"""`ingest check`: the store's integrity, as named checks that each count the rows
breaking one rule and show a few of them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Select, and_, false, func, or_, select, true

from ..base import IntegrityProblem
from ..schema import SCHEMA_VERSION, chunks, documents, items, read_schema_version
from .statements import LIVE_WITH_DOCUMENT

_EXAMPLES = 5
_SAME_ITEM = and_(items.c.source_id == documents.c.source, items.c.uri == documents.c.uri)


@dataclass(frozen=True)
class Check:
    """One rule: `query` selects the rows that break it, `what` names them."""

    code: str
    what: str
    query: Callable[[], Select[Any]]


def orphan_chunks() -> Select[Any]:
    return (
        select(chunks.c.document_id)
        .distinct()
        .select_from(chunks.outerjoin(documents, documents.c.id == chunks.c.document_id))
        .where(documents.c.id.is_(None))
    )


def documents_without_item() -> Select[Any]:
    return (
        select(documents.c.source, documents.c.uri)
        .select_from(documents.outerjoin(items, _SAME_ITEM))
        .where(items.c.uri.is_(None))
    )


def items_without_document() -> Select[Any]:
    return (
        select(items.c.source_id, items.c.uri)
        .select_from(items.outerjoin(documents, _SAME_ITEM))
        .where(
            items.c.deleted == false(),
            items.c.has_document == true(),
            items.c.outcome.in_([o.value for o in LIVE_WITH_DOCUMENT]),
            or_(documents.c.id.is_(None), documents.c.deleted == true()),
        )
    )


def duplicate_documents() -> Select[Any]:
    return (
        select(documents.c.source, documents.c.uri)
        .group_by(documents.c.source, documents.c.uri)
        .having(func.count() > 1)
    )


def chunk_seq_gaps() -> Select[Any]:
    return (
        select(chunks.c.document_id)
        .group_by(chunks.c.document_id)
        .having(
            or_(
                func.min(chunks.c.seq) != 0,
                func.max(chunks.c.seq) != func.count() - 1,
            )
        )
    )


CHECKS = (
    Check("orphan_chunks", "documents missing for chunks", orphan_chunks),
    Check("document_without_item", "documents without item", documents_without_item),
    Check("item_without_document", "live items missing their document", items_without_document),
    Check("duplicate_document", "duplicate documents", duplicate_documents),
    Check("chunk_seq_gap", "documents whose chunk seq is not 0..n-1", chunk_seq_gaps),
)


def check(conn: Connection) -> list[IntegrityProblem]:
    """Every problem found; a schema of another version is the only one reported."""
    version = read_schema_version(conn)
    if version != SCHEMA_VERSION:
        message = f"schema version is {version}, expected {SCHEMA_VERSION}"
        return [IntegrityProblem(code="schema_version", message=message)]
    found = (_problem(conn, rule) for rule in CHECKS)
    return [problem for problem in found if problem is not None]


def _problem(conn: Connection, rule: Check) -> IntegrityProblem | None:
    query = rule.query()
    total = conn.scalar(select(func.count()).select_from(query.subquery()))
    if not total:
        return None
    examples = [" / ".join(str(v) for v in row) for row in conn.execute(query.limit(_EXAMPLES))]
    more = f" and {total - len(examples)} more" if total > len(examples) else ""
    return IntegrityProblem(
        code=rule.code, message=f"{total} {rule.what}: {', '.join(examples)}{more}"
    )
