"""Plain text: cleaned lines, chunks packed from paragraphs."""

from __future__ import annotations

from typing import ClassVar

from ..chunking import ChunkList, LineIndex, clean_lines, is_blank, split_text
from ..content_types import TEXT
from ..models import FetchedContent, ProcessedDocument
from ._common import build_document, require_text, short_title
from .base import ChunkPolicy


class TextProcessor:
    """Plain text, and the fallback for every other `text/*` type."""

    name: ClassVar[str] = "text"
    version: ClassVar[str] = "1"
    content_types: ClassVar[tuple[str, ...]] = (TEXT, "text/*")

    def process(self, content: FetchedContent, policy: ChunkPolicy) -> ProcessedDocument:
        text = clean_lines(require_text(content, self.name)).rstrip("\n")
        index = LineIndex(text)
        chunks = ChunkList(content.item.uri, content.content_type)
        for piece, start in split_text(text, policy):
            start_line, end_line = index.lines_of(start, start + len(piece))
            chunks.add(piece, start_line=start_line, end_line=end_line)
        first = next((line for line in text.split("\n") if not is_blank(line)), None)
        return build_document(
            content,
            text=text,
            title=short_title(first),
            metadata={"line_count": text.count("\n") + 1 if text else 0},
            chunks=chunks.chunks,
        )
