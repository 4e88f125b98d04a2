"""Helpers for the validator tests: FetchedContent built from bytes as the fetch step does."""

from __future__ import annotations

from ingest.decoding import decode_bytes
from ingest.models import FetchedContent, SourceItem, ValidationIssue, content_hash


def content(
    data: bytes | str, content_type: str = "text/plain", path: str = "doc.txt"
) -> FetchedContent:
    raw = data.encode() if isinstance(data, str) else data
    decoded = decode_bytes(raw)
    return FetchedContent(
        item=SourceItem(source_id="test", uri=f"file:///corpus/{path}", path=path, size=len(raw)),
        data=raw,
        content_type=content_type,
        content_hash=content_hash(raw),
        text=decoded.text,
        encoding=decoded.encoding,
        is_binary=decoded.is_binary,
    )


def codes(issues: list[ValidationIssue]) -> list[str]:
    return [issue.code for issue in issues]


def only(issues: list[ValidationIssue], code: str) -> list[ValidationIssue]:
    return [issue for issue in issues if issue.code == code]
