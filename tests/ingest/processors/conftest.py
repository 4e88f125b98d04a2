"""Builds `FetchedContent` the way the fetch stage does: bytes, then decoding."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from ingest.decoding import Decoded, decode_bytes
from ingest.models import FetchedContent, SourceItem, content_hash

MakeContent = Callable[..., FetchedContent]


def fetched(
    data: bytes | str, content_type: str, path: str = "doc.txt", *, decode: bool = True
) -> FetchedContent:
    """Bytes are decoded like the fetch stage does; with `decode=False` a str is
    taken as the decoded text even where the detector would call it binary."""
    raw = data.encode("utf-8") if isinstance(data, str) else data
    decoded = decode_bytes(raw)
    if not decode and isinstance(data, str):
        decoded = Decoded(data, "utf-8", False)
    return FetchedContent(
        item=SourceItem(source_id="test", uri=f"file:///root/{path}", path=path),
        data=raw,
        content_type=content_type,
        content_hash=content_hash(raw),
        text=decoded.text,
        encoding=decoded.encoding,
        is_binary=decoded.is_binary,
    )


@pytest.fixture(scope="session")
def make_content() -> MakeContent:
    """`make_content(data, content_type, path="doc.txt", decode=True)`; session-scoped so that
    hypothesis tests may use it."""
    return fetched
