"""Helpers shared by the built-in processors: text access, titles, building documents."""

from __future__ import annotations

import datetime as dt
from typing import Any

from ..errors import ProcessingError
from ..models import Chunk, FetchedContent, ProcessedDocument, document_id

TITLE_MAX_CHARS = 120


def require_text(content: FetchedContent, processor_id: str) -> str:
    if content.text is None:
        raise ProcessingError(
            "content is not decoded text", uri=content.item.uri, processor_id=processor_id
        )
    return content.text


def fail(content: FetchedContent, processor_id: str, reason: str) -> ProcessingError:
    return ProcessingError(reason, uri=content.item.uri, processor_id=processor_id)


def short_title(line: str | None) -> str | None:
    """A cleaned line if it is short enough to be a title."""
    if line is None:
        return None
    title = " ".join(line.split())
    return title if title and len(title) <= TITLE_MAX_CHARS else None


def file_name(content: FetchedContent) -> str:
    item = content.item
    if item.path:
        return item.path.rstrip("/").rsplit("/", 1)[-1]
    return item.uri.split("?", 1)[0].split("#", 1)[0].rstrip("/").rsplit("/", 1)[-1]


def build_document(
    content: FetchedContent,
    *,
    text: str,
    title: str | None,
    metadata: dict[str, Any],
    chunks: list[Chunk],
) -> ProcessedDocument:
    item = content.item
    return ProcessedDocument(
        id=document_id(item.source_id, item.uri),
        source=item.source_id,
        uri=item.uri,
        content_type=content.content_type,
        content_hash=content.content_hash,
        title=title,
        text=text,
        metadata=metadata,
        chunks=chunks,
    )


def jsonable(value: Any, budget: list[int]) -> Any:
    """A JSON-safe copy of parsed data (YAML front matter); `budget` caps the node
    count, so alias-heavy YAML cannot blow up into a huge structure."""
    budget[0] -= 1
    if budget[0] < 0:
        raise ValueError("structure too large")
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, dt.date | dt.datetime | dt.time):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(key): jsonable(item, budget) for key, item in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [jsonable(item, budget) for item in value]
    return str(value)
