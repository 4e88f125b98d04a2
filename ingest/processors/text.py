"""Plain text: cleaned lines, chunks packed from paragraphs, with an optional overlap."""

from __future__ import annotations

from typing import Any, ClassVar

from ..chunking import ChunkList, LineIndex, clean_lines, is_blank, split_text, with_overlap
from ..content_types import TEXT
from ..models import FetchedContent, ProcessedDocument
from ._common import build_document, require_text, short_title
from .base import ChunkPolicy


class TextProcessor:
    """Plain text, and the fallback for every other `text/*` type.

    With `policy.overlap_chars`, every chunk carries `overlap_chars` in its metadata:
    the length of its prefix that repeats the end of the previous chunk (0 on the
    first), so `chunk.text[overlap_chars:]` are the chunk's own characters.
    """

    name: ClassVar[str] = "text"
    version: ClassVar[str] = "3"  # 3: fixed-format chunk ids; 2: token limits, overlap
    content_types: ClassVar[tuple[str, ...]] = (TEXT, "text/*")

    def process(self, content: FetchedContent, policy: ChunkPolicy) -> ProcessedDocument:
        text = clean_lines(require_text(content, self.name)).rstrip("\n")
        index = LineIndex(text)
        chunks = ChunkList(content.item.uri, content.content_type)
        pieces = split_text(text, policy)
        for chunk, start, overlap in with_overlap(text, pieces, policy):
            start_line, end_line = index.lines_of(start, start + len(chunk))
            extra: dict[str, Any] | None = None
            if policy.overlap_chars:
                extra = {"overlap_chars": overlap}
            chunks.add(chunk, extra, start_line=start_line, end_line=end_line)
        first = next((line for line in text.split("\n") if not is_blank(line)), None)
        return build_document(
            content,
            text=text,
            title=short_title(first),
            metadata={"line_count": text.count("\n") + 1 if text else 0},
            chunks=chunks.chunks,
        )
